import Baggage
import Foundation
import Kafka
import KafkaTestSupport
import KafkaTracing
import LeanTracing
import Testing
import TraceContext
import Tracing
import TracingSetup

#if OTel
import OTel
#endif

/// The tracer a test runs with, by name: this project's lean tracer or swift-otel, neither
/// exporting.
private func tracer(_ name: String) throws -> any Tracer {
    if name == "lean" { return LeanTracer(propagatesBaggage: false) }
    #if OTel
    var configuration = OTel.Configuration.default
    configuration.traces.exporter = .none
    return try OTel.makeTracingBackend(configuration: configuration).factory
    #else
    fatalError("swift-otel is built only with the OTel trait")
    #endif
}

/// The tracers this build can run: the lean tracer, and swift-otel with the `OTel` trait.
let testedTracers = TracingBootstrap.hasSwiftOTel ? ["lean", "otel"] : ["lean"]

@Suite("Interoperability with another OpenTelemetry SDK (Python)", .timeLimit(.minutes(2)))
struct InteropTests {
    @Test("context and baggage injected by the Python SDK come out of a traced hop in the same trace with the same baggage, as Python reads them", arguments: testedTracers)
    func pythonToUsToPython(tracerName: String) async throws {
        let peer = try await pythonPeer("inject")
        let headers = try #require(peer["headers"] as? [String: String])
        let traceID = try #require(peer["traceId"] as? String)
        let pythonSpanID = try #require(peer["spanId"] as? String)
        let baggage = try #require(peer["baggage"] as? [String: String])

        let tracer = try tracer(tracerName)

        try await withEmbeddedBroker { broker in
            let inbound = uniqueName("interop-in")
            let outbound = uniqueName("interop-out")
            try broker.createTopic(inbound, partitions: 1)
            try broker.createTopic(outbound, partitions: 1)
            // A Python service's record, as it would write it (plain producer, its headers).
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            var pythonHeaders = KafkaHeaders()
            for (key, value) in headers { pythonHeaders.set(key, value) }
            try await producer.send(KafkaProducerRecord(topic: inbound, key: "AAPL", value: [1], headers: pythonHeaders))

            // Our hop: process it traced, and send onward in its context.
            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [inbound]), logger: testLogger)
            let message = try #require(try await withRunningConsumer(consumer) { await collect(consumer, count: 1) }.first)
            let ourSpan: String? = try await withTracer(tracer) {
                try await KafkaConsumerTracing(consumer).withProcessSpan(message) { span in
                    try await TracedKafkaProducer(producer).send(KafkaProducerRecord(topic: outbound, key: "AAPL", value: [2]))
                    return StoredTraceContext.traceparent(of: span.context)
                }
            }
            await producer.close()
            #expect(ourSpan?.contains(traceID) == true, "our process span continues the Python trace")

            let reader = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [outbound]), logger: testLogger)
            let onward = try #require(try await withRunningConsumer(reader) { await collect(reader, count: 1) }.first)
            let onwardTraceparent = try #require(onward.headers.string("traceparent"))
            let onwardBaggage = try #require(onward.headers.string("baggage"))

            // What Python's SDK reads from what we wrote.
            let seen = try await pythonPeer("extract", input: ["traceparent": onwardTraceparent, "baggage": onwardBaggage])
            #expect(seen["traceId"] as? String == traceID, "same trace")
            #expect(seen["spanId"] as? String != pythonSpanID, "the parent is now our send span")
            #expect(seen["sampled"] as? Bool == true)
            #expect(seen["baggage"] as? [String: String] == baggage, "same baggage, unknown entries included")
        }
    }

    @Test("what we inject parses in the Python SDK: trace and span ids, sampling, percent-encoded UTF-8 baggage", arguments: testedTracers)
    func oursParseInPython(tracerName: String) async throws {
        let tracer = try tracer(tracerName)
        let (headers, traceparent) = withTracer(tracer) {
            withBaggage(["user.id": "zoë", "client.order_id": "c 1,2;3=4%"]) {
                withSpan("ours") { span -> (KafkaHeaders, String?) in
                    var headers = KafkaHeaders()
                    InstrumentationSystem.instrument.inject(span.context, into: &headers, using: KafkaHeadersInjector())
                    headers.set("baggage", Baggage.current.headerValue)
                    return (headers, StoredTraceContext.traceparent(of: span.context))
                }
            }
        }
        let ours = try #require(traceparent)
        let seen = try await pythonPeer("extract", input: ["traceparent": try #require(headers.string("traceparent")), "baggage": try #require(headers.string("baggage"))])
        #expect(seen["traceId"] as? String == String(ours.dropFirst(3).prefix(32)))
        #expect(seen["spanId"] as? String == String(ours.dropFirst(36).prefix(16)))
        #expect(seen["baggage"] as? [String: String] == ["user.id": "zoë", "client.order_id": "c 1,2;3=4%"])
    }
}
