import Baggage
import Kafka
import KafkaTestSupport
@testable import KafkaTracing
import LeanTracing
import OTLPWire
import Synchronization
import Testing
import TraceContext
import Tracing

/// The Kafka layer's own paths for the lean tracer: the producer writes the span context into
/// the headers as bytes, and the consumer starts the process span straight from the header
/// bytes, with the baggage added to the handler's context only when asked for.
@Suite("Messaging spans and headers with the lean tracer", .timeLimit(.minutes(2)))
struct LeanKafkaTracingTests {
    @Test("send and process: headers written as bytes, parent and link from them, baggage to the handler, unlisted keys kept out of attributes")
    func producerToConsumer() async throws {
        var received: KafkaMessage?
        var handlerBaggage = Baggage()
        var handlerSpanContext: SpanContext?
        let spans = try await withLeanTracer(propagatesBaggage: false) { tracer in
            try await withEmbeddedBroker { broker in
                let topic = uniqueName("lean")
                try broker.createTopic(topic, partitions: 2)
                var stale = KafkaHeaders()
                stale.set("tracestate", "stale=1")
                let record = KafkaProducerRecord(topic: topic, key: "AAPL", value: Array("{}".utf8), headers: stale)
                let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
                try await withTracer(tracer) {
                    try await withBaggage(["user.id": "alice", "client.order_id": "c-1", "api.secret": "s3cr3t"]) {
                        try await withSpan("client_order_received") { _ in
                            _ = try await TracedKafkaProducer(producer).send(record)
                        }
                    }
                }
                await producer.close()
                let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [topic]), logger: testLogger)
                let message = try #require(try await withRunningConsumer(consumer) { await collect(consumer, count: 1) }.first)
                received = message
                (handlerBaggage, handlerSpanContext) = await withTracer(tracer) {
                    await KafkaConsumerTracing(consumer).withProcessSpan(message) { _ in
                        (Baggage.current, ServiceContext.current?.spanContext)
                    }
                }
            }
        }
        try checkRoundTrip(spans: spans, message: try #require(received), handlerBaggage: handlerBaggage, handlerSpanContext: handlerSpanContext)
    }

    private func checkRoundTrip(spans: [SpanData], message: KafkaMessage, handlerBaggage: Baggage, handlerSpanContext: SpanContext?) throws {
        let root = try #require(spans.first { $0.name == "client_order_received" })
        let send = try #require(spans.first { $0.name.hasPrefix("send ") })
        let process = try #require(spans.first { $0.name.hasPrefix("process ") })
        #expect(send.kind == .producer && process.kind == .consumer)
        #expect(send.parentSpanID == root.spanID && send.traceID == root.traceID)
        // The header holds the send span, written as the W3C string, and a stale tracestate is gone.
        let expected = SpanContext(traceID: send.traceID, spanID: send.spanID, traceFlags: 1).traceparent
        #expect(message.headers.string("traceparent") == expected)
        #expect(!message.headers.contains("tracestate"))
        #expect(message.headers.string("baggage").map { Baggage(headerValue: $0)["client.order_id"] } == "c-1")
        // The process span's parent and its link both come from those bytes.
        #expect(process.traceID == send.traceID)
        #expect(process.parentSpanID == send.spanID)
        #expect(process.links.map(\.spanID) == [send.spanID])
        #expect(process.links.first?.traceID == send.traceID)
        let attributes = Dictionary(process.attributes.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        #expect(attributes["messaging.system"] == .string("kafka"))
        #expect(attributes["messaging.operation.name"] == .string("process"))
        #expect(attributes["messaging.destination.partition.id"] == .string(String(message.partition)))
        #expect(attributes["messaging.kafka.offset"] == .int(message.offset))
        #expect(attributes["messaging.kafka.message.key"] == .string("AAPL"))
        #expect(attributes["user.id"] == .string("alice"))
        #expect(attributes["api.secret"] == nil, "not on the allow-list")
        #expect(attributes["ordertrace.trace_context.problem"] == nil)
        // The handler ran in the process span, with the whole baggage.
        #expect(handlerSpanContext?.spanID == process.spanID)
        #expect(handlerBaggage["user.id"] == "alice")
        #expect(handlerBaggage["api.secret"] == "s3cr3t", "baggage is passed on intact")
    }

    @Test("a missing or malformed traceparent starts a new trace, says why, links nothing; the baggage survives", arguments: [
        (nil, "no traceparent header"),
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "trace-id"),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "all zeros"),
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version ff"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "too short"),
        ("garbage", "too short"),
    ] as [(String?, String)])
    func malformed(traceparent: String?, reason: String) async throws {
        var headers = KafkaHeaders()
        if let traceparent { headers.set("traceparent", traceparent) }
        headers.set("baggage", "user.id=bob,bad entry,client.order_id=c-9")
        let message = KafkaMessage(topic: "client-orders", partition: 1, offset: 42, key: Array("AAPL".utf8), value: [], headers: headers)
        let seen = Mutex(Baggage())
        let spans = try await withLeanTracer(propagatesBaggage: false) { tracer in
            await withTracer(tracer) {
                await KafkaConsumerTracing(groupID: "g", clientID: "c").withProcessSpan(message) { _ in
                    seen.withLock { $0 = Baggage.current }
                }
            }
        }
        checkNewRoot(spans: spans, reason: reason, seen: seen.withLock { $0 })
    }

    private func checkNewRoot(spans: [SpanData], reason: String, seen: Baggage) {
        #expect(spans.count == 1)
        guard let span = spans.first else { return }
        #expect(span.parentSpanID == 0, "a new root")
        #expect(span.links.isEmpty)
        let problem = span.attributes.first { $0.key == "ordertrace.trace_context.problem" }?.value
        if case .string(let text) = problem {
            #expect(text.contains(reason), "\(text)")
        } else {
            Issue.record("no problem recorded: \(String(describing: problem))")
        }
        #expect(seen["user.id"] == "bob")
        #expect(seen["client.order_id"] == "c-9", "the invalid entry is dropped alone")
    }

    @Test("tracestate is carried into the process span and out again; an unsampled parent propagates flags 00 and exports nothing")
    func traceStateAndSampling() async throws {
        var headers = KafkaHeaders()
        headers.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        headers.set("tracestate", "vendor=abc")
        var unsampledHeaders = KafkaHeaders()
        unsampledHeaders.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
        let sampled = KafkaMessage(topic: "fills", partition: 0, offset: 1, key: nil, value: [], headers: headers)
        let unsampled = KafkaMessage(topic: "fills", partition: 0, offset: 2, key: nil, value: [], headers: unsampledHeaders)
        let passedOn = Mutex<[KafkaHeaders]>([])
        let spans = try await withLeanTracer(propagatesBaggage: false) { tracer in
            withTracer(tracer) {
                let tracing = KafkaConsumerTracing(groupID: "g", clientID: "c")
                for message in [sampled, unsampled] {
                    let span = tracing.startProcessSpan(message)
                    var next = KafkaHeaders()
                    InstrumentationSystem.instrument.inject(span.context, into: &next, using: KafkaHeadersInjector())
                    passedOn.withLock { $0.append(next) }
                    span.end()
                }
            }
        }
        checkTraceState(spans: spans, passedOn: passedOn.withLock { $0 })
    }

    private func checkTraceState(spans: [SpanData], passedOn: [KafkaHeaders]) {
        #expect(spans.count == 1, "the unsampled record's span is not exported")
        #expect(spans.first?.traceState == "vendor=abc")
        #expect(spans.first?.parentSpanID == 0x00f0_67aa_0ba9_02b7)
        guard passedOn.count == 2 else {
            Issue.record("expected two contexts")
            return
        }
        #expect(passedOn[0].string("tracestate") == "vendor=abc")
        #expect(passedOn[0].string("traceparent")?.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") == true)
        #expect(passedOn[0].string("traceparent")?.hasSuffix("-01") == true)
        #expect(passedOn[1].string("traceparent")?.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") == true)
        #expect(passedOn[1].string("traceparent")?.hasSuffix("-00") == true, "unsampled stays unsampled")
    }
}
