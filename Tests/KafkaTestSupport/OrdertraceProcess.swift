import Foundation
import Glibc
import Synchronization

/// The `ordertrace` executable built next to the test bundle.
public let ordertrace = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ordertrace")

/// An `ordertrace` command in the background (`up` unless told otherwise), its output kept for
/// a failure message.
public final class OrdertraceProcess: Sendable {
    public let process = Process()
    private let output: Output
    /// The command's standard input, when asked for.
    public let input: FileHandle?

    private final class Output: Sendable {
        let data = Mutex(Data())
    }

    public init(command: String = "up", arguments: [String], environment: [String: String], withInput: Bool = false) throws {
        process.executableURL = ordertrace
        process.arguments = [command] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        if withInput {
            let inputPipe = Pipe()
            process.standardInput = inputPipe
            input = inputPipe.fileHandleForWriting
        } else {
            input = nil
        }
        // Blocking reads on a thread of its own, not a readabilityHandler (whose dispatch source
        // can outlive its descriptor and crash the process).
        let reading = pipe.fileHandleForReading
        let output = Output()
        self.output = output
        // read(2) itself: FileHandle.availableData traps on EINTR.
        let reader = Thread {
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(reading.fileDescriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                output.data.withLock { $0.append(contentsOf: chunk[..<count]) }
            }
        }
        try launch(process)
        reader.start()
    }

    /// Everything it wrote so far.
    public var fullOutput: String { output.data.withLock { String(decoding: $0, as: UTF8.self) } }

    /// The output's last part, and where the whole of it so far is kept
    /// (`test-output/up-<pid>.log`).
    public var log: String {
        let (all, tail) = output.data.withLock { ($0, $0.suffix(6_000)) }
        var text = String(decoding: tail, as: UTF8.self)
        let file = testOutputFolder().appendingPathComponent("\(process.arguments?.first ?? "up")-\(process.processIdentifier).log")
        if (try? all.write(to: file)) != nil { text += "\n(the whole output so far: \(file.path))" }
        return text
    }

    /// Sends `signal` if it is still running.
    public func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Sends `signal` (SIGTERM unless told otherwise), then waits up to `timeout` for the exit;
    /// returns the status (nil: it was still running and got SIGKILL).
    @discardableResult
    public func stop(_ signal: Int32 = SIGTERM, timeout: Duration = .seconds(40)) async -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return process.terminationStatus
    }
}
