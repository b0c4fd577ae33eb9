import ArgumentParser
import Baggage
import Foundation
import Kafka
import KafkaTracing
import LeanTracing
import Logging
import OTel
import OTLPReceiver
import ServiceLifecycle
import Synchronization
import Tracing

/// The cost of tracing on the Kafka hot path, all measured in one run with the chosen tracer
/// exporting OTLP/HTTP protobuf to a local receiver:
/// - propagation: inject (traceparent + baggage into headers) and extract (check, parse, baggage)
///   per message, in ns;
/// - a messaging span started with its attributes and ended, in ns;
/// - produce+consume throughput of the same records untraced, with the two headers a traced
///   record carries but no tracing code (what Kafka itself charges for carrying them), and
///   traced (a `send` span per record, a `process` span per record), in rounds, and the ratios
///   of the medians.
///
/// The lean tracer's sampler and buffer come from the environment (`OTEL_TRACES_SAMPLER`,
/// `OTEL_TRACES_SAMPLER_ARG`, `OTEL_BSP_MAX_QUEUE_SIZE`), as in any process.
struct TracingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracing",
        abstract: "Measure propagation and span costs, and traced vs untraced Kafka throughput."
    )

    @Option(help: "Records per throughput run, and iterations of the micro-benchmarks.")
    var messages = 100_000

    @Option(help: "Throughput rounds (each runs untraced, headers only and traced; medians are compared).")
    var rounds = 3

    @Option(help: "The tracer: lean (this project's) or otel (swift-otel).")
    var tracer: TracerChoice = .lean

    @Option(help: .hidden)  // Only this throughput run (untraced, headers or traced): for a profiler.
    var only: ThroughputRun?

    func run() async throws {
        var logger = Logs.bootstrap()
        logger.logLevel = .warning
        guard messages > 0, rounds > 0 else { throw ValidationError("--messages and --rounds must be positive") }

        let exported = ExportCounter()
        let receiver = try await OTLPHTTPReceiver.start { body, _ in exported.add(bytes: body.count) }
        let (tracer, service, label) = try tracer.make(endpoint: receiver.tracesEndpoint, logger: logger)
        let exporter = ServiceGroup(services: [service], logger: logger)
        let exporting = Task { try await exporter.run() }

        say("bench-tracing: \(label), OTLP/HTTP protobuf to a local receiver, \(messages) iterations")
        if let only {
            let broker = try await EmbeddedBroker.start(.init(port: nil), logger: logger)
            let mode: Mode = switch only {
            case .untraced: .untraced
            case .headers: .headersOnly
            case .traced: .traced(tracer)
            }
            for round in 1...rounds {
                let rate = try await measureThroughput(broker: broker, topic: "bench-\(only.rawValue)-\(round)", partitions: 9, mode: mode, logger: logger)
                say("  round \(round)      \(only.rawValue) \(Int(rate)) msgs/s")
            }
            await broker.stop()
            return
        }
        let (inject, extract, extractContext) = withTracer(tracer) { measurePropagation() }
        say(String(format: "  propagation  inject %6.0f ns  extract %6.0f ns  per message (traceparent + 3 baggage entries)", inject, extract))
        say(String(format: "               extract into a ServiceContext (what a handler's context costs) %6.0f ns", extractContext))
        let span = withTracer(tracer) { measureSpans() }
        say(String(format: "  span         %6.0f ns  start, 7 attributes, end (export runs in the background)", span))

        let broker = try await EmbeddedBroker.start(.init(port: nil), logger: logger)
        let partitions = max(4, (messages + 11_999) / 12_000)
        var untraced: [Double] = []
        var headersOnly: [Double] = []
        var traced: [Double] = []
        for round in 1...rounds {
            let plain = try await measureThroughput(broker: broker, topic: "bench-untraced-\(round)", partitions: partitions, mode: .untraced, logger: logger)
            let headers = try await measureThroughput(broker: broker, topic: "bench-headers-\(round)", partitions: partitions, mode: .headersOnly, logger: logger)
            let withSpans = try await measureThroughput(broker: broker, topic: "bench-traced-\(round)", partitions: partitions, mode: .traced(tracer), logger: logger)
            say(String(format: "  round %d      untraced %9.0f msgs/s  same headers, no tracing %9.0f msgs/s  traced %9.0f msgs/s", round, plain, headers, withSpans))
            untraced.append(plain)
            headersOnly.append(headers)
            traced.append(withSpans)
        }
        await broker.stop()
        await exporter.triggerGracefulShutdown()
        try? await exporting.value
        await receiver.stop()
        let plain = untraced.sorted()[rounds / 2]
        let withSpans = traced.sorted()[rounds / 2]
        let headers = headersOnly.sorted()[rounds / 2]
        say("  exported     \(exported.requests) OTLP requests, \(exported.bytes) bytes")
        say(String(
            format: "bench-tracing: inject+extract=%.0fns span=%.0fns untraced=%.0f headers-only=%.0f traced=%.0f headers-only/untraced=%.2f ratio=%.2f",
            inject + extract, span, plain, headers, withSpans, headers / plain, withSpans / plain))
    }

    /// ns per inject and per extract.
    private func measurePropagation() -> (Double, Double, Double) {
        let parent = startSpan("parent", context: .topLevel)
        defer { parent.end() }
        var context = parent.context
        context.baggage = ["user.id": "alice", "client.order_id": "c-1001", "batch.id": "b-AAPL-buy-7"]
        let baggage = context.baggage!
        let tracing = KafkaConsumerTracing(groupID: "bench", clientID: "bench")
        var headers = KafkaHeaders()
        let instrument = InstrumentationSystem.instrument
        let spanContext = (parent as? LeanSpan)?.spanContext
        // What the traced producer does per record: the span's context (bytes, for the lean
        // tracer) and the baggage serialized (each time: records of different orders differ).
        let injectTime = bestOf(3) {
            for _ in 0..<messages {
                headers = KafkaHeaders()
                if let spanContext {
                    headers.setTraceContext(spanContext)
                } else {
                    instrument.inject(context, into: &headers, using: KafkaHeadersInjector())
                }
                headers.set("baggage", bytes: Array(baggage.headerValue.utf8))
            }
        }
        let message = KafkaMessage(topic: "client-orders", partition: 0, offset: 0, key: Array("AAPL".utf8), value: [], headers: headers)
        var sink = 0
        // What the consumer does per record: the producer's span context and the baggage out
        // of the headers (for the lean tracer, straight into the span; for others, into a
        // `ServiceContext` through the instrument).
        let extractTime = bestOf(3) {
            for _ in 0..<messages {
                if spanContext != nil {
                    let carried = CarriedTraceContext(message)
                    sink &+= (carried.baggage?.count ?? 0) + (carried.parent == nil ? 1_000 : 0)
                } else {
                    let (extracted, _) = tracing.extractContext(message)
                    sink &+= extracted.baggage?.count ?? 0
                }
            }
        }
        precondition(sink == 3 * messages * 3, "extraction lost the parent or baggage entries")
        // What a handler's context costs on top, when it asks for one: a `ServiceContext` with
        // the span context and the baggage (two generic insertions).
        let contextTime = bestOf(3) {
            for _ in 0..<messages {
                let (extracted, _) = tracing.extractContext(message)
                sink &+= extracted.baggage?.count ?? 0
            }
        }
        return (injectTime / Double(messages), extractTime / Double(messages), contextTime / Double(messages))
    }

    /// ns per span (start, attributes, end).
    private func measureSpans() -> Double {
        let parent = startSpan("parent", context: .topLevel)
        defer { parent.end() }
        let context = parent.context
        let time = bestOf(1) {
            for index in 0..<messages {
                let span = startSpan("send client-orders", context: context, ofKind: .producer)
                span.setAttributes(fast: SpanBench.attributes(index))
                span.end()
            }
        }
        return time / Double(messages)
    }

    /// What a throughput run does per record.
    enum Mode {
        /// No headers, no tracing.
        case untraced
        /// The headers a traced record carries (a constant `traceparent` and `baggage`), and no
        /// tracing code: what Kafka itself charges for carrying them.
        case headersOnly
        /// A `send` span per record (context and baggage injected) and a `process` span per record.
        case traced(any Tracer)
    }

    /// msgs/s over produce (all delivered) plus consume (all read, each in a process span when traced).
    private func measureThroughput(broker: EmbeddedBroker, topic: String, partitions: Int, mode: Mode, logger: Logger) async throws -> Double {
        var tracer: (any Tracer)?
        var constantHeaders = KafkaHeaders()
        switch mode {
        case .untraced: break
        case .headersOnly:
            constantHeaders.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            constantHeaders.set("baggage", "user.id=alice,client.order_id=c-1001")
        case .traced(let chosen): tracer = chosen
        }
        try broker.createTopic(topic, partitions: partitions)
        let kafka = KafkaConfiguration(brokers: [broker.bootstrapServers])
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        let data = BenchData(count: messages)
        let records = data.rows.map { KafkaProducerRecord(topic: topic, key: $0.key, value: $0.value, headers: constantHeaders) }
        let start = ContinuousClock.now
        let produceCPUStart = SpanBench.cpuNanoseconds()
        let outcomes: [Result<KafkaDeliveryReport, KafkaError>]
        if let tracer {
            outcomes = try await withTracer(tracer) {
                try await withBaggage(["user.id": "alice", "client.order_id": "c-1001"]) {
                    try await TracedKafkaProducer(producer).send(records)
                }
            }
        } else {
            outcomes = try await producer.send(records)
        }
        let produceSeconds = (ContinuousClock.now - start).seconds
        let produceCPU = (SpanBench.cpuNanoseconds() - produceCPUStart) / 1e9
        guard outcomes.allSatisfy({ (try? $0.get()) != nil }) else { throw ValidationError("records were not delivered") }
        await producer.close()

        let settings = KafkaConsumerConfiguration(kafka: kafka, groupID: "bench-\(topic)-\(UInt32.random(in: 0...UInt32.max))", topics: [topic])
        let tracing = KafkaConsumerTracing(groupID: settings.groupID, clientID: kafka.clientID)
        let consumeCPUStart = SpanBench.cpuNanoseconds()
        let consumed = try await consumeTimed(settings, count: messages, logger: logger) { batch in
            if let tracer {
                withTracer(tracer) {
                    for message in batch { tracing.startProcessSpan(message).end() }
                }
            }
        }
        guard consumed.received == messages else { throw ValidationError("consumed \(consumed.received) of \(messages) records") }
        let consumeSeconds = consumed.seconds
        if ProcessInfo.processInfo.environment["BENCH_DEBUG"] != nil {
            let consumeCPU = (SpanBench.cpuNanoseconds() - consumeCPUStart) / 1e9
            say("    \(mode): produce \(produceSeconds) s (CPU \(produceCPU) s), consume \(consumeSeconds) s (CPU with the group join \(consumeCPU) s), longest gap \(consumed.longestGap)")
        }
        return Double(messages) / (produceSeconds + consumeSeconds)
    }

    /// The fastest of `repetitions` runs of `body`, in ns.
    private func bestOf(_ repetitions: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<repetitions {
            let start = ContinuousClock.now
            body()
            best = min(best, (ContinuousClock.now - start).seconds * 1e9)
        }
        return best
    }
}

