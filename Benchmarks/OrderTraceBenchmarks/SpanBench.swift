import ArgumentParser
import CommandLineSupport
import Foundation
import Glibc
import LeanTracing
import Logging
import OTLPWire
import ServiceLifecycle
import TraceContext
import Tracing
import TracingSetup

/// Lean tracer against swift-otel, side by side in one run, each exporting OTLP/HTTP protobuf
/// to a receiver in another process (`ordertrace bench sink`), which counts the spans it gets:
///
/// Spans are started on the tracer itself (as a component holding its tracer does), not through
/// the global `startSpan`, whose tracer lookup casts the instrument on every call.
///
/// - burst: `--spans` spans created as fast as one task can (start, 7 attributes, end), then
///   flushed; CPU per span all-in (this process's user+system time: creation, encoding, sending),
///   spans/s, spans received and dropped;
/// - sustained: `--rate` spans/s for `--seconds`, paced every 5 ms; the rate reached, CPU per
///   span, received and dropped.
struct SpanBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spans",
        abstract: "Lean tracer vs swift-otel: CPU per span, sustained spans/s to an OTLP receiver, spans dropped."
    )

    @Option(help: "Spans of the burst phase.")
    var spans = 1_000_000

    @Option(help: "Spans per second of the sustained phase.")
    var rate = 300_000

    @Option(help: "Seconds of the sustained phase (0 skips it).")
    var seconds = 60

    @Option(parsing: .upToNextOption, help: "Tracers to compare, in order.")
    var tracers: [TracerChoice] = TracingBootstrap.hasSwiftOTel ? [.lean, .otel] : [.lean]

    /// `rate` spans per second for `seconds`, paced every 5 ms; returns how many were made.
    static func sustain(_ tracer: any Tracer, rate: Int, seconds: Int) async throws -> Int {
        let perTick = max(1, rate / 200)
        let start = ContinuousClock.now
        let end = start + .seconds(seconds)
        var created = 0
        var tick = 0
        let tracer = MessagingTracing.tracer(for: tracer)
        while ContinuousClock.now < end {
            for _ in 0..<perTick {
                let span = tracer.startMessagingSpan("send client-orders", context: .topLevel, ofKind: .producer)
                span.setAttributes(attributes(created))
                span.end()
                created += 1
            }
            tick += 1
            let next = start + .milliseconds(5 * tick)
            if next > .now { try await Task.sleep(until: next) }
        }
        return created
    }

    static func attributes(_ index: Int) -> [Attribute] {
        [
            Attribute("messaging.system", .string("kafka")), Attribute("messaging.operation.name", .string("send")),
            Attribute("messaging.operation.type", .string("send")), Attribute("messaging.destination.name", .string("client-orders")),
            Attribute("messaging.kafka.message.key", .string("AAPL")), Attribute("user.id", .string("alice")),
            Attribute("messaging.kafka.offset", .int(Int64(index))),
        ]
    }

    struct Result {
        var label: String
        var created = 0
        var received = 0
        var cpuNanoseconds = 0.0
        var wallSeconds = 0.0
        var dropped: Int { created - received }
        var cpuPerSpan: Double { cpuNanoseconds / Double(max(created, 1)) }
        var perSecond: Double { Double(created) / wallSeconds }
    }

    func run() async throws {
        var logger = Logs.bootstrap()
        logger.logLevel = .error
        let sink = try Sink.start()
        defer { sink.stop() }
        say("bench-spans: OTLP/HTTP protobuf to `ordertrace bench sink` (another process) at \(sink.endpoint)")
        var bursts: [Result] = []
        var sustained: [Result] = []
        for choice in tracers {
            let count = spans
            let burst = try await phase(choice, sink: sink, logger: logger, label: "burst") { tracer in
                let tracer = MessagingTracing.tracer(for: tracer)
                let parent = tracer.startMessagingSpan("bench", context: .topLevel, ofKind: .server)
                let context = parent.context
                for index in 0..<count {
                    let span = tracer.startMessagingSpan("send client-orders", context: context, ofKind: .producer)
                    span.setAttributes(Self.attributes(index))
                    span.end()
                }
                parent.end()
                return count + 1
            }
            say("  " + burst.label.padding(toLength: 15, withPad: " ", startingAt: 0) + String(format: "burst      %9d spans  %8.0f spans/s  cpu %6.2f µs/span  received %9d  dropped %9d", burst.created, burst.perSecond, burst.cpuPerSpan / 1_000, burst.received, burst.dropped))
            bursts.append(burst)
            guard seconds > 0 else { continue }
            let (rate, seconds) = (self.rate, self.seconds)
            let run = try await phase(choice, sink: sink, logger: logger, label: "sustained") { tracer in
                try await Self.sustain(tracer, rate: rate, seconds: seconds)
            }
            say("  " + run.label.padding(toLength: 15, withPad: " ", startingAt: 0) + String(format: "sustained  %9d spans  %8.0f spans/s  cpu %6.2f µs/span  received %9d  dropped %9d", run.created, run.perSecond, run.cpuPerSpan / 1_000, run.received, run.dropped))
            sustained.append(run)
        }
        if bursts.count == 2 {
            let (a, b) = (bursts[0], bursts[1])
            var line = "bench-spans: \(a.label) " + String(format: "cpu=%.2fµs/span ", a.cpuPerSpan / 1_000) + "\(b.label) " + String(format: "cpu=%.2fµs/span burst-throughput-ratio=%.1f", b.cpuPerSpan / 1_000, a.perSecond / b.perSecond)
            if sustained.count == 2 {
                let (c, d) = (sustained[0], sustained[1])
                line += " sustained \(c.label)=" + String(format: "%.0f/s dropped=%d ", Double(c.received) / c.wallSeconds, c.dropped)
                line += "\(d.label)=" + String(format: "%.0f/s dropped=%d delivered-ratio=%.1f", Double(d.received) / d.wallSeconds, d.dropped, Double(c.received) / Double(max(d.received, 1)))
            }
            say(line)
        }
    }

    /// Runs `body` with a fresh tracer of `choice` and its exporter, flushes, and measures.
    private func phase(_ choice: TracerChoice, sink: Sink, logger: Logger, label: String, _ body: (any Tracer) async throws -> Int) async throws -> Result {
        let (tracer, service, name) = try choice.make(endpoint: sink.endpoint, logger: logger)
        let group = ServiceGroup(services: [service], logger: logger)
        let exporting = Task { try await group.run() }
        let receivedBefore = try sink.count()
        let cpuBefore = Self.cpuNanoseconds()
        let start = ContinuousClock.now
        let created = try await body(tracer)
        let wall = (ContinuousClock.now - start).seconds
        await group.triggerGracefulShutdown()
        try? await exporting.value
        let cpu = Self.cpuNanoseconds() - cpuBefore
        // Let the sink count the last requests.
        try? await Task.sleep(for: .milliseconds(500))
        let received = try sink.count() - receivedBefore
        return Result(label: name, created: created, received: received, cpuNanoseconds: cpu, wallSeconds: wall)
    }

    static func cpuNanoseconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func ns(_ time: timeval) -> Double { Double(time.tv_sec) * 1e9 + Double(time.tv_usec) * 1e3 }
        return ns(usage.ru_utime) + ns(usage.ru_stime)
    }
}
