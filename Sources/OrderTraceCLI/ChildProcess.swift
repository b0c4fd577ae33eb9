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
        let pending = Mutex<[UInt8]>([])
        let onLine = self.onLine
        let echo = self.echo
        let logFile = self.logFile
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            let lines: [String] = pending.withLock { buffer in
                buffer += data
                var lines: [String] = []
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
                return lines
            }
            if let logFile, !lines.isEmpty {
                try? logFile.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
            }
            for line in lines {
                if echo(line[...]) { say(prefix + line) }
                onLine(line[...])
            }
        }
        process.terminationHandler = { [self] process in
            let waiters = exit.withLock { state in
                state.status = process.terminationStatus
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: process.terminationStatus) }
        }
        try process.run()
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
