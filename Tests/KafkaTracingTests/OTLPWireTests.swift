#if OTel
import Baggage
import Foundation
import Kafka
import KafkaTestSupport
import KafkaTracing
import Logging
import OTel
import ServiceLifecycle
import Testing
import TraceContext
import Tracing

@Suite("What a backend receives over OTLP", .timeLimit(.minutes(4)))
struct OTLPWireTests {
    @Test("producer/consumer parent and link, and a link rebuilt from a stored traceparent, reach the exporter")
    func exportedStructure() async throws {
        let receiver = try await OTLPCollector.start()
        var configuration = OTel.Configuration.default
        configuration.serviceName = "wire-test"
        configuration.traces.otlpExporter.protocol = .httpJSON
        configuration.traces.otlpExporter.endpoint = receiver.endpoint
        configuration.traces.batchSpanProcessor.scheduleDelay = .milliseconds(50)
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        let group = ServiceGroup(services: [backend.service], logger: testLogger)
        let exporting = Task { try await group.run() }

        try await withEmbeddedBroker { broker in
            let topic = uniqueName("wire")
            try broker.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let stored: String = try await withTracer(backend.factory) {
                try await withBaggage(["user.id": "alice", "client.order_id": "c-7"]) {
                    try await withSpan("client_order_received") { span in
                        try await TracedKafkaProducer(producer).send(KafkaProducerRecord(topic: topic, key: "AAPL", value: [1]))
                        return try #require(StoredTraceContext.traceparent(of: span.context))
                    }
                }
            }
            await producer.close()

            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [topic]), logger: testLogger)
            let message = try #require(try await withRunningConsumer(consumer) { await collect(consumer, count: 1) }.first)
            try await withTracer(backend.factory) {
                try await KafkaConsumerTracing(consumer).withProcessSpan(message) { _ in
                    // A batch made elsewhere, later, knows the order only by its stored traceparent.
                    let batching = startSpan("order_batching", context: .topLevel)
                    let member = try #require(StoredTraceContext.context(traceparent: stored))
                    batching.addLink(SpanLink(context: member, attributes: ["client.order_id": "c-7"]))
                    batching.end()
                }
            }
        }
        let names = ["client_order_received", "order_batching"]
        // Generous: on a loaded machine the exporter's batches took longer than 10 s to arrive
        // (all four did, at shutdown); this returns as soon as they are there.
        let arrived = await eventually(timeout: .seconds(60)) {
            let spans = receiver.spans
            return names.allSatisfy { name in spans.contains { $0["name"] as? String == name } } && spans.count >= 4
        }
        await group.triggerGracefulShutdown()
        try? await exporting.value
        await receiver.stop()
        #expect(arrived, "spans received: \(receiver.spans.map { $0["name"] ?? "?" })")

        let spans = receiver.spans
        struct MissingSpan: Error { var name: String }
        func span(_ name: String) throws -> [String: Any] {
            guard let found = spans.first(where: { ($0["name"] as? String)?.hasPrefix(name) == true }) else { throw MissingSpan(name: name) }
            return found
        }
        let root = try span("client_order_received")
        let send = try span("send wire-")
        let process = try span("process wire-")
        let batching = try span("order_batching")
        #expect(OTLPJSON.kind(send) == "PRODUCER")
        #expect(OTLPJSON.kind(process) == "CONSUMER")
        #expect(send["parentSpanId"] as? String == root["spanId"] as? String)
        #expect(process["traceId"] as? String == send["traceId"] as? String)
        #expect(process["parentSpanId"] as? String == send["spanId"] as? String)
        let processLinks = process["links"] as? [[String: Any]] ?? []
        #expect(processLinks.count == 1)
        #expect(processLinks.first?["spanId"] as? String == send["spanId"] as? String)
        let batchLinks = batching["links"] as? [[String: Any]] ?? []
        #expect(batchLinks.count == 1, "a link built from a stored traceparent is exported")
        #expect(batchLinks.first?["traceId"] as? String == root["traceId"] as? String)
        #expect(batchLinks.first?["spanId"] as? String == root["spanId"] as? String)
        #expect(OTLPJSON.attributes(batchLinks.first?["attributes"])["client.order_id"] == "c-7")

        let sendAttributes = OTLPJSON.attributes(send["attributes"])
        #expect(sendAttributes["messaging.system"] == "kafka")
        #expect(sendAttributes["user.id"] == "alice")
        #expect(OTLPJSON.attributes(process["attributes"])["client.order_id"] == "c-7")
        #expect(receiver.resourceAttributes["service.name"] == "wire-test")
    }
}
#endif
