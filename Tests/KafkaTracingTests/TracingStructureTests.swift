import Baggage
import InMemoryTracing
import Kafka
import OTLPWire
import KafkaTestSupport
@testable import KafkaTracing
import Testing
import TraceContext
import Tracing

@Suite("Messaging spans, headers and baggage (in-memory tracer)", .timeLimit(.minutes(2)))
struct TracingStructureTests {
    /// Sends `record` traced under a parent span and baggage, reads it back, and processes it
    /// in a traced handler; returns the received message, what the handler saw, and the tracer.
    private func roundTrip(
        broker: EmbeddedBroker, topic: String, record: KafkaProducerRecord, baggage: KeyValuePairs<String, String>
    ) async throws -> (message: KafkaMessage, seen: Baggage, tracer: InMemoryTracer) {
        let tracer = InMemoryTracer()
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
        _ = try await withTracer(tracer) {
            try await withBaggage(baggage) {
                try await withSpan("client_order_received") { _ in
                    try await TracedKafkaProducer(producer).send(record)
                }
            }
        }
        await producer.close()
        let (consumer, messages) = try await readBack(broker: broker, topic: topic, count: 1)
        let message = try #require(messages.first)
        let seen = await withTracer(tracer) {
            await KafkaConsumerTracing(consumer).withProcessSpan(message) { _ in Baggage.current }
        }
        return (message, seen, tracer)
    }

