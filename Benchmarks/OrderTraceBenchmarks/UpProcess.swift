import CommandLineSupport
import Foundation
import Glibc
import Logging
import Synchronization

/// `ordertrace up` (the same executable) as a child process, on free ports and a temporary data
/// folder, with tracing to `otlpEndpoint` or off (`OTEL_SDK_DISABLED=true`). A thread of its own
/// reads its output, which is how the benchmark learns the broker's address and that it is ready.
final class UpProcess: Sendable {
    let process: Process
    let gatewayPort: Int
    /// Where `up` serves every component's metrics, merged.
    let metricsPort: Int
    let dataDirectory: URL
    private let state = Mutex(OutputState())

    private struct OutputState {
        var bootstrap: String?
        var ready = false
        var closed = false
        var lastLines: [String] = []
    }

    private init(process: Process, gatewayPort: Int, metricsPort: Int, dataDirectory: URL) {
        self.process = process
        self.gatewayPort = gatewayPort
        self.metricsPort = metricsPort
        self.dataDirectory = dataDirectory
    }

    /// Starts `up`; `extraArguments` go after the ports (e.g. `--topics-dir`).
    static func start(otlpEndpoint: String?, extraArguments: [String], environment extra: [String: String]) throws -> UpProcess {
        let ports = try (0..<4).map { _ in try freeTCPPort() }
        let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("ordertrace-bench-up-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment.filter { key, _ in
            !key.hasPrefix("OTEL_") && !["ORDERTRACE_TOPIC_PREFIX", "ORDERTRACE_TOKENS", "ORDERTRACE_TOKENS_FILE", "KAFKA_BROKERS"].contains(key)
        }
        if let otlpEndpoint {
            environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = otlpEndpoint
        } else {
            environment["OTEL_SDK_DISABLED"] = "true"
        }
        // The benchmark's WebSocket clients read every update on the two cores the system keeps
        // busy; a real client reads on a machine of its own. With the gateway's 1,024 they fell
        // that far behind now and then at full speed and were closed as too slow, failing the
        // round: here a socket may queue 65,536 (a few MB).
        environment["GATEWAY_MAX_QUEUED_MESSAGES"] = "65536"
        environment.merge(extra) { _, new in new }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
        process.arguments =
            [
                "up", "--kafka-port", String(ports[0]), "--gateway-port", String(ports[1]), "--exchange-port", String(ports[2]),
                "--metrics-port", String(ports[3]), "--data-dir", dataDirectory.path,
            ] + extraArguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let up = UpProcess(process: process, gatewayPort: ports[1], metricsPort: ports[3], dataDirectory: dataDirectory)
        try process.run()
        BenchChildren.add(process.processIdentifier, folder: dataDirectory.path)
        up.readOutput(pipe.fileHandleForReading)
        return up
    }

    var pid: pid_t { process.processIdentifier }

    /// The embedded broker's bootstrap address, once `up` said it.
    var bootstrap: String? { state.withLock { $0.bootstrap } }

    /// Waits (polling, up to `timeout`) until `up` printed its banner.
    /// - Throws: when it exited or did not become ready in time, with its last lines.
    func waitUntilReady(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (ready, bootstrap, closed) = state.withLock { ($0.ready, $0.bootstrap, $0.closed) }
            if ready, bootstrap != nil { return }
            if closed || !process.isRunning || ContinuousClock.now >= deadline {
                let lines = state.withLock { $0.lastLines }.suffix(15).joined(separator: "\n  ")
                throw CommandError(description: "bench-pipeline: `ordertrace up` did not become ready (\(closed ? "it exited" : "timed out")); its last lines:\n  \(lines)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGTERM (each child flushes its spans), then SIGKILL after `timeout`; removes the data folder
    /// unless `keepingData` (after a failed run, for its logs).
    func stop(timeout: Duration = .seconds(60), keepingData: Bool = false) async {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        }
        BenchChildren.remove(process.processIdentifier)
        if keepingData {
            say("the components' logs are kept in \(dataDirectory.appendingPathComponent("logs").path)")
        } else {
            try? FileManager.default.removeItem(at: dataDirectory)
        }
    }

    /// Waits until `up` is ready, opens a pipeline session on it and runs `body`; then closes the
    /// session and stops `up`, keeping its data folder (the components' logs) when anything failed.
    func withSession<T>(logger: Logger, _ body: (PipelineSession) async throws -> T) async throws -> T {
        var session: PipelineSession?
        do {
            try await waitUntilReady(timeout: .seconds(180))
            guard let bootstrap else { throw CommandError(description: "bench: `ordertrace up` named no broker") }
            let connected = try await PipelineSession.open(bootstrap: bootstrap, gatewayPort: gatewayPort, logger: logger)
            session = connected
            let result = try await body(connected)
            await connected.close()
            session = nil
            await stop()
            return result
        } catch {
            await session?.close()
            await stop(keepingData: true)
            throw error
        }
    }

    /// Whether `up` still runs.
    @Sendable func isRunning() -> Bool { process.isRunning }

    private func readOutput(_ handle: FileHandle) {
        let reader = Thread { [self] in
            let descriptor = handle.fileDescriptor
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            var buffer: [UInt8] = []
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                buffer += chunk[..<count]
                var start = buffer.startIndex
                while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    observe(String(decoding: buffer[start..<newline], as: UTF8.self))
                    start = newline + 1
                }
                buffer.removeSubrange(..<start)
            }
            try? handle.close()
            state.withLock { $0.closed = true }
        }
        reader.name = "output of ordertrace up"
        reader.start()
    }

