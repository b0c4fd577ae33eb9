import CommandLineSupport
import Foundation
import Glibc
import Synchronization

/// A child process of `ordertrace up`: its output written line by line to its log file and, when
/// `echo` says so for a line, to the terminal with its name in front; SIGTERM to stop it, and its
/// exit awaited without blocking a thread.
final class ChildProcess: Sendable {
    let name: String
    private let process: Process
    private let exit = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    /// Sees every line of the child's output (after it is relayed).
    private let onLine: @Sendable (Substring) -> Void
    /// Whether a line goes to the terminal too.
    private let echo: @Sendable (Substring) -> Bool
    /// Where every line goes, if anywhere.
    private let logFile: FileHandle?

    init(
        name: String, executable: String, arguments: [String], environment: [String: String], logFile: FileHandle? = nil,
        echo: @escaping @Sendable (Substring) -> Bool = { _ in true }, onLine: @escaping @Sendable (Substring) -> Void = { _ in }
    ) {
        self.name = name
        self.onLine = onLine
        self.echo = echo
        self.logFile = logFile
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
    }

    func start() throws {
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let prefix = "[\(name)] "
        let onLine = self.onLine
        let echo = self.echo
        let logFile = self.logFile
        @Sendable func relay(_ lines: [String]) {
            if let logFile, !lines.isEmpty {
                try? logFile.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
            }
            for line in lines {
                if echo(line[...]) { say(prefix + line) }
                onLine(line[...])
            }
        }
        // A thread of its own reads the pipe with blocking reads until the child closes it. Not
        // FileHandle's readabilityHandler: its dispatch source can outlive the descriptor it
        // watches, and libdispatch then crashes the supervisor while children stop.
        let reading = pipe.fileHandleForReading
        let reader = Thread {
            let descriptor = reading.fileDescriptor
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            var buffer: [UInt8] = []
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                buffer += chunk[..<count]
                var lines: [String] = []
                var start = buffer.startIndex
                while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: buffer[start..<newline], as: UTF8.self))
                    start = newline + 1
                }
                buffer.removeSubrange(..<start)
                relay(lines)
            }
            // The last words of a child that ended without a newline.
            if !buffer.isEmpty { relay([String(decoding: buffer, as: UTF8.self)]) }
            try? reading.close()
        }
        reader.name = "output of \(name)"
        process.terminationHandler = { [self] process in
            let waiters = exit.withLock { state in
                state.status = process.terminationStatus
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: process.terminationStatus) }
        }
        try process.run()
        reader.start()
    }

    var processIdentifier: Int32 { process.processIdentifier }

    /// Asks the process to stop (SIGTERM); it flushes and exits.
    func terminate() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGTERM) }
    }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    /// Waits for the process to exit; returns its status.
    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = exit.withLock { state -> Int32? in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// The status, once it exited.
    var exitStatus: Int32? { exit.withLock { $0.status } }
}
