import ArgumentParser
import CommandLineSupport
import Foundation
import Glibc
import Histogram
import Logging
import Synchronization

/// The whole pipeline under load: `ordertrace up` as a child process (embedded broker, every
/// component), traced rounds (spans to `ordertrace bench sink`) and untraced rounds
/// (`OTEL_SDK_DISABLED=true`) alternating, each on a fresh `up` since tracing is decided per
/// process.
///
/// A round sends N market orders over 8 symbols, 80% as records produced straight into
/// client-orders (as `kcat -P -K:` would) and 20% over the gateway's WebSocket (the three demo
/// users, one socket each), all at once; its throughput is N over the time from the first send
/// to the Nth terminal update read from order-updates. After each traced round, a paced round
/// sends N more at half that round's rate: its latencies (send to terminal update, minus the
/// time the order waited in its batch window: from its `accepted` update to its batch's record) go
/// into an HdrHistogram. CPU per component is read from /proc/<pid>/stat around every round.
struct PipelineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Run `ordertrace up` and measure traced and untraced throughput, latency at half load and CPU per order per component."
    )

    @Option(help: "Orders per round.")
    var orders = 20_000

    @Option(help: "Rounds of each kind (traced, untraced), alternating; each traced round is followed by a paced one.")
    var rounds = 3

    @Option(help: "Orders of each paced round (default: --orders).")
    var pacedOrders: Int?

    @Option(help: "Orders per second of the paced rounds (default: half the rate of the traced round before each).")
    var pacedRate: Double?

    @Option(help: "Orders sent (and awaited) before each measured round, once the system is up.")
    var warmup = 500

    @Option(help: "Write the latency distribution of the paced rounds as an SVG picture here.")
    var plot: String?

    @Option(help: "Replicas of the order manager, algo, exchange gateway and allocator, passed to `ordertrace up --replicas` (CPU figures add up a component's replicas).")
    var replicas = 1

    @Option(name: .customLong("topics-dir"), help: "Folder of topic definitions, passed to `ordertrace up` (default: its own default, ./topics).")
    var topicsDirectory: String?

    /// `up`'s default of 5 levels a side runs out at full speed, and then the simulated exchange
    /// cancels market orders: a round that runs faster finds less liquidity per order and does
    /// less work (fewer fills and updates), which flattered the untraced rounds.
    @Option(help: "Price levels of the simulated exchange's liquidity on each side of a book, passed to `ordertrace up --liquidity-levels`: enough that no order is canceled for want of liquidity, so that a faster round does not do less work.")
    var liquidityLevels = 50

    @Option(help: "The embedded broker's engine, passed to `ordertrace up --broker-engine`: native, or mock (librdkafka's).")
    var brokerEngine = "native"

    func validate() throws {
        guard ["native", "mock"].contains(brokerEngine) else { throw ValidationError("--broker-engine must be native or mock") }
        guard orders > 0, rounds > 0, warmup >= 0, (pacedOrders ?? 1) > 0, (pacedRate ?? 1) > 0 else {
            throw ValidationError("--orders, --rounds, --paced-orders and --paced-rate must be positive, --warmup at least 0")
        }
        guard (0...1000).contains(liquidityLevels) else { throw ValidationError("--liquidity-levels must be 0 to 1000") }
    }

    struct Measured {
        var kind: String
        var throughput: Double
        var cpu: [String: Double]
        /// Thread switches by process (`ProcessSwitches`).
        var switches: [String: Double]
        /// Bytes written to storage by process (`ProcessWrites`).
        var writes: [String: Double]
        var orders: Int
        var statuses: [String: Int]
        /// Updates read and batches seen of the round's orders.
        var counts: (updates: Int, batches: Int)
        /// Each component's Kafka steps in the round (nil when `up`'s metrics did not answer).
        var steps: StepCounts?
        var latencies: RoundLatencies?
    }

    func run() async throws {
        var logger = Logs.bootstrap(defaultLevel: .warning)
        logger.logLevel = .warning
        BenchChildren.stopOnSignals()
        let sink = try await onThread { try Sink.start() }
        BenchChildren.add(sink.process.processIdentifier)
        do {
            try await measureAll(sink: sink, logger: logger)
        } catch {
            _ = try? await onThread { sink.stop() }
            throw error
        }
        _ = try? await onThread { sink.stop() }
    }

    private func measureAll(sink: Sink, logger: Logger) async throws {
        let pacedCount = pacedOrders ?? orders
        say(
            "bench-pipeline: \(rounds) traced and \(rounds) untraced rounds of \(orders) market orders over \(PipelineOrders.symbols.count) symbols "
                + "(80% produced into client-orders, 20% over \(PipelineOrders.webSocketUsers) WebSockets), each on a fresh `ordertrace up` "
                + "(exchange liquidity \(liquidityLevels) levels a side, \(brokerEngine) embedded broker); "
                + "after each traced round \(pacedCount) orders paced at \(pacedRate.map { String(format: "%g/s", $0) } ?? "half its rate"); spans to the OTLP sink at \(sink.endpoint)")
        var measured: [Measured] = []
        var spansPerOrder: [Double] = []
        for round in 1...rounds {
            for traced in [true, false] {
                let spansBefore = traced ? try await onThread { try sink.count() } : 0
                let (results, sent) = try await session(round: round, traced: traced, sink: sink, pacedCount: pacedCount, logger: logger)
                measured += results
                if traced {
                    // `up` has stopped: every component flushed its spans.
                    let spans = try await countSettled(sink, from: spansBefore)
                    spansPerOrder.append(Double(spans) / Double(sent))
                    say(String(format: "  round %d traced: %d spans for %d orders (%.1f a order)", round, spans, sent, spansPerOrder.last!))
                }
            }
        }
        report(measured, spansPerOrder: spansPerOrder)
    }

    /// One `up`: warm-up, a round at full speed and, when traced, a paced round.
    private func session(round: Int, traced: Bool, sink: Sink, pacedCount: Int, logger: Logger) async throws -> ([Measured], sent: Int) {
        let kind = traced ? "traced" : "untraced"
        let up = try UpProcess.start(otlpEndpoint: traced ? sink.endpoint : nil, extraArguments: (topicsDirectory.map { ["--topics-dir", $0] } ?? []) + ["--replicas", String(replicas), "--liquidity-levels", String(liquidityLevels), "--broker-engine", brokerEngine],
            environment: [:])
        return try await up.withSession(logger: logger) { connected in
            let tag = "\(traced ? "t" : "u")\(round)"
            var sent = 0
            if warmup > 0 {
                _ = try await connected.run(PipelineOrders(prefix: "\(tag)w-", count: warmup), rate: nil, stall: .seconds(120), alive: up.isRunning)
                sent += warmup
            }
            var results: [Measured] = []
            let full = try await measure(kind: kind, up: up, sink: sink) {
                try await connected.run(PipelineOrders(prefix: "\(tag)f-", count: orders), rate: nil, alive: up.isRunning)
            }
            sent += orders
            say(line(round: round, full))
            results.append(full)
            if traced {
                let rate = pacedRate ?? full.throughput / 2
                let paced = try await measure(kind: "traced-paced", up: up, sink: sink) {
                    try await connected.run(PipelineOrders(prefix: "\(tag)p-", count: pacedCount), rate: rate, alive: up.isRunning)
                }
                sent += pacedCount
                say(line(round: round, paced) + String(format: " (paced at %.0f/s)", rate))
                results.append(paced)
            }
            return (results, sent)
        }
    }

    private func measure(kind: String, up: UpProcess, sink: Sink, _ body: () async throws -> RoundTracker) async throws -> Measured {
        let stepsBefore = await StepCounts.read(metricsPort: up.metricsPort)
        let before = Usage(up: up, sink: sink)
        let tracker = try await body()
        let used = Usage(up: up, sink: sink).minus(before)
        let stepsAfter = await StepCounts.read(metricsPort: up.metricsPort)
        var steps: StepCounts?
        if let stepsBefore, let stepsAfter { steps = stepsAfter.minus(stepsBefore) }
        return Measured(
            kind: kind, throughput: tracker.throughput, cpu: used.cpu, switches: used.switches, writes: used.writes,
            orders: tracker.orders.count, statuses: tracker.statuses, counts: tracker.counts, steps: steps,
            latencies: kind == "traced-paced" ? tracker.latencies() : nil)
    }

    /// CPU seconds, thread switches and bytes written so far, by process: `up`'s tree (walked
    /// once), the sink and this process.
    private struct Usage {
        var cpu: [String: Double] = [:]
        var switches: [String: Double] = [:]
        var writes: [String: Double] = [:]

        init(up: UpProcess, sink: Sink) {
            let processes = ProcessTree.members(root: up.pid) + [
                ("bench sink (OTLP receiver)", sink.process.processIdentifier), ("load generator (this process)", getpid()),
            ]
            // A process that cannot be read (it ended) adds nothing.
            for (name, pid) in processes {
                if let seconds = ProcessCPU.seconds(pid)?.seconds { cpu[name, default: 0] += seconds }
                if let count = ProcessSwitches.count(pid) { switches[name, default: 0] += Double(count) }
                if let bytes = ProcessWrites.bytes(pid) { writes[name, default: 0] += Double(bytes) }
            }
        }

        private init() {}

        func minus(_ before: Usage) -> Usage {
            var used = Usage()
            used.cpu = cpu.minus(before.cpu)
            used.switches = switches.minus(before.switches)
            used.writes = writes.minus(before.writes)
            return used
        }
    }

    /// Spans the sink received since `before`, once the count stops growing (up to 30 s).
    private func countSettled(_ sink: Sink, from before: Int) async throws -> Int {
        var last = try await onThread { try sink.count() }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            let now = try await onThread { try sink.count() }
            if now == last { break }
            last = now
        }
        return last - before
    }

    private func line(round: Int, _ result: Measured) -> String {
        let total = result.cpu.filter { !$0.key.hasPrefix("load generator") && !$0.key.hasPrefix("bench sink") }.values.reduce(0, +)
        let statuses = result.statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var text = "  round \(round) " + result.kind.padding(toLength: 13, withPad: " ", startingAt: 0)
            + String(format: "%7.0f orders/s  system CPU %4.0f µs/order", result.throughput, total * 1e6 / Double(result.orders))
        if let latencies = result.latencies {
            let adjusted = latencies.adjusted
            text += String(
                format: "  latency p50 %.1f p99 %.1f p99.9 %.1f ms", Double(adjusted.valueAtPercentile(50)) / 1000, Double(adjusted.valueAtPercentile(99)) / 1000,
                Double(adjusted.valueAtPercentile(99.9)) / 1000)
        }
        let orders = Double(result.orders)
        text += "  (\(statuses); "
            + String(
                format: "%.1f updates an order, %.1f orders a batch)", Double(result.counts.updates) / orders,
                result.counts.batches > 0 ? orders / Double(result.counts.batches) : 0)
        return text
    }

    private func report(_ measured: [Measured], spansPerOrder: [Double]) {
        let kinds = ["traced", "untraced", "traced-paced"]
        // CPU µs per order per component, mean over the rounds of each kind.
        let names = Set(measured.flatMap(\.cpu.keys)).sorted { a, b in
            let order = { (name: String) in name.hasPrefix("load generator") ? 2 : name.hasPrefix("bench sink") ? 1 : 0 }
            return (order(a), a) < (order(b), b)
        }
        say("")
        say("CPU per order (µs, user+system from /proc/<pid>/stat, mean over the rounds):")
        say("  " + "component".padding(toLength: 32, withPad: " ", startingAt: 0) + kinds.map { $0.leftPadded(14) }.joined())
        // The mean over the rounds of `kind` of a measure per order, of one process or (nil) of
        // the system (`up` and its children).
        func perOrder(_ kind: String, _ name: String?, _ measure: (Measured) -> [String: Double], scale: Double) -> Double {
            let rounds = measured.filter { $0.kind == kind }
            guard !rounds.isEmpty else { return 0 }
            let values = rounds.map { round -> Double in
                let byProcess = measure(round)
                let total = name.map { byProcess[$0] ?? 0 }
                    ?? byProcess.filter { !$0.key.hasPrefix("load generator") && !$0.key.hasPrefix("bench sink") }.values.reduce(0, +)
                return total * scale / Double(round.orders)
            }
            return values.reduce(0, +) / Double(values.count)
        }
        func table(_ measure: (Measured) -> [String: Double], scale: Double, format: String) {
            for name in names {
                say("  " + name.padding(toLength: 32, withPad: " ", startingAt: 0)
                    + kinds.map { String(format: format, perOrder($0, name, measure, scale: scale)).leftPadded(14) }.joined())
            }
            say("  " + "system (up and its children)".padding(toLength: 32, withPad: " ", startingAt: 0)
                + kinds.map { String(format: format, perOrder($0, nil, measure, scale: scale)).leftPadded(14) }.joined())
        }
        table(\.cpu, scale: 1e6, format: "%.0f")
        say("")
        say("thread switches per order (voluntary and involuntary, every thread, from /proc/<pid>/task/*/status, mean over the rounds):")
        say("  " + "component".padding(toLength: 32, withPad: " ", startingAt: 0) + kinds.map { $0.leftPadded(14) }.joined())
        table(\.switches, scale: 1, format: "%.1f")
        say("")
        say("bytes written to storage per order (write_bytes from /proc/<pid>/io, mean over the rounds):")
        say("  " + "component".padding(toLength: 32, withPad: " ", startingAt: 0) + kinds.map { $0.leftPadded(14) }.joined())
        table(\.writes, scale: 1, format: "%.0f")
        // Orders per step: the mean over the rounds of each kind, of the components that step.
        func ordersPerStep(_ counts: (StepCounts) -> [String: Double], title: String) {
            let components = Set(measured.compactMap(\.steps).flatMap { counts($0).keys }).sorted()
            guard !components.isEmpty else { return }
            say("")
            say(title)
            say("  " + "component".padding(toLength: 32, withPad: " ", startingAt: 0) + kinds.map { $0.leftPadded(14) }.joined())
            for name in components {
                let cells = kinds.map { kind -> String in
                    let values = measured.filter { $0.kind == kind }.compactMap { round -> Double? in
                        guard let steps = round.steps, let count = counts(steps)[name], count > 0 else { return nil }
                        return Double(round.orders) / count
                    }
                    return (values.isEmpty ? "-" : String(format: "%.1f", values.reduce(0, +) / Double(values.count))).leftPadded(14)
                }
                say("  " + name.padding(toLength: 32, withPad: " ", startingAt: 0) + cells.joined())
            }
        }
        ordersPerStep(\.handled, title: "orders per handler step (calls of each component's consumer handlers, from its messaging metrics through `up`'s /metrics, mean over the rounds):")
        ordersPerStep(\.sends, title: "orders per send call (each a batch of records waited for until delivered, same source):")

        let traced = PipelineResult.median(measured.filter { $0.kind == "traced" }.map(\.throughput))
        let untraced = PipelineResult.median(measured.filter { $0.kind == "untraced" }.map(\.throughput))
        var all = RoundLatencies()
        var series: [LatencyPlot.Series] = []
        for (index, round) in measured.filter({ $0.kind == "traced-paced" }).enumerated() {
            guard let latencies = round.latencies else { continue }
            all.add(latencies)
            series.append(.init(name: String(format: "paced round %d (%.0f orders/s)", index + 1, round.throughput), points: LatencyPlot.points(latencies.adjusted)))
        }
        let adjusted = all.adjusted
        func ms(_ histogram: Histogram<UInt64>, _ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
        say("")
        say(String(format: "latency of the paced traced rounds (%llu orders), send to terminal update minus the batch wait: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms", adjusted.totalCount, ms(adjusted, 50), ms(adjusted, 99), ms(adjusted, 99.9), Double(adjusted.max) / 1000))
        say(String(format: "  without subtracting the batch wait: p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms", ms(all.raw, 50), ms(all.raw, 99), ms(all.raw, 99.9)))
        say(String(format: "  by stage, p50 / p99 (ms; %llu orders with all three marks seen): send to accepted %.2f / %.2f, batch window %.2f / %.2f, batch to terminal update %.2f / %.2f", all.intake.totalCount, ms(all.intake, 50), ms(all.intake, 99), ms(all.window, 50), ms(all.window, 99), ms(all.afterBatch, 50), ms(all.afterBatch, 99)))
        if !spansPerOrder.isEmpty {
            say(String(format: "spans per order (traced sessions, warm-up and paced orders included): %.1f", spansPerOrder.reduce(0, +) / Double(spansPerOrder.count)))
        }
        if let plot {
            series.append(.init(name: "all paced rounds", points: LatencyPlot.points(adjusted)))
            let picture = LatencyPlot(
                title: "bench pipeline: traced, at half the traced maximum rate; send to terminal update minus batch wait",
                series: series, goalMilliseconds: 10, goalLabel: "goal: p99 ≤ 10 ms")
            do {
                try picture.svg().write(toFile: plot, atomically: true, encoding: .utf8)
                say("latency plot: \(plot)")
            } catch {
                say("bench-pipeline: cannot write \(plot): \(error)")
            }
        }
        say(PipelineResult.line(traced: traced, untraced: untraced, p50Milliseconds: ms(adjusted, 50), p99Milliseconds: ms(adjusted, 99)))
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// Runs `body` (blocking I/O) on a thread of its own, off the cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// The benchmark's child processes, asked to stop (SIGTERM) when the benchmark gets SIGINT or
/// SIGTERM, so that neither `up` (with its children) nor the sink outlives it; their temporary
/// folders are removed once they have exited (10 s at most).
enum BenchChildren {
    private static let children = Mutex<[pid_t: String?]>([:])
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func add(_ pid: pid_t, folder: String? = nil) { children.withLock { $0[pid] = folder } }
    static func remove(_ pid: pid_t) { _ = children.withLock { $0.removeValue(forKey: pid) } }

    static func stopOnSignals() {
        guard sources.isEmpty else { return }
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                // On a dispatch thread, not the cooperative pool: waiting here blocks no task.
                let running = children.withLock { $0 }
                for pid in running.keys { kill(pid, SIGTERM) }
                let deadline = ContinuousClock.now + .seconds(10)
                while running.keys.contains(where: isAlive) && ContinuousClock.now < deadline {
                    usleep(50_000)
                }
                for case let folder? in running.values { try? FileManager.default.removeItem(atPath: folder) }
                exit(128 + signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Whether the process exists and has not exited (a zombie, exited but not yet reaped, has not).
    private static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return false
        }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }
}