/// One of the throughput runs of `bench tracing`.
enum ThroughputRun: String, ExpressibleByArgument, CaseIterable, Sendable {
    case untraced
    case headers
    case traced
}

/// Which tracer a benchmark runs.
enum TracerChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    case lean
    case otel

    /// The tracer, its export service (to run) and a label, exporting OTLP/HTTP protobuf to `endpoint`.
    func make(endpoint: String, logger: Logger) throws -> (any Tracer, any Service, String) {
        switch self {
        case .lean:
            // The sampler and buffer settings (`OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`) come from the
            // environment, as in any process; the endpoint is the bench's receiver.
            var environment = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("OTEL_") && !$0.key.contains("ENDPOINT") }
            environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = endpoint
            let (tracer, service) = try LeanTracingBackend.make(
                serviceName: "ordertrace-bench", environment: environment, logger: logger,
                propagatesBaggage: false)
            return (tracer, service, "lean tracer")
        case .otel:
            var otel = OTel.Configuration.default
            otel.serviceName = "ordertrace-bench"
            otel.diagnosticLogLevel = .error
            otel.traces.otlpExporter.protocol = .httpProtobuf
            otel.traces.otlpExporter.endpoint = endpoint
            let backend = try OTel.makeTracingBackend(configuration: otel)
            return (backend.factory, backend.service, "swift-otel 1.6")
        }
    }
}

/// Counts what the receiver was sent.
final class ExportCounter: Sendable {
    private let counts = Mutex((requests: 0, bytes: 0))
    func add(bytes: Int) {
        counts.withLock { counts in
            counts.requests += 1
            counts.bytes += bytes
        }
    }
    var requests: Int { counts.withLock { $0.requests } }
    var bytes: Int { counts.withLock { $0.bytes } }
}
