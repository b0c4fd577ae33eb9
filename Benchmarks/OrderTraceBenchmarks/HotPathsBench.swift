import ArgumentParser
import Baggage
import CMallocCounter
import CommandLineSupport
import Foundation
import Kafka
import KafkaTracing
import LeanTracing
import OTLPWire
import OrderModel
import TraceContext
import Tracing

/// Micro-benchmarks of the per-record hot paths, each in ns per operation and heap allocations
/// per operation (malloc, calloc, realloc and aligned allocations of the measuring thread, counted by the
/// executable's `CMallocCounter`), with a baseline where one exists, in one run:
///
/// - W3C propagation: `traceparent` written into Kafka headers and parsed back, `baggage`
///   serialized and parsed, a received record's whole context read (`CarriedTraceContext`);
///   baseline: the same through the swift-distributed-tracing `Instrument` API (a dictionary
///   carrier), which is what a tracer-agnostic component would pay;
/// - spans: start, typical attributes, a link, end, on the lean tracer; baseline: the same calls on
///   `NoOpTracer` (untraced). Export is not included (see `bench spans`): ended spans stay in the
///   tracer's buffer, made large enough that none is dropped (one row encodes each span as it
///   ends, as a tracer with a protobuf export does);
/// - JSON: decode (with validation) and encode of each message type with OrderModel's codec;
///   baseline: Foundation's `JSONSerialization` on the same bytes, into untyped dictionaries and
///   without validation;
/// - allocation of one fill over a 100-member batch (`BatchAllocation.apply`).
struct HotPathsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hotpaths",
        abstract: "ns and heap allocations per operation of the per-record hot paths (propagation, spans, JSON, fill allocation), with ratios to their baselines."
    )

    @Option(help: "Operations per round of each benchmark (spans: a fifth of it).")
    var iterations = 100_000

    @Option(help: "Rounds; the fastest is reported (allocations are the same in every round).")
    var rounds = 3

    struct Measurement {
        var ns: Double
        var allocations: Double
    }

    func run() throws {
        guard iterations > 0, rounds > 0 else { throw ValidationError("--iterations and --rounds must be positive") }
        say("bench-hotpaths: \(iterations) operations a round, best of \(rounds) round(s); allocs = heap allocations (malloc, calloc, realloc, aligned) of this thread per operation")
        say("  " + "operation".padding(toLength: 44, withPad: " ", startingAt: 0) + "      ns/op  allocs/op   baseline                            ns/op  allocs/op  ratio")
        try propagation()
        spans()
        try json()
        try fillAllocation()
    }

    // MARK: Measuring

    /// The fastest of `rounds` rounds of `count` calls of `body`, in ns per call, and the
    /// allocations of the calling thread per call.
    private func measure(_ count: Int? = nil, _ body: () -> Void) -> Measurement {
        let count = count ?? iterations
        var fastest = Double.infinity
        var allocations = Double.infinity
        for _ in 0..<rounds {
            let allocationsBefore = ordertrace_thread_allocations()
            let start = ContinuousClock.now
            for _ in 0..<count { body() }
            let elapsed = ContinuousClock.now - start
            let allocated = ordertrace_thread_allocations() - allocationsBefore
            fastest = min(fastest, elapsed.seconds * 1e9 / Double(count))
            allocations = min(allocations, Double(allocated) / Double(count))
        }
        return Measurement(ns: fastest, allocations: allocations)
    }

    private func report(_ name: String, _ ours: Measurement, baseline: (name: String, Measurement)? = nil) {
        var line = "  " + name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: " %9.0f  %9.1f", ours.ns, ours.allocations)
        if let (baselineName, theirs) = baseline {
            line += "   " + baselineName.padding(toLength: 32, withPad: " ", startingAt: 0)
            line += String(format: " %9.0f  %9.1f  %5.2f", theirs.ns, theirs.allocations, ours.ns / theirs.ns)
        }
        say(line)
    }

    // MARK: Propagation

    private func propagation() throws {
        let tracer = LeanTracer(bufferCapacity: 1_024)
        let messaging = MessagingTracing.tracer(for: tracer)
        let parent = messaging.startMessagingSpan("send client-orders", context: .topLevel, ofKind: .producer)
        defer { parent.end() }
        var context = parent.context
        let baggage: Baggage = ["user.id": "alice", "client.order_id": "c-1001", "batch.id": "b-AAPL-buy-7"]
        context.baggage = baggage

        // traceparent into Kafka headers, as the traced producer writes it (bytes, in place).
        var headers = KafkaHeaders()
        headers.reserveCapacity(4)
        parent.writeContext(into: &headers)
        let inject = measure { parent.writeContext(into: &headers) }
        var carrier: [String: String] = [:]
        let instrumentInject = measure {
            tracer.inject(context, into: &carrier, using: DictionaryCarrier())
        }
        report("traceparent inject (into Kafka headers)", inject, baseline: ("Instrument.inject (dictionary)", instrumentInject))

        // The traceparent stored with an outbox row (the allocator: once per order update), against
        // the tracer's inject into a fresh dictionary, which it took before (with the baggage
        // serialized too).
        var storedBytes = 0
        let stored = measure { storedBytes &+= StoredTraceContext.traceparent(of: context)?.utf8.count ?? 0 }
        let injectedForStore = measure {
            var fresh: [String: String] = [:]
            tracer.inject(context, into: &fresh, using: DictionaryCarrier())
            storedBytes &+= fresh["traceparent"]?.utf8.count ?? 0
        }
        report("traceparent to store (with baggage)", stored, baseline: ("Instrument.inject (dictionary)", injectedForStore))
        guard storedBytes > 0 else { throw ValidationError("no traceparent to store") }

        let traceparent = headers["traceparent"]!
        var found = 0
        let extract = measure {
            if case .valid = SpanContext.parse(traceparent: traceparent) { found &+= 1 }
        }
        let textCarrier = ["traceparent": String(decoding: traceparent, as: UTF8.self)]
        let instrumentExtract = measure {
            var extracted = ServiceContext.topLevel
            tracer.extract(textCarrier, into: &extracted, using: DictionaryCarrier())
            if extracted.baggage == nil { found &+= 1 }
        }
        report("traceparent extract (parse the header)", extract, baseline: ("Instrument.extract (dictionary)", instrumentExtract))

        let baggageInject = measure {
            headers.set("baggage", bytes: Array(baggage.headerValue.utf8))
        }
        report("baggage inject (3 entries, serialize)", baggageInject)
        // The allocator's per-update baggage: the order's, with its four ids set (two of them
        // already there with the same values).
        let orderContext = context
        let setIDs = measure {
            let updated = orderContext.settingBaggage([
                "user.id": "alice", "client.order_id": "c-1001", "batch.id": "b-AAPL-buy-7", "fill.id": "f-x-b-AAPL-buy-7-0-1",
            ])
            found &+= updated.baggage?.count ?? 0
        }
        report("baggage: set an update's 4 ids on an order's", setIDs)
        // What the allocator does instead: three of them (user, client order, batch) are set once
        // a batch on each member's baggage; an update sets its fill's.
        let memberBaggage = (orderContext.baggage ?? Baggage()).setting(["user.id": "alice", "client.order_id": "c-1001", "batch.id": "b-AAPL-buy-7"])
        let setFill = measure {
            found &+= memberBaggage.setting(["fill.id": "f-x-b-AAPL-buy-7-0-1"]).count
        }
        report("baggage: set a fill's id on a member's", setFill, baseline: ("the 4 ids on an order's (above)", setIDs))
        let baggageBytes = headers["baggage"]!
        let baggageExtract = measure {
            found &+= Baggage(utf8HeaderValues: CollectionOfOne(baggageBytes)).count
        }
        report("baggage extract (3 entries, parse)", baggageExtract)

        let message = KafkaMessage(topic: "client-orders", partition: 0, offset: 0, key: Array("AAPL".utf8), value: [], headers: headers)
        let carried = measure {
            let carried = CarriedTraceContext(message)
            found &+= (carried.baggage?.count ?? 0) + (carried.parent == nil ? 0 : 1)
        }
        var fullCarrier = textCarrier
        fullCarrier["baggage"] = String(decoding: baggageBytes, as: UTF8.self)
        let baggageTracer = LeanTracer(bufferCapacity: 1_024, propagatesBaggage: true)
        let instrumentCarried = measure {
            var extracted = ServiceContext.topLevel
            baggageTracer.extract(fullCarrier, into: &extracted, using: DictionaryCarrier())
            found &+= extracted.baggage?.count ?? 0
        }
        report("a record's context (traceparent+baggage)", carried, baseline: ("Instrument.extract (dictionary)", instrumentCarried))
        guard found > 0 else { throw ValidationError("propagation lost every context") }
    }

    // MARK: Spans

    /// The messaging attributes the traced producer gives a `send order-updates` span at its
    /// start, in an array with room for `count`.
    @inline(__always)
    static func sendAttributes(reserving count: Int) -> [Attribute] {
        var attributes: [Attribute] = []
        attributes.reserveCapacity(count)
        attributes.append(Attribute("messaging.system", .string("kafka")))
        attributes.append(Attribute("messaging.operation.name", .string("send")))
        attributes.append(Attribute("messaging.operation.type", .string("send")))
        attributes.append(Attribute("messaging.destination.name", .string("order-updates")))
        attributes.append(Attribute("messaging.client.id", .string("allocator")))
        attributes.append(Attribute("messaging.kafka.message.key", .string("alice")))
        return attributes
    }

    private func spans() {
        let count = max(1, iterations / 5)
        // Export is not measured: every ended span stays in the buffer (sized for a round).
        func makeLean(encodesSpans: Bool = false) -> LeanTracer { LeanTracer(bufferCapacity: count + 1_024, encodesSpans: encodesSpans) }
        let linked = makeLean().startSpan("order received", context: .topLevel, ofKind: .server)
        linked.end()
        let link = SpanLink(context: linked.context, attributes: [:])
        let attributes: SpanAttributes = [
            "messaging.system": "kafka", "messaging.operation.name": "process", "messaging.operation.type": "process",
            "messaging.destination.name": "client-orders", "messaging.kafka.message.key": "AAPL",
            "messaging.destination.partition.id": "3", "messaging.kafka.offset": 1_234,
        ]

        /// The best of `rounds` rounds, each with what `round` makes anew (a tracer whose buffer
        /// holds one round's spans).
        func bestRound(_ round: () -> Measurement) -> Measurement {
            var best = Measurement(ns: .infinity, allocations: .infinity)
            for _ in 0..<rounds {
                let once = round()
                best = Measurement(ns: min(best.ns, once.ns), allocations: min(best.allocations, once.allocations))
            }
            return best
        }
        func measureSpans<T: Tracer>(_ makeTracer: () -> T, withLink: Bool) -> Measurement {
            bestRound {
                let tracer = makeTracer()
                let parent = tracer.startSpan("process client-orders", context: .topLevel, ofKind: .consumer)
                defer { parent.end() }
                let context = parent.context
                return Self.measureOnce(count) {
                    let span = tracer.startSpan("allocate fill", context: context, ofKind: .internal)
                    span.updateAttributes { $0.merge(attributes) }
                    if withLink { span.addLink(link) }
                    span.end()
                }
            }
        }
        let lean = measureSpans({ makeLean() }, withLink: false)
        let untraced = measureSpans({ NoOpTracer() }, withLink: false)
        report("span: start, 7 attributes, end", lean, baseline: ("untraced (NoOpTracer)", untraced))
        let leanLinked = measureSpans({ makeLean() }, withLink: true)
        let untracedLinked = measureSpans({ NoOpTracer() }, withLink: true)
        report("span: start, 7 attributes, 1 link, end", leanLinked, baseline: ("untraced (NoOpTracer)", untracedLinked))

        // The path the components take (`MessagingTracing`): a span started from a context,
        // its attributes as OTLP values in one array, as the traced producer sets them.
        func measureMessagingSpans(encodesSpans: Bool = false) -> Measurement {
            bestRound {
                let tracer = makeLean(encodesSpans: encodesSpans)
                let parent = tracer.startMessagingSpan("client_order_update", context: .topLevel, ofKind: .internal)
                defer { parent.end() }
                let context = parent.context
                let partition = Int32(3)
                return Self.measureOnce(count) {
                    let span = tracer.startMessagingSpan("send order-updates", context: context, ofKind: .producer)
                    var attributes = Self.sendAttributes(reserving: 9)
                    attributes.append(Attribute("messaging.destination.partition.id", .string(String(partition))))
                    span.setAttributes(attributes)
                    span.end()
                }
            }
        }
        let messagingSpan = measureMessagingSpans()
        report("messaging span: start, 7 attributes, end", messagingSpan, baseline: ("the same through SpanAttributes", lean))
        // As `ordertrace` runs it with a protobuf export: the span is encoded as it ends (the
        // export then only frames the bytes; above, the encoding waits for the export).
        let encodedSpan = measureMessagingSpans(encodesSpans: true)
        report("messaging span, encoded as it ends", encodedSpan, baseline: ("kept as values (above)", messagingSpan))

        // A `send order-updates` span as the traced producer makes it for an allocator update:
        // the messaging attributes and the update's four business ids at the start, then the
        // partition and the offset once the record is delivered; encoded as it ends.
        let sendSpan = bestRound {
            let tracer = makeLean(encodesSpans: true)
            let parent = tracer.startMessagingSpan("client_order_update", context: .topLevel, ofKind: .internal)
            defer { parent.end() }
            let context = parent.context
            var offset: Int64 = 1_000
            // Ids made at run time, as decoded ones are (heap strings past 15 bytes, counted references).
            func made(_ text: String) -> String { String(decoding: Array(text.utf8), as: UTF8.self) }
            let (clientOrderID, batchID, fillID) = (made("0b9d2c1e-7f3a-4a51-9a4e-2f6d1c8b7e90"), made("AAPL-buy-000123"), made("AAPL-buy-000123-x2-f1"))
            return Self.measureOnce(count) {
                let span = tracer.startMessagingSpan("send order-updates", context: context, ofKind: .producer)
                // Gone before the delivery, as in the producer: the span then holds the only reference.
                do {
                    var attributes = Self.sendAttributes(reserving: 14)
                    attributes.append(Attribute("user.id", .string("alice")))
                    attributes.append(Attribute("client.order_id", .string(clientOrderID)))
                    attributes.append(Attribute("batch.id", .string(batchID)))
                    attributes.append(Attribute("fill.id", .string(fillID)))
                    span.setAttributes(attributes)
                }
                offset &+= 1
                span.setAttribute("messaging.destination.partition.id", .string("3"))
                span.setAttribute("messaging.kafka.offset", .int(offset))
                span.end()
            }
        }
        report("send span, 10 attributes + 2 on delivery", sendSpan, baseline: ("7 attributes, encoded (above)", encodedSpan))

        // An allocator update's two spans: `client_order_update` in the member's trace with the
        // order's baggage and the update's ids, and its `send order-updates` child, with the
        // `traceparent` the outbox keeps. The parent is passed as a span against the
        // `ServiceContext`s made before (the context with the baggage set, the span's context).
        func measureUpdateSpans(throughContexts: Bool) -> Measurement {
            bestRound {
                let tracer = makeLean()
                let order = tracer.startMessagingSpan("client_order_received", context: .topLevel, ofKind: .server)
                defer { order.end() }
                var member = order.context
                member.baggage = Baggage().setting(["user.id": "alice", "client.order_id": "c-1234", "tenant": "blue"])
                var traceparents = 0
                defer { if traceparents == 0 { print("(no traceparent)") } }
                return Self.measureOnce(count) {
                    let entries: KeyValuePairs<String, String> = [
                        "user.id": "alice", "client.order_id": "c-1234", "batch.id": "b-77", "fill.id": "f-5678",
                    ]
                    let update: any MessagingSpan
                    let send: any MessagingSpan
                    if throughContexts {
                        let context = member.settingBaggage(entries)
                        update = tracer.startMessagingSpan("client_order_update", context: context, ofKind: .internal)
                        let updateContext = update.context
                        traceparents &+= StoredTraceContext.traceparent(of: updateContext)?.utf8.count ?? 0
                        send = tracer.startMessagingSpan("send order-updates", context: updateContext, ofKind: .producer)
                    } else {
                        let baggage = (member.baggage ?? Baggage()).setting(entries)
                        update = tracer.startMessagingSpan("client_order_update", context: member, baggage: baggage, ofKind: .internal)
                        traceparents &+= StoredTraceContext.traceparent(of: update)?.utf8.count ?? 0
                        send = tracer.startMessagingSpan("send order-updates", parent: .span(update), ofKind: .producer)
                    }
                    update.end()
                    send.end()
                }
            }
        }
        report(
            "update spans, parent passed as a span", measureUpdateSpans(throughContexts: false),
            baseline: ("through ServiceContexts", measureUpdateSpans(throughContexts: true)))

        // The order manager's work on an order's trace context: the parent of its `accepted`
        // update (its processing span with the order's baggage), that parent stored with the
        // batch member, the order's `client_order_batched` span, and the batch's link to it. The
        // parent kept as the span and the baggage, against the `ServiceContext` made for it before.
        func measureOrderParent(throughContexts: Bool) -> Measurement {
            bestRound {
                let tracer = makeLean()
                let processing = tracer.startMessagingSpan("order_manager_processing", context: .topLevel, ofKind: .internal)
                defer { processing.end() }
                let orderBaggage = Baggage().setting(["user.id": "alice", "client.order_id": "c-1234"])
                var stored = 0
                defer { if stored == 0 { print("(nothing stored)") } }
                return Self.measureOnce(count) {
                    let batching = tracer.startMessagingSpan("order_batching", context: .topLevel, ofKind: .internal)
                    if throughContexts {
                        let context = processing.context(baggage: orderBaggage)
                        tracer.startMessagingSpan("send order-updates", context: context, ofKind: .producer).end()
                        stored &+= StoredContext(of: context).traceparent.utf8.count
                        tracer.startMessagingSpan("client_order_batched", context: context, ofKind: .internal).end()
                        batching.addLink(to: context, attributes: [])
                    } else {
                        let parent = tracer.parent(processing, baggage: orderBaggage)
                        tracer.startMessagingSpan("send order-updates", parent: parent, ofKind: .producer).end()
                        stored &+= StoredContext(of: parent).traceparent.utf8.count
                        tracer.startMessagingSpan("client_order_batched", parent: parent, ofKind: .internal).end()
                        batching.addLink(to: parent, attributes: [])
                    }
                    batching.end()
                }
            }
        }
        report(
            "an order's parent in the order manager", measureOrderParent(throughContexts: false),
            baseline: ("through ServiceContexts", measureOrderParent(throughContexts: true)))

        // The allocator's work on a batch member's trace context: read back from what the batch
        // stored, then five update spans under it, each with the order's baggage and its own ids.
        // The member kept as its parsed W3C context, against the `ServiceContext` extracted before.
        func measureMemberParent(throughContexts: Bool) -> Measurement {
            bestRound {
                let tracer = makeLean()
                let order = tracer.startMessagingSpan("order_manager_processing", context: .topLevel, ofKind: .internal)
                defer { order.end() }
                let stored = StoredContext(of: order.context(baggage: ["user.id": "alice", "client.order_id": "c-1234"]))
                let updates = (1...5).map { Baggage(headerValue: stored.baggage ?? "").setting(["batch.id": "b-77", "fill.id": "f-\($0)"]) }
                // The stored context is read through the task's tracer, as in a component.
                return withTracer(tracer) {
                    Self.measureOnce(count) {
                        if throughContexts {
                            let member = stored.context ?? .topLevel
                            for baggage in updates {
                                tracer.startMessagingSpan("client_order_update", context: member, baggage: baggage, ofKind: .internal).end()
                            }
                        } else {
                            let member = tracer.parent(stored: stored)
                            for baggage in updates {
                                tracer.startMessagingSpan("client_order_update", parent: member.replacingBaggage(baggage), ofKind: .internal).end()
                            }
                        }
                    }
                }
            }
        }
        report(
            "a batch member read back, 5 update spans", measureMemberParent(throughContexts: false),
            baseline: ("through ServiceContexts", measureMemberParent(throughContexts: true)))

        // A fill_matching span: 20 links (client orders the fill was allocated to), each with
        // three attributes, given as OTLP values against the same through SpanAttributes.
        let messaging = makeLean()
        let linkContext = linked.context
        func measureLinks(fast: Bool) -> Measurement {
            measure(max(1, count / 20)) {
                let span = messaging.startMessagingSpan("fill_matching", context: .topLevel, ofKind: .internal)
                for _ in 0..<20 {
                    if fast {
                        span.addLink(to: linkContext, attributes: [
                            Attribute("allocated.quantity", .int(100)), Attribute("client.order_id", .string("c-1234")),
                            Attribute("user.id", .string("alice")),
                        ])
                    } else {
                        var attributes = SpanAttributes()
                        attributes["client.order_id"] = "c-1234"
                        attributes["user.id"] = "alice"
                        attributes["allocated.quantity"] = Int64(100)
                        span.addLink(SpanLink(context: linkContext, attributes: attributes))
                    }
                }
                span.end()
            }
        }
        let slowLinks = measureLinks(fast: false)
        let fastLinks = measureLinks(fast: true)
        report("span with 20 links of 3 attributes (OTLP values)", fastLinks, baseline: ("through SpanAttributes", slowLinks))

        // One export as the allocator sends them (8,192 spans, its largest): per order update a
        // `client_order_update` (9 attributes, 1 link) and a `send order-updates` (13), and a
        // `fill_matching` (8, 20 links) every 20 updates. Strings are made at run time, each in
        // its own allocation, as a running pipeline's are.
        let export = Self.allocatorExport(count: 8_192)
        let origin = ExportOrigin(resourceAttributes: [Attribute("service.name", .string("allocator"))])
        var encodedBytes = 0
        let encode = measure(max(8, count / 8_192)) { encodedBytes &+= OTLPTraceEncoder.protobuf(export, origin: origin).count }
        report("OTLP encode, per span (8,192 spans)", Measurement(ns: encode.ns / 8_192, allocations: encode.allocations / 8_192))
        // The same spans in exports of 256, which fit in the processor's caches: about as fast
        // per span as the 8,192 (measured 521-637 ns against 457-554), so the encoding is bound
        // by its instructions, not by reading the spans from memory twice (sizes, then bytes).
        let small = Array(export.prefix(256))
        let encodeSmall = measure(max(256, count / 256)) { encodedBytes &+= OTLPTraceEncoder.protobuf(small, origin: origin).count }
        report("OTLP encode, per span (256 spans)", Measurement(ns: encodeSmall.ns / 256, allocations: encodeSmall.allocations / 256))
        if encodedBytes == 0 { print("(nothing encoded)") }
    }

    static func allocatorExport(count: Int) -> [SpanData] {
        var spans: [SpanData] = []
        spans.reserveCapacity(count)
        // SplitMix64: ids that look random, the same each run.
        var state: UInt64 = 0
        func random() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func traceID() -> TraceID { TraceID(high: random(), low: random()) }
        func string(_ prefix: String, _ number: Int) -> AttributeValue { .string("\(prefix)-\(number)-\(random() % 1_000_000)") }
        while spans.count < count {
            let order = spans.count
            let trace = traceID()
            let common = [
                Attribute("user.id", string("user", order % 50)), Attribute("client.order_id", string("c-order", order)),
                Attribute("batch.id", string("b-AAPL-buy", order / 20)), Attribute("fill.id", string("f-x-b-AAPL-buy", order / 20)),
            ]
            func span(_ name: String, _ kind: SpanDataKind, _ attributes: [Attribute], links: [SpanLinkData] = []) -> SpanData {
                SpanData(
                    traceID: trace, spanID: random(), parentSpanID: random(), name: name, kind: kind,
                    startTimeUnixNano: 1_700_000_000_000_000_000 + UInt64(order), endTimeUnixNano: 1_700_000_000_000_010_000 + UInt64(order),
                    attributes: attributes, links: links)
            }
            let matching = SpanLinkData(traceID: traceID(), spanID: random())
            spans.append(
                span("client_order_update", .internal, common + [
                    Attribute("symbol", .string("AAPL")), Attribute("side", .string("buy")), Attribute("order.status", .string("partially_filled")),
                    Attribute("order.cumulative_quantity", .int(Int64(order % 300))), Attribute("order.last_quantity", .int(10)),
                ], links: [matching]))
            spans.append(
                span("send order-updates", .producer, common + [
                    Attribute("messaging.system", .string("kafka")), Attribute("messaging.operation.name", .string("send")),
                    Attribute("messaging.operation.type", .string("send")), Attribute("messaging.destination.name", .string("order-updates")),
                    Attribute("messaging.client.id", .string("allocator")), Attribute("messaging.kafka.message.key", string("user", order % 50)),
                    Attribute("messaging.destination.partition.id", .string(String(order % 6))), Attribute("messaging.kafka.offset", .int(Int64(order * 7))),
                    Attribute("ordertrace.extra", .bool(true)),
                ]))
            if order % 20 == 0 {
                let members = (0..<20).map { member in
                    SpanLinkData(
                        traceID: traceID(), spanID: random(),
                        attributes: [
                            Attribute("allocated.quantity", .int(Int64(member * 10))), Attribute("client.order_id", string("c-order", order + member)),
                            Attribute("user.id", string("user", member)),
                        ])
                }
                spans.append(
                    span("fill_matching", .internal, Array(common.dropFirst(2)) + [
                        Attribute("exchange.order_id", string("x-b-AAPL-buy", order)), Attribute("symbol", .string("AAPL")),
                        Attribute("side", .string("buy")), Attribute("quantity", .int(200)), Attribute("fill.status", .string("partially_filled")),
                        Attribute("fill.price", .string("189.25")),
                    ], links: members))
            }
        }
        return Array(spans.prefix(count))
    }

    private static func measureOnce(_ count: Int, _ body: () -> Void) -> Measurement {
        let allocationsBefore = ordertrace_thread_allocations()
        let start = ContinuousClock.now
        for _ in 0..<count { body() }
        let elapsed = ContinuousClock.now - start
        let allocated = ordertrace_thread_allocations() - allocationsBefore
        return Measurement(ns: elapsed.seconds * 1e9 / Double(count), allocations: Double(allocated) / Double(count))
    }

    // MARK: JSON

    /// One example of each message type (the contract's examples in `topics/*.json`; a batch of two members).
    static let examples: [(name: String, json: String)] = JSONBench.examples + [
        ("exchange order", #"{"exchangeOrderId":"x-b-AAPL-buy-1-0","batchId":"b-AAPL-buy-1","symbol":"AAPL","side":"buy","quantity":250,"orderType":"limit","limitPrice":189.25,"slice":0,"slices":2}"#)
    ]

    private func json() throws {
        for (name, text) in Self.examples {
            let bytes = Array(text.utf8)
            let (decode, encode) = try measureJSON(name, bytes)
            let data = Data(bytes)
            let foundationDecode = measure { _ = try? JSONSerialization.jsonObject(with: data) }
            let object = try JSONSerialization.jsonObject(with: data)
            let foundationEncode = measure { _ = try? JSONSerialization.data(withJSONObject: object) }
            report("json decode \(name)", decode, baseline: ("Foundation JSONSerialization", foundationDecode))
            report("json encode \(name)", encode, baseline: ("Foundation JSONSerialization", foundationEncode))
        }
    }

    private func measureJSON(_ name: String, _ bytes: [UInt8]) throws -> (Measurement, Measurement) {
        switch name {
        case "client order": return try measureJSON(ClientOrder.self, bytes)
        case "batch": return try measureJSON(Batch.self, bytes)
        case "fill": return try measureJSON(Fill.self, bytes)
        case "exchange order": return try measureJSON(ExchangeOrder.self, bytes)
        default: return try measureJSON(OrderUpdate.self, bytes)
        }
    }

    private func measureJSON<Message: JSONMessage>(_ type: Message.Type, _ bytes: [UInt8]) throws -> (Measurement, Measurement) {
        let message = try Message(json: bytes)
        guard case .success = Message.decode(json: message.encodeJSON()) else {
            throw ValidationError("\(Message.self): what the codec encodes does not decode again")
        }
        var sink = 0
        let decode = measure {
            if case .success = Message.decode(json: bytes) { sink &+= 1 }
        }
        let encode = measure { sink &+= message.encodeJSON().count }
        guard sink > 0 else { throw ValidationError("\(Message.self): nothing decoded") }
        return (decode, encode)
    }

    // MARK: Fill allocation

    /// One execution of half a 100-member batch, split pro-rata: 100 order updates. Each operation
    /// starts from the same untouched state, so it includes copying that state on its first change
    /// (the allocator keeps one state per batch and changes it in place). A duplicate fill (found
    /// applied already, nothing changed) is reported beside it.
    private func fillAllocation() throws {
        let members = (0..<100).map { index in
            Batch.Member(
                clientOrderId: "c-\(1_000 + index)", userId: "user-\(index % 7)", quantity: Int64(100 + index), limitPrice: nil,
                traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        }
        let total = members.reduce(0) { $0 + $1.quantity }
        let batch = Batch(
            batchId: "b-AAPL-buy-1", symbol: "AAPL", side: .buy, quantity: total, members: members, closeReason: .linger,
            openedAt: "2026-11-30T09:30:00.000Z", closedAt: "2026-11-30T09:30:00.050Z")
        let initial = try BatchAllocation(batch: batch)
        let fill = Fill(
            fillId: "f-1", exchangeOrderId: "x-b-AAPL-buy-1-0", batchId: batch.batchId, symbol: "AAPL", side: .buy,
            quantity: total / 2, price: Price(ticks: 1_892_400), cumulativeQuantity: total / 2, leavesQuantity: total - total / 2,
            status: .partiallyFilled)
        var probe = initial
        guard case .applied(let allocation) = probe.apply(fill), allocation.updates.count == 100 else {
            throw ValidationError("the bench's fill does not reach every member")
        }
        var updates = 0
        let count = max(1, iterations / 10)
        let apply = measure(count) {
            var state = initial
            if case .applied(let allocation) = state.apply(fill) { updates &+= allocation.updates.count }
        }
        let duplicate = Fill(
            fillId: "f-0", exchangeOrderId: fill.exchangeOrderId, batchId: fill.batchId, symbol: "AAPL", side: .buy, quantity: 1,
            price: fill.price, cumulativeQuantity: 1, leavesQuantity: total - 1, status: .partiallyFilled)
        var seen = initial
        _ = seen.apply(duplicate)
        let again = measure(count) {
            var state = seen
            if case .duplicate = state.apply(duplicate) { updates &+= 1 }
        }
        report("fill over a 100-member batch (100 updates)", apply)
        report("the same batch, a duplicate fill", again)
        guard updates > 0 else { throw ValidationError("no fill was allocated") }
    }
}

/// A `[String: String]` carrier for the `Instrument` API baseline.
private struct DictionaryCarrier: Injector, Extractor {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }

    func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key]
    }
}