    private func observe(_ line: String) {
        state.withLock { state in
            state.lastLines.append(line)
            if state.lastLines.count > 50 { state.lastLines.removeFirst(state.lastLines.count - 50) }
            // "up: embedded broker at 127.0.0.1:PORT with N topics"
            if line.hasPrefix("up: embedded broker at "), let address = line.dropFirst("up: embedded broker at ".count).split(separator: " ").first {
                state.bootstrap = String(address)
            }
            if line.hasPrefix("up: ready in ") { state.ready = true }
        }
    }
}

/// `up` and its children, each measured by name.
enum ProcessTree {
    /// "up (broker)" (the embedded broker, the lag monitor and the metrics) and each child by its
    /// subcommand (order-manager, gateway, ...; replicas share their name).
    static func members(root: pid_t) -> [(name: String, pid: pid_t)] {
        var members = [("up (broker)", root)]
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return members }
        for entry in entries {
            guard let pid = pid_t(entry), pid != root, ProcessCPU.seconds(pid)?.parent == root else { continue }
            members.append((ProcessCPU.subcommand(pid) ?? "pid \(pid)", pid))
        }
        return members
    }

    /// `measure` of each member, replicas added up.
    static func measure<Value: AdditiveArithmetic>(root: pid_t, _ measure: (pid_t) -> Value?) -> [String: Value] {
        var result: [String: Value] = [:]
        for (name, pid) in members(root: root) {
            guard let value = measure(pid) else { continue }
            result[name, default: .zero] += value
        }
        return result
    }
}

/// CPU time (user + system) of `up` and of each of its children, from /proc/<pid>/stat.
enum ProcessCPU {
    /// Seconds of CPU of one process, and its parent.
    static func seconds(_ pid: pid_t) -> (seconds: Double, parent: pid_t)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        return parse(stat: text)
    }

    /// Fields after the command's closing parenthesis: state (3), ppid (4), ..., utime (14), stime (15).
    static func parse(stat text: String) -> (seconds: Double, parent: pid_t)? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let parent = pid_t(fields[1]), let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return ((user + system) / Double(sysconf(Int32(_SC_CLK_TCK))), parent)
    }

    static func subcommand(_ pid: pid_t) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return arguments.count > 1 ? arguments[1] : arguments.first
    }
}

/// Thread switches (voluntary and involuntary, every thread) of `up` and of each of its children,
/// from /proc/<pid>/task/<tid>/status: how often a process's threads gave up or lost the CPU.
enum ProcessSwitches {
    /// The switches of every thread of one process so far (threads that ended are not counted).
    static func count(_ pid: pid_t) -> Int? {
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        var total = 0
        for thread in threads {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/status", encoding: .utf8) else { continue }
            total += parse(status: text) ?? 0
        }
        return total
    }

    /// `voluntary_ctxt_switches` plus `nonvoluntary_ctxt_switches` of a status file.
    static func parse(status text: String) -> Int? {
        var total: Int?
        for line in text.split(separator: "\n") where line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
            guard let value = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else { return nil }
            total = (total ?? 0) + value
        }
        return total
    }
}

/// Bytes each process of `up`'s tree caused to be written to storage (`write_bytes` of
/// /proc/<pid>/io: pages it dirtied that go to disk), which the CPU figures do not show: the
/// kernel writes them back in threads of its own.
enum ProcessWrites {
    static func bytes(_ pid: pid_t) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else { return nil }
        return parse(io: text)
    }

    /// `write_bytes` of an io file.
    static func parse(io text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("write_bytes:") {
            return line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        return nil
    }
}