    /// Reads `count` records of `topic` in a new group; returns the consumer (closed) and them.
    private func readBack(broker: EmbeddedBroker, topic: String, count: Int) async throws -> (KafkaConsumer, [KafkaMessage]) {
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [topic]), logger: testLogger)
        return (consumer, try await withRunningConsumer(consumer) { await collect(consumer, count: count) })
    }

    @Test("send and process spans: kinds, parents, the link back, messaging attributes, allow-listed business ids, baggage passed on")
    func producerToConsumer() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("traced")
            try broker.createTopic(topic, partitions: 2)
            var stale = KafkaHeaders()
            stale.set("baggage", "stale=1")
            let record = KafkaProducerRecord(topic: topic, key: "AAPL", value: Array("{}".utf8), headers: stale)
            let (message, seen, tracer) = try await roundTrip(
                broker: broker, topic: topic, record: record,
                baggage: ["user.id": "alice", "client.order_id": "c-1", "api.secret": "s3cr3t"])

            let spans = tracer.finishedSpans
            let root = try #require(spans.first { $0.operationName == "client_order_received" })
            let send = try #require(spans.first { $0.operationName == "send \(topic)" })
            let process = try #require(spans.first { $0.operationName == "process \(topic)" })
            #expect(send.kind == .producer)
            #expect(send.parentSpanID == root.spanID)
            #expect(process.kind == .consumer)
            #expect(process.traceID == send.traceID)
            #expect(process.parentSpanID == send.spanID)
            #expect(process.links.count == 1)
            #expect(process.links.first?.context.inMemorySpanContext?.spanID == send.spanID)

            #expect(send.attributes["messaging.system"]?.toSpanAttribute() == "kafka")
            #expect(send.attributes["messaging.operation.name"]?.toSpanAttribute() == "send")
            #expect(send.attributes["messaging.destination.name"]?.toSpanAttribute() == .string(topic))
            #expect(send.attributes["messaging.kafka.message.key"]?.toSpanAttribute() == "AAPL")
            #expect(send.attributes["messaging.destination.partition.id"]?.toSpanAttribute() == .string(String(message.partition)))
            #expect(send.attributes["messaging.kafka.offset"]?.toSpanAttribute() == .int64(message.offset))
            #expect(process.attributes["messaging.operation.type"]?.toSpanAttribute() == "process")
            #expect(process.attributes["messaging.consumer.group.name"] != nil)
            #expect(process.attributes["messaging.kafka.offset"]?.toSpanAttribute() == .int64(message.offset))
            for span in [send, process] {
                #expect(span.attributes["user.id"]?.toSpanAttribute() == "alice")
                #expect(span.attributes["client.order_id"]?.toSpanAttribute() == "c-1")
                #expect(span.attributes["api.secret"] == nil, "only allow-listed keys become attributes")
            }
            #expect(process.attributes["ordertrace.trace_context.problem"] == nil)

            // One baggage header, replacing the stale one, carrying every entry (unknown ones too).
            #expect(message.headers.filter { $0.key == "baggage" }.count == 1)
            #expect(seen["user.id"] == "alice")
            #expect(seen["api.secret"] == "s3cr3t")
            #expect(seen["stale"] == nil)
        }
    }

    @Test("baggage the caller has serialized already goes into the header byte for byte; items without it are serialized from their context")
    func callerSerializedBaggage() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("kept")
            try broker.createTopic(topic, partitions: 1)
            let tracer = InMemoryTracer()
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let baggage: Baggage = ["user.id": "alice", "client.order_id": "c-1"]
            var context = ServiceContext.topLevel
            context.baggage = baggage
            // The same entries as the context's, spelled with the optional whitespace W3C allows:
            // only the caller's text has it.
            let kept = Array("user.id = alice , client.order_id = c-1".utf8)
            let records = (0..<2).map { KafkaProducerRecord(topic: topic, key: "k\($0)", value: Array("{}".utf8)) }
            let results = try await withTracer(tracer) {
                try await TracedKafkaProducer(producer).send([(records[0], context), (records[1], context)], baggageHeaders: [kept, nil])
            }
            await producer.close()
            #expect(results.allSatisfy { (try? $0.get()) != nil })
            let (_, messages) = try await readBack(broker: broker, topic: topic, count: 2)
            let byKey = Dictionary(uniqueKeysWithValues: messages.map { ($0.keyString ?? "", $0) })
            #expect(byKey["k0"]?.headers.first { $0.key == "baggage" }?.value == kept)
            #expect(byKey["k1"]?.headers.string("baggage") == baggage.headerValue)
            // Both spans still take the business ids from the context's baggage.
            let sends = tracer.finishedSpans.filter { $0.operationName == "send \(topic)" }
            #expect(sends.count == 2)
            #expect(sends.allSatisfy { $0.attributes["client.order_id"]?.toSpanAttribute() == "c-1" })
        }
    }

    @Test("records sent under spans (another tracer's): each send span is the child of its span, with that span's baggage in its header and attributes")
    func sendUnderSpans() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("under-spans")
            try broker.createTopic(topic, partitions: 1)
            let tracer = InMemoryTracer()
            let messaging = MessagingTracing.tracer(for: tracer)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let order = messaging.startMessagingSpan("order", context: .topLevel, ofKind: .server)
            let member = order.context(baggage: ["user.id": "alice", "tenant": "blue"])
            let updates = ["f-1", "f-2"].map { fill in
                let baggage = (member.baggage ?? Baggage()).setting(["client.order_id": "c-1", "fill.id": fill])
                return messaging.startMessagingSpan("update \(fill)", context: member, baggage: baggage, ofKind: .internal)
            }
            #expect(updates.map { $0.baggage?["fill.id"] } == ["f-1", "f-2"])
            #expect(member.baggage?["fill.id"] == nil, "the member's context keeps its baggage")
            #expect(StoredTraceContext.traceparent(of: updates[0]) == StoredTraceContext.traceparent(of: updates[0].context))
            let records = (0..<2).map { KafkaProducerRecord(topic: topic, key: "k\($0)", value: Array("{}".utf8)) }
            let results = try await withTracer(tracer) {
                try await TracedKafkaProducer(producer).send(records, parents: updates.map { .span($0) })
            }
            await producer.close()
            for span in updates + [order] { span.end() }
            #expect(results.allSatisfy { (try? $0.get()) != nil })
            let (_, messages) = try await readBack(broker: broker, topic: topic, count: 2)
            let byKey = Dictionary(uniqueKeysWithValues: messages.map { ($0.keyString ?? "", $0) })
            #expect(byKey["k0"]?.headers.string("baggage") == updates[0].baggage?.headerValue)
            #expect(byKey["k1"]?.headers.string("baggage") == updates[1].baggage?.headerValue)
            let spans = tracer.finishedSpans
            let orderSpan = try #require(spans.first { $0.operationName == "order" })
            let sends = spans.filter { $0.operationName == "send \(topic)" }
            #expect(sends.count == 2)
            for (index, fill) in ["f-1", "f-2"].enumerated() {
                let update = try #require(spans.first { $0.operationName == "update \(fill)" })
                #expect(update.parentSpanID == orderSpan.spanID)
                let send = try #require(sends.first { $0.parentSpanID == update.spanID })
                #expect(send.kind == .producer)
                #expect(send.attributes["fill.id"]?.toSpanAttribute() == .string(fill))
                #expect(send.attributes["client.order_id"]?.toSpanAttribute() == "c-1")
                #expect(send.attributes["tenant"] == nil, "only allow-listed keys become attributes")
                #expect(byKey["k\(index)"]?.headers.string("baggage")?.contains("fill.id=\(fill)") == true)
            }
        }
    }

    @Test("parents of another tracer: a span with other baggage and a stored context become contexts, once; their children and links are as through those contexts")
    func parentsOfAnotherTracer() async throws {
        let tracer = InMemoryTracer()
        let messaging = MessagingTracing.tracer(for: tracer)
        let processing = messaging.startMessagingSpan("processing", context: .topLevel, ofKind: .internal)
        let orderBaggage: Baggage = ["user.id": "alice", "client.order_id": "c-1"]
        let parent = messaging.parent(processing, baggage: orderBaggage)
        guard case .context(let context) = parent else {
            Issue.record("another tracer's parent is a context, got \(parent)")
            return
        }
        #expect(context.baggage == orderBaggage)
        #expect(parent.w3cSpanContext == nil, "the in-memory tracer keeps no W3C span context")
        let child = messaging.startMessagingSpan("accepted", parent: parent, ofKind: .producer)
        #expect(child.baggage == orderBaggage)
        // A span with other baggage as the parent, without the factory: the context is made for it.
        let again = messaging.startMessagingSpan("batched", parent: .spanWithBaggage(processing, orderBaggage), ofKind: .internal)
        #expect(again.baggage == orderBaggage)
        let stored = StoredContext(of: parent)
        #expect(stored.baggage == orderBaggage.headerValue)
        let fromStored = withTracer(tracer) { messaging.parent(stored: stored) }
        guard case .context = fromStored else {
            Issue.record("another tracer's stored parent is a context, got \(fromStored)")
            return
        }
        let linked = messaging.startMessagingSpan("matching", context: .topLevel, ofKind: .internal)
        linked.addLink(to: parent, attributes: [Attribute("client.order_id", .string("c-1"))])
        for span in [linked, again, child, processing] { span.end() }
        let spans = tracer.finishedSpans
        let processingSpan = try #require(spans.first { $0.operationName == "processing" })
        for name in ["accepted", "batched"] {
            #expect(spans.first { $0.operationName == name }?.parentSpanID == processingSpan.spanID, "\(name)")
        }
        let matching = try #require(spans.first { $0.operationName == "matching" })
        #expect(matching.links.count == 1)
        #expect(matching.links.first?.context.inMemorySpanContext?.spanID == processingSpan.spanID)
        #expect(matching.links.first?.attributes["client.order_id"]?.toSpanAttribute() == "c-1")
    }

    @Test("a malformed or missing traceparent starts a new trace, says why, and never fails the record", arguments: [
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "invalid traceparent"),
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "version ff"),
        ("", "too short"),
        (nil, "no traceparent header"),
    ] as [(String?, String)])
    func badTraceParent(_ traceparent: String?, reason: String) async throws {
        let tracer = InMemoryTracer()
        var headers = KafkaHeaders()
        if let traceparent { headers.set("traceparent", traceparent) }
        headers.set("baggage", "user.id=bob,bad entry,client.order_id=c-9")
        let message = KafkaMessage(topic: "client-orders", partition: 1, offset: 42, key: Array("AAPL".utf8), value: [], headers: headers)
        let tracing = KafkaConsumerTracing(groupID: "g", clientID: "c")
        let handled = await withTracer(tracer) {
            await tracing.withProcessSpan(message) { _ in Baggage.current }
        }
        let span = try #require(tracer.finishedSpans.first)
        #expect(span.parentSpanID == nil, "a new root")
        #expect(span.links.isEmpty)
        let problem = span.attributes["ordertrace.trace_context.problem"]?.toSpanAttribute()
        #expect(problem.map { "\($0)".contains(reason) } == true, "\(String(describing: problem))")
        // The invalid baggage entry is dropped alone.
        #expect(handled["user.id"] == "bob")
        #expect(handled["client.order_id"] == "c-9")
        #expect(span.attributes["user.id"]?.toSpanAttribute() == "bob")
    }

    @Test("an error thrown by the handler is recorded on the process span and rethrown")
    func handlerError() async throws {
        struct Rejected: Error {}
        let tracer = InMemoryTracer()
        let message = KafkaMessage(topic: "t", partition: 0, offset: 1, key: nil, value: [])
        await #expect(throws: Rejected.self) {
            try await withTracer(tracer) {
                try await KafkaConsumerTracing(groupID: "g", clientID: "c").withProcessSpan(message) { _ in throw Rejected() }
            }
        }
        let span = try #require(tracer.finishedSpans.first)
        #expect(span.errors.count == 1)
        #expect(span.status?.code == .error)
        #expect(span.attributes["error.type"] != nil)
    }

    @Test("a batch span links every record with what differs per record; links past the limit are counted")
    func batchLinks() async throws {
        let tracer = InMemoryTracer()
        let producerSpans = withTracer(tracer) { (0..<5).map { startSpan("producer \($0)", context: .topLevel, ofKind: .producer) } }
        var messages: [KafkaMessage] = []
        for (index, span) in producerSpans.enumerated() {
            var headers = KafkaHeaders()
            withTracer(tracer) { InstrumentationSystem.instrument.inject(span.context, into: &headers, using: KafkaHeadersInjector()) }
            headers.set("baggage", "client.order_id=c-\(index)")
            messages.append(KafkaMessage(topic: "client-orders", partition: 0, offset: Int64(index), key: Array("AAPL".utf8), value: [], headers: headers))
            span.end()
        }
        let tracing = KafkaConsumerTracing(groupID: "g", clientID: "c")
        let batch = withTracer(tracer) { tracing.startBatchProcessSpan(messages) }
        batch.end()
        let finished = try #require(tracer.finishedSpans.first { $0.operationName == "process client-orders" })
        #expect(finished.links.count == 5)
        #expect(finished.attributes["messaging.batch.message_count"]?.toSpanAttribute() == 5)
        for (index, link) in finished.links.enumerated() {
            #expect(link.attributes["messaging.kafka.offset"]?.toSpanAttribute() == .int64(Int64(index)))
            #expect(link.attributes["client.order_id"]?.toSpanAttribute() == .string("c-\(index)"))
        }

        let overflow = withTracer(tracer) { startSpan("order_batching", context: .topLevel) }
        let links = producerSpans.map { SpanLink(context: $0.context, attributes: [:]) }
        LinkLimit.addLinks(links + links + links, to: overflow, limit: 8)
        overflow.end()
        let capped = try #require(tracer.finishedSpans.first { $0.operationName == "order_batching" })
        #expect(capped.links.count == 8)
        #expect(capped.attributes["ordertrace.links.dropped_count"]?.toSpanAttribute() == 7)
    }

    @Test("links given as OTLP values reach another tracer as SpanLinks, capped and counted like the others")
    func otlpValuedLinksOnAnotherTracer() async throws {
        let tracer = InMemoryTracer()
        let orders = withTracer(tracer) { (0..<5).map { startSpan("order \($0)", context: .topLevel, ofKind: .server) } }
        for order in orders { order.end() }
        let matching = MessagingTracing.tracer(for: tracer).startMessagingSpan("fill_matching", context: .topLevel, ofKind: .internal)
        let links = orders.enumerated().map { index, order in
            (parent: MessagingParent.context(order.context), attributes: [
                Attribute("allocated.quantity", .int(Int64(10 * index))), Attribute("client.order_id", .string("c-\(index)")),
            ])
        }
        LinkLimit.addLinks(links, to: matching, limit: 3)
        matching.end()
        let finished = try #require(tracer.finishedSpans.first { $0.operationName == "fill_matching" })
        #expect(finished.links.count == 3)
        for (index, link) in finished.links.enumerated() {
            #expect(link.context.inMemorySpanContext != nil)
            #expect(link.context.inMemorySpanContext == orders[index].context.inMemorySpanContext)
            #expect(link.attributes["allocated.quantity"]?.toSpanAttribute() == .int64(Int64(10 * index)))
            #expect(link.attributes["client.order_id"]?.toSpanAttribute() == .string("c-\(index)"))
        }
        #expect(finished.attributes["ordertrace.links.dropped_count"]?.toSpanAttribute() == 2)
    }
}
