import ArgumentParser
import CommandLineSupport
import Foundation
import Glibc
import Logging
import Synchronization

/// Memory over a long run: `ordertrace up` (traced, spans to `ordertrace bench sink`), N orders
/// sent at a steady rate through both doors (as `bench pipeline` sends them), and every process's
/// resident memory (`VmRSS` from /proc/<pid>/status) sampled at a fixed interval, from before the
/// first order to a while after the last one ended.
///
/// A process is flat when what it holds stops growing with the orders: the report gives each
/// process's memory at every sample and its growth over the second half of the sending, in
/// bytes per order (0 for a process whose memory is bounded and already full).
struct SoakBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run `ordertrace up` under a steady stream of orders and sample every process's memory."
    )

    @Option(help: "Orders to send.")
    var orders = 1_000_000

    @Option(help: "Orders per second.")
    var rate = 4_000.0

    @Option(help: "Seconds between two samples.")
    var every = 10.0

    @Option(help: "Seconds to keep sampling after the last order ended.")
    var after = 30.0

    @Option(name: .customLong("topics-dir"), help: "Folder of topic definitions, passed to `ordertrace up` (default: its own default, ./topics).")
    var topicsDirectory: String?

    @Option(help: "The embedded broker's engine, passed to `ordertrace up --broker-engine`: native, or mock (librdkafka's).")
    var brokerEngine = "native"

    func validate() throws {
        guard ["native", "mock"].contains(brokerEngine) else { throw ValidationError("--broker-engine must be native or mock") }
        guard orders > 0, rate > 0, every > 0, after >= 0 else { throw ValidationError("--orders, --rate and --every must be positive, --after at least 0") }
    }

    func run() async throws {
        var logger = Logs.bootstrap(defaultLevel: .warning)
        logger.logLevel = .warning
        BenchChildren.stopOnSignals()
        let sink = try await onThread { try Sink.start() }
        BenchChildren.add(sink.process.processIdentifier)
        defer { sink.stop() }
        let up = try UpProcess.start(otlpEndpoint: sink.endpoint, extraArguments: (topicsDirectory.map { ["--topics-dir", $0] } ?? []) + ["--broker-engine", brokerEngine], environment: [:])
        let samples = Samples()
        var sampler: Task<Void, Never>?
        do {
            let ended = try await up.withSession(logger: logger) { connected in
                say(String(format: "bench-soak: %d orders at %g/s (%.0f s) over both doors; resident memory of every process every %g s", orders, rate, Double(orders) / rate, every))
                let started = ContinuousClock.now
                samples.take(at: 0, of: up.pid)
                sampler = Task {
                    var next = started + .seconds(every)
                    while !Task.isCancelled {
                        try? await Task.sleep(until: next)
                        if Task.isCancelled { break }
                        samples.take(at: (ContinuousClock.now - started).seconds, of: up.pid)
                        next += .seconds(every)
                    }
                }
                _ = try await connected.run(PipelineOrders(prefix: "s-", count: orders), rate: rate, stall: .seconds(120), alive: up.isRunning)
                let ended = (ContinuousClock.now - started).seconds
                try await Task.sleep(for: .seconds(after))
                sampler?.cancel()
                await sampler?.value
                samples.take(at: (ContinuousClock.now - started).seconds, of: up.pid)
                return ended
            }
            say(samples.report(sendingEnded: Double(orders) / rate, allEnded: ended, orders: orders))
        } catch {
            // What memory did until the failure is still worth seeing (a long run may fail late).
            sampler?.cancel()
            await sampler?.value
            say("bench-soak: the run failed; memory until then:")
            say(samples.report(sendingEnded: Double(orders) / rate, allEnded: nil, orders: orders))
            throw error
        }
    }
}

/// Resident memory samples per process name.
final class Samples: Sendable {
    private struct State {
        var times: [Double] = []
        var bytes: [String: [Int: Int]] = [:]
    }

    private let state = Mutex(State())

    func take(at seconds: Double, of root: pid_t) {
        record(at: seconds, ProcessMemory.ofTree(root: root))
    }

    /// One sample: resident bytes by process name.
    func record(at seconds: Double, _ resident: [String: Int]) {
        state.withLock { state in
            let index = state.times.count
            state.times.append(seconds)
            for (name, value) in resident { state.bytes[name, default: [:]][index] = value }
        }
    }

    /// A table (MB at each sample, a few columns) and each process's growth over the second half of
    /// the sending, in bytes per order. `allEnded`: when the last order ended, nil when not all did.
    func report(sendingEnded: Double, allEnded: Double?, orders: Int) -> String {
        let (times, bytes) = state.withLock { ($0.times, $0.bytes) }
        guard times.count >= 2 else { return "bench-soak: too few samples" }
        // Columns: the first sample, about every fifth of the run, and the last.
        let wanted = Set([0, times.count - 1] + (1..<5).map { times.count * $0 / 5 })
        let columns = wanted.sorted()
        let half = times.firstIndex { $0 >= sendingEnded / 2 } ?? 0
        let last = times.lastIndex { $0 <= sendingEnded } ?? times.count - 1
        var lines: [String] = []
        let header = "process".padding(toLength: 22, withPad: " ", startingAt: 0)
            + columns.map { String(format: "%9.0fs", times[$0]) }.joined()
            + "   growth, 2nd half of the sending"
        lines.append(header)
        var worst: (name: String, perOrder: Double) = ("", 0)
        for name in bytes.keys.sorted() {
            let series = bytes[name]!
            var line = name.padding(toLength: 22, withPad: " ", startingAt: 0)
            for column in columns { line += series[column].map { String(format: "%8.0fMB", Double($0) / 1_048_576) } ?? "         -" }
            if let from = series[half], let to = series[last], last > half {
                let sent = Double(orders) * (times[last] - times[half]) / sendingEnded
                let perOrder = Double(to - from) / max(sent, 1)
                line += String(format: "   %+.0f MB (%.0f bytes per order)", Double(to - from) / 1_048_576, perOrder)
                if perOrder > worst.perOrder { worst = (name, perOrder) }
            }
            lines.append(line)
        }
        if let allEnded {
            lines.append(String(format: "every order ended %.0f s after the first was sent (sending took %.0f s)", allEnded, sendingEnded))
        } else {
            lines.append(String(format: "not every order ended (sending was to take %.0f s)", sendingEnded))
        }
        lines.append(
            String(format: "bench-soak: orders=%d largest_growth=%@ bytes_per_order=%.0f", orders, worst.name.isEmpty ? "none" : worst.name, worst.perOrder))
        return lines.joined(separator: "\n")
    }
}

/// Resident memory (`VmRSS`) of `up` and each of its children, by subcommand.
enum ProcessMemory {
    static func ofTree(root: pid_t) -> [String: Int] {
        ProcessTree.measure(root: root, resident)
    }

    /// `VmRSS` in bytes.
    static func resident(_ pid: pid_t) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        let fields = line.split(separator: " ")
        guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
        return kilobytes * 1_024
    }
}
