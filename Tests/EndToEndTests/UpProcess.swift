import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import KafkaTestSupport
import Synchronization

/// The `ordertrace` executable built next to the test bundle.
let ordertrace = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ordertrace")

/// The repository's root, for its `topics/` folder.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A TCP port nobody listens on right now, for a process the test starts to listen on.
///
/// It is drawn below Linux's ephemeral range (32768-60999): a port from that range (what binding
/// port 0 gives) can be taken, between this choice and the child's bind, as the local port of any
/// outgoing connection on the machine, and the tests open many.
func freePort() -> Int {
    for _ in 0..<1_000 {
        let port = Int.random(in: 20_000..<32_768)
        if canBind(port) { return port }
    }
    return 0
}

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } } == 0
}

/// Runs `ordertrace` with `arguments` to the end; returns its status and output.
func runOrdertrace(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    try runToEnd(ordertrace.path, arguments, environment: environment)
}

/// `ordertrace up` in the background, its output kept for a failure message.
typealias UpProcess = OrdertraceProcess

/// An `ordertrace` command in the background (`up` unless told otherwise), its output kept for
/// a failure message.
final class OrdertraceProcess: Sendable {
    let process = Process()
    private let output: Output
    /// The command's standard input, when asked for.
    let input: FileHandle?

    private final class Output: Sendable {
        let data = Mutex(Data())
    }

    init(command: String = "up", arguments: [String], environment: [String: String], withInput: Bool = false) throws {
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
    var fullOutput: String { output.data.withLock { String(decoding: $0, as: UTF8.self) } }

    /// The output's last part, and where the whole of it is kept once the process ended
    /// (`test-output/up-<pid>.log`).
    var log: String {
        let (all, tail) = output.data.withLock { ($0, $0.suffix(6_000)) }
        var text = String(decoding: tail, as: UTF8.self)
        if !process.isRunning {
            let file = testOutputFolder().appendingPathComponent("\(process.arguments?.first ?? "up")-\(process.processIdentifier).log")
            if (try? all.write(to: file)) != nil { text += "\n(the whole output: \(file.path))" }
        }
        return text
    }

    /// SIGTERM, then waits up to `timeout` for the exit; returns the status (nil: killed).
    func stop(timeout: Duration = .seconds(40)) async -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
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

/// GETs `url`; the status, or nil when nothing answers.
func httpStatus(_ url: String) async -> Int? {
    guard let url = URL(string: url) else { return nil }
    var request = URLRequest(url: url)
    request.timeoutInterval = 2
    guard let (_, response) = try? await URLSession.shared.data(for: request) else { return nil }
    return (response as? HTTPURLResponse)?.statusCode
}
