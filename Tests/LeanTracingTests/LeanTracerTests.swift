import Baggage
import KafkaTestSupport
import Logging
import OTLPWire
import ServiceLifecycle
import Synchronization
import TestSupport
import Settings
import Testing
import TraceContext
import Tracing

@testable import LeanTracing

@Suite("The lean tracer: span structure, limits, sampling, propagation, bounded buffer, flush at shutdown")
struct LeanTracerTests {
    @Test("parents, kinds, attributes, events, status and links, kept as values or encoded when the span ends", arguments: [false, true])
    func parentsKindsAttributesEventsStatusAndLinks(encodesSpans: Bool) async throws {
        let spans = try await withLeanTracer(encodesSpans: encodesSpans) { tracer in
            let root = tracer.startSpan("root", context: .topLevel, ofKind: .server)
            root.attributes["user.id"] = "alice"
            root.updateAttributes { $0["order.quantity"] = 300; $0["flag"] = true; $0["ratio"] = 0.5; $0["list"] = ["a", "b"] }
            let child = tracer.startSpan("child", context: root.context, ofKind: .producer)
            child.addEvent(SpanEvent(name: "sent", attributes: ["bytes": 42]))
            child.setStatus(SpanStatus(code: .error, message: "broker down"))
            let other = tracer.startSpan("other", context: .topLevel, ofKind: .internal)
            child.addLink(SpanLink(context: other.context, attributes: ["client.order_id": "c-1"]))
            child.end()
            other.end()
            root.end()
        }
        let root = try spans.named("root")
        let child = try spans.named("child")
        let other = try spans.named("other")
        #expect(root.kind == .server && child.kind == .producer && other.kind == .internal)
        #expect(root.parentSpanID == 0)
        #expect(child.parentSpanID == root.spanID)
        #expect(child.traceID == root.traceID)
        #expect(other.traceID != root.traceID)
        #expect(root.attributes.contains(Attribute("user.id", .string("alice"))))
        #expect(root.attributes.contains(Attribute("order.quantity", .int(300))))
        #expect(root.attributes.contains(Attribute("flag", .bool(true))))
        #expect(root.attributes.contains(Attribute("ratio", .double(0.5))))
        #expect(root.attributes.contains(Attribute("list", .stringArray(["a", "b"]))))
        #expect(child.events.map(\.name) == ["sent"])
        #expect(child.events.first?.attributes == [Attribute("bytes", .int(42))])
        #expect(child.statusCode == .error && child.statusMessage == "broker down")
        #expect(child.links.count == 1)
        #expect(child.links.first?.spanID == other.spanID && child.links.first?.traceID == other.traceID)
        #expect(child.links.first?.attributes == [Attribute("client.order_id", .string("c-1"))])
        #expect(root.endTimeUnixNano >= root.startTimeUnixNano && root.startTimeUnixNano > 1_700_000_000_000_000_000)
        #expect(child.traceFlags == 1)
    }

    @Test("a key set again keeps one value, the last, kept as values or encoded when the span ends", arguments: [false, true])
    func keySetAgainKeepsTheLastValue(encodesSpans: Bool) async throws {
        let spans = try await withLeanTracer(encodesSpans: encodesSpans) { tracer in
            // As the traced producer does: its attributes, then the partition and offset on delivery.
            let send = tracer.startSpan("send", context: .topLevel, ofKind: .producer)
            send.setAttributes([
                Attribute("messaging.system", .string("kafka")), Attribute("messaging.destination.partition.id", .string("0")),
                Attribute("user.id", .string("alice")),
            ])
            send.setAttribute("messaging.destination.partition.id", .string("3"))
            send.setAttribute("messaging.kafka.offset", .int(41))
            send.setAttribute("messaging.kafka.offset", .int(42))
            send.end()
            // A process span that gets the business ids once its record is decoded.
            let process = tracer.startSpan("process", context: .topLevel, ofKind: .consumer)
            process.setAttributes([Attribute("messaging.system", .string("kafka")), Attribute("user.id", .string("from-baggage"))])
            process.setAttributes([Attribute("user.id", .string("alice")), Attribute("client.order_id", .string("c-1"))])
            process.end()
            // Both kinds of attributes, and a second array with a key of the first.
            let mixed = tracer.startSpan("mixed", context: .topLevel, ofKind: .internal)
            mixed.attributes["user.id"] = "bob"
            mixed.attributes["order.symbol"] = "AAPL"
            mixed.setAttributes([Attribute("user.id", .string("carol")), Attribute("batch.id", .string("b-1"))])
            mixed.setAttributes([Attribute("batch.id", .string("b-2"))])
            mixed.setAttribute("fill.id", .string("f-1"))
            mixed.end()
        }
        let send = try spans.named("send")
        #expect(send.attributes == [
            Attribute("messaging.system", .string("kafka")), Attribute("messaging.destination.partition.id", .string("3")),
            Attribute("user.id", .string("alice")), Attribute("messaging.kafka.offset", .int(42)),
        ])
        #expect(send.droppedAttributesCount == 0)
        #expect(try spans.named("process").attributes == [
            Attribute("messaging.system", .string("kafka")), Attribute("user.id", .string("alice")), Attribute("client.order_id", .string("c-1")),
        ])
        let mixed = try spans.named("mixed")
        #expect(Set(mixed.attributes) == [
            Attribute("order.symbol", .string("AAPL")), Attribute("user.id", .string("carol")), Attribute("batch.id", .string("b-2")),
            Attribute("fill.id", .string("f-1")),
        ])
        #expect(mixed.attributes.count == 4)
    }

    @Test("limits drop and count, kept as values or encoded when the span ends", arguments: [false, true])
    func limitsDropAndCount(encodesSpans: Bool) async throws {
        let spans = try await withLeanTracer(encodesSpans: encodesSpans) { tracer in
            let span = tracer.startSpan("busy", context: .topLevel, ofKind: .internal)
            for index in 0..<130 { span.addEvent(SpanEvent(name: "e\(index)")) }
            for index in 0..<131 {
                let other = tracer.startSpan("o", context: .topLevel, ofKind: .internal)
                span.addLink(SpanLink(context: other.context, attributes: ["i": .int64(Int64(index))]))
            }
            // A context without a lean span context cannot be linked: dropped and counted.
            span.addLink(SpanLink(context: .topLevel, attributes: [:]))
            span.updateAttributes { attributes in
                for index in 0..<140 { attributes["a\(index)"] = index }
            }
            span.end()
            span.end()  // a second end changes nothing
        }
        let busy = spans.filter { $0.name == "busy" }
        #expect(busy.count == 1)
        guard let span = busy.first else { return }
        #expect(span.events.count == 128 && span.droppedEventsCount == 2)
        #expect(span.links.count == 128 && span.droppedLinksCount == 4)
        #expect(span.attributes.count == 128 && span.droppedAttributesCount == 12)
    }

    @Test("Links given as OTLP values are exported as given, share the link limit, and keep at most the per-link attribute limit")
    func linksWithOTLPAttributes() async throws {
        var limits = SpanLimits()
        limits.maxLinks = 3
        limits.maxAttributesPerLink = 2
        let spans = try await withLeanTracer(limits: limits) { tracer in
            let span = tracer.startMessagingSpan("fill_matching", context: .topLevel, ofKind: .internal)
            let first = tracer.startSpan("order-1", context: .topLevel, ofKind: .server)
            let second = tracer.startSpan("order-2", context: .topLevel, ofKind: .server)
            span.addLink(to: first.context, attributes: [Attribute("allocated.quantity", .int(40)), Attribute("client.order_id", .string("c-1"))])
            span.addLink(SpanLink(context: second.context, attributes: ["client.order_id": "c-2"]))
            // Past the per-link attribute limit: the first two are kept, the third counted.
            span.addLink(to: second.context, attributes: [
                Attribute("a", .int(1)), Attribute("b", .int(2)), Attribute("c", .int(3)),
            ])
            // Past the link limit, and a context without a span: both dropped and counted.
            span.addLink(to: first.context, attributes: [])
            span.addLink(to: .topLevel, attributes: [Attribute("a", .int(1))])
            first.end()
            second.end()
            span.end()
        }
        let span = try spans.named("fill_matching")
        let first = try spans.named("order-1")
        let second = try spans.named("order-2")
        #expect(span.links.map(\.spanID) == [first.spanID, second.spanID, second.spanID])
        #expect(span.links[0].traceID == first.traceID)
        #expect(span.links[0].attributes == [Attribute("allocated.quantity", .int(40)), Attribute("client.order_id", .string("c-1"))])
        #expect(span.links[1].attributes == [Attribute("client.order_id", .string("c-2"))])
        #expect(span.links[2].attributes == [Attribute("a", .int(1)), Attribute("b", .int(2))])
        #expect(span.links[2].droppedAttributesCount == 1)
        #expect(span.droppedLinksCount == 2)
    }

    @Test("The traceparent stored for a span's context is the one the tracer injects, sampled or not, with baggage or without")
    func storedTraceparentIsTheInjectedOne() {
        for sampler in [Sampler.parentBased(root: .alwaysOn), .parentBased(root: .alwaysOff)] {
            let tracer = LeanTracer(sampler: sampler, bufferCapacity: 16)
            let span = tracer.startSpan("client_order_update", context: .topLevel, ofKind: .internal)
            var context = span.context
            context.baggage = ["user.id": "alice", "client.order_id": "c-1"]
            var carrier: [String: String] = [:]
            tracer.inject(context, into: &carrier, using: TextCarrier())
            let injected = carrier["traceparent"]
            #expect(injected != nil)
            #expect(StoredTraceContext.traceparent(of: context) == injected)
            #expect(StoredTraceContext.traceparent(of: span.context) == injected)
            // What a batch member keeps: the same traceparent, and the baggage as it is sent.
            let stored = StoredContext(of: context)
            #expect(stored.traceparent == injected)
            #expect(stored.tracestate == nil)
            #expect(stored.baggage == context.baggage?.headerValue)
            span.end()
        }
        // A span continuing a trace with a tracestate stores it as the tracer sends it.
        let tracer = LeanTracer(bufferCapacity: 16)
        var remote = ServiceContext.topLevel
        tracer.extract(
            ["traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "vendor=abc"], into: &remote,
            using: DictionaryExtractor())
        let child = tracer.startSpan("child", context: remote, ofKind: .consumer)
        var carrier: [String: String] = [:]
        tracer.inject(child.context, into: &carrier, using: TextCarrier())
        let stored = StoredContext(of: child.context)
        #expect(carrier["tracestate"] == "vendor=abc")
        #expect(stored.traceparent == carrier["traceparent"] && stored.tracestate == carrier["tracestate"])
        #expect(stored.baggage == nil)
        child.end()
        // No span: nothing to store.
        #expect(StoredTraceContext.traceparent(of: .topLevel) == nil)
    }

    @Test("A span started under a span, or with baggage given, has the parent and baggage it would have through contexts; no context changes")
    func spansStartedWithoutContexts() async throws {
        var expected: (update: SpanContext, baggage: Baggage, member: Baggage?)?
        let spans = try await withLeanTracer { tracer in
            let order = tracer.startMessagingSpan("order", context: .topLevel, ofKind: .server)
            let member = order.context(baggage: ["user.id": "alice", "tenant": "blue"])
            #expect(member.spanContext == order.context.spanContext)
            let baggage = (member.baggage ?? Baggage()).setting(["fill.id": "f-1", "user.id": "alice"])
            let update = tracer.startMessagingSpan("update", context: member, baggage: baggage, ofKind: .internal)
            #expect(update.baggage == baggage)
            #expect(update.context.baggage == baggage)
            #expect(update.context.spanContext == update.w3cSpanContext)
            #expect(StoredTraceContext.traceparent(of: update) == StoredTraceContext.traceparent(of: update.context))
            let send = tracer.startMessagingSpan("send", parent: .span(update), ofKind: .producer)
            let throughContext = tracer.startMessagingSpan("send again", parent: .context(update.context), ofKind: .producer)
            #expect(send.baggage == baggage && throughContext.baggage == baggage)
            #expect(send.context.baggage == baggage)
            var headers = TestHeaders()
            send.writeContext(into: &headers)
            #expect(headers.values["traceparent"] == send.w3cSpanContext?.traceparent)
            expected = (try #require(update.w3cSpanContext), baggage, member.baggage)
            for span in [throughContext, send, update, order] { span.end() }
        }
        let (updateContext, baggage, memberBaggage) = try #require(expected)
        // The member's context kept its own baggage.
        #expect(memberBaggage == ["user.id": "alice", "tenant": "blue"])
        #expect(memberBaggage != baggage)
        let order = try spans.named("order")
        let update = try spans.named("update")
        #expect(update.parentSpanID == order.spanID && update.traceID == order.traceID)
        #expect(update.spanID == updateContext.spanID)
        for name in ["send", "send again"] {
            let send = try spans.named(name)
            #expect(send.parentSpanID == update.spanID && send.traceID == update.traceID && send.kind == .producer)
        }
    }

    @Test("A span with an order's baggage, and a stored context read back, parent their children and links as the contexts they name would")
    func parentsWithoutContexts() async throws {
        var ids: (processing: SpanContext, matching: SpanContext)?
        let spans = try await withLeanTracer { tracer in
            // The tracer is the task's, so that the contexts compared with go through its extract.
            withTracer(tracer) {
                let processing = tracer.startMessagingSpan("processing", context: .topLevel, ofKind: .internal)
                let orderBaggage: Baggage = ["user.id": "alice", "client.order_id": "c-1", "tenant": "blue"]
                // The order manager's member: the span and the order's baggage, no context.
                let parent = tracer.parent(processing, baggage: orderBaggage)
                guard case .spanWithBaggage = parent else {
                    Issue.record("the lean tracer keeps the span and the baggage, got \(parent)")
                    return
                }
                #expect(parent.baggage == orderBaggage)
                #expect(parent.w3cSpanContext == processing.w3cSpanContext)
                #expect(parent.context.spanContext == processing.w3cSpanContext && parent.context.baggage == orderBaggage)
                let stored = StoredContext(of: parent)
                #expect(stored == StoredContext(of: processing.context(baggage: orderBaggage)))
                #expect(processing.baggage == nil, "the span keeps its own baggage")
                let accepted = tracer.startMessagingSpan("accepted", parent: parent, ofKind: .producer)
                #expect(accepted.baggage == orderBaggage && accepted.context.baggage == orderBaggage)
                // The allocator's member: the stored context parsed, no context.
                let member = tracer.parent(stored: stored)
                guard case .remote(let remote, let baggage) = member else {
                    Issue.record("the lean tracer keeps the parsed context, got \(member)")
                    return
                }
                #expect(remote.traceID == processing.w3cSpanContext?.traceID && remote.spanID == processing.w3cSpanContext?.spanID)
                #expect(remote == stored.context?.spanContext, "as the stored context's own reading (a remote span context)")
                #expect(baggage == orderBaggage)
                #expect(member.context.spanContext == stored.context?.spanContext && member.context.baggage == stored.context?.baggage)
                let updateBaggage = orderBaggage.setting(["fill.id": "f-1"])
                let update = tracer.startMessagingSpan("update", parent: member.replacingBaggage(updateBaggage), ofKind: .internal)
                #expect(update.baggage == updateBaggage && update.context.baggage == updateBaggage)
                #expect(member.baggage == orderBaggage, "the member keeps the order's baggage")
                let matching = tracer.startMessagingSpan("matching", context: .topLevel, ofKind: .internal)
                LinkLimit.addLinks([(parent: member, attributes: [Attribute("client.order_id", .string("c-1"))])], to: matching)
                ids = (remote, matching.w3cSpanContext!)
                for span in [matching, update, accepted, processing] { span.end() }
            }
        }
        let (processing, matchingContext) = try #require(ids)
        for name in ["accepted", "update"] {
            let span = try spans.named(name)
            #expect(span.parentSpanID == processing.spanID && span.traceID == processing.traceID)
        }
        let matching = try spans.named("matching")
        #expect(matching.spanID == matchingContext.spanID)
        #expect(matching.links.count == 1)
        #expect(matching.links.first?.spanID == processing.spanID && matching.links.first?.traceID == processing.traceID)
        #expect(matching.links.first?.attributes == [Attribute("client.order_id", .string("c-1"))])
    }

    @Test("A stored context read back as a parent: its tracestate made valid as its context's is, and the top level when its traceparent is not valid")
    func storedParentsAreValidated() {
        let tracer = LeanTracer(bufferCapacity: 16)
        withTracer(tracer) {
            let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            for tracestate in ["vendor=abc", "not a tracestate", ""] {
                let stored = StoredContext(traceparent: traceparent, tracestate: tracestate, baggage: "user.id=alice")
                let parent = tracer.parent(stored: stored)
                #expect(parent.w3cSpanContext == stored.context?.spanContext, "tracestate \(tracestate)")
                #expect(parent.baggage == stored.context?.baggage)
            }
            #expect(tracer.parent(stored: StoredContext(traceparent: traceparent)).baggage == nil)
            for invalid in ["", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", "00-00000000000000000000000000000000-b7ad6b7169203331-01"] {
                let parent = tracer.parent(stored: StoredContext(traceparent: invalid, baggage: "user.id=alice"))
                #expect(StoredContext(traceparent: invalid).context == nil)
                guard case .context(let context) = parent else {
                    Issue.record("\(invalid) gave \(parent)")
                    continue
                }
                #expect(context.spanContext == nil && context.baggage == nil, "as the stored context's own reading: no context at all")
            }
        }
    }

    @Test func unsampledSpansPropagateButAreNotExported() async throws {
        let spans = try await withLeanTracer(sampler: .parentBased(root: .alwaysOff)) { tracer in
            let root = tracer.startSpan("dropped-root", context: .topLevel, ofKind: .server)
            #expect(!root.isRecording)
            #expect(root.context.spanContext?.traceFlags == 0)
            let child = tracer.startSpan("dropped-child", context: root.context, ofKind: .internal)
            #expect(child.context.spanContext?.traceID == root.context.spanContext?.traceID)
            child.end()
            root.end()
            // A sampled remote parent is followed even when new traces are not sampled.
            let remote = try #require(SpanContext(traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
            var context = ServiceContext.topLevel
            context.spanContext = remote
            let kept = tracer.startSpan("kept", context: context, ofKind: .consumer)
            kept.end()
        }
        #expect(spans.map(\.name) == ["kept"])
        #expect(spans.first?.parentSpanID == 0xb7ad_6b71_6920_3331)
        #expect(spans.first?.traceID == TraceID(high: 0x0af7_6519_16cd_43dd, low: 0x8448_eb21_1c80_319c))
    }

    @Test("the buffer is bounded and counts drops, kept as values or encoded when the span ends", arguments: [false, true])
    func theBufferIsBoundedAndCountsDrops(encodesSpans: Bool) {
        let tracer = LeanTracer(bufferCapacity: 80, encodesSpans: encodesSpans)
        for index in 0..<1_000 {
            tracer.startSpan("s\(index)", context: .topLevel, ofKind: .internal).end()
        }
        #expect(tracer.buffer.count == tracer.buffer.capacity)
        #expect(tracer.buffer.capacity == 80)
        #expect(tracer.droppedSpanCount == 1_000 - 80)
        #expect(tracer.recordedSpanCount == 80)
        let kept = tracer.buffer.drain()
        #expect(kept.count == 80)
        // The first 80 were kept (10 a shard), whole.
        #expect(Set(kept.map(\.name)) == Set((0..<80).map { "s\($0)" }))
        #expect(tracer.buffer.count == 0)
    }

    @Test func injectAndExtractTraceContextAndBaggage() {
        let tracer = LeanTracer()
        var context = ServiceContext.topLevel
        context.baggage = Baggage(headerValue: "user.id=alice,vendor=x%20y;p=1")
        let span = tracer.startSpan("s", context: context, ofKind: .producer)
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: DictionaryInjector())
        #expect(carrier["traceparent"] == span.spanContext.traceparent)
        #expect(carrier["traceparent"]?.hasSuffix("-01") == true)
        #expect(carrier["baggage"]?.contains("user.id=alice") == true)
        var extracted = ServiceContext.topLevel
        tracer.extract(carrier, into: &extracted, using: DictionaryExtractor())
        #expect(extracted.spanContext?.traceID == span.spanContext.traceID)
        #expect(extracted.spanContext?.spanID == span.spanContext.spanID)
        #expect(extracted.spanContext?.isRemote == true)
        #expect(extracted.baggage?["user.id"] == "alice")
        #expect(extracted.baggage?["vendor"] == "x y")
        // A bad traceparent is ignored, never half read.
        var bad = ServiceContext.topLevel
        tracer.extract(["traceparent": "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"], into: &bad, using: DictionaryExtractor())
        #expect(bad.spanContext == nil)
    }

    @Test(arguments: [
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", true),
        ("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds", true),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", false),
        ("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", false),
        ("00-00000000000000000000000000000000-b7ad6b7169203331-01", false),
        ("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", false),
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", false),
        ("00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", false),
        ("00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01", false),
        ("", false),
    ])
    func traceparentVectors(text: String, valid: Bool) {
        let parsed = SpanContext(traceparent: text)
        #expect((parsed != nil) == valid, "\(text)")
        if let parsed, text.hasPrefix("00-") {
            #expect(parsed.traceparent == text)
        }
    }

    @Test func samplerDecisions() throws {
        let trace = TraceID(high: 1, low: 2)
        #expect(Sampler.alwaysOn.shouldSample(traceID: trace, parent: nil))
        #expect(!Sampler.alwaysOff.shouldSample(traceID: trace, parent: nil))
        let sampledParent = SpanContext(traceID: trace, spanID: 1, traceFlags: 1)
        let unsampledParent = SpanContext(traceID: trace, spanID: 1, traceFlags: 0)
        #expect(Sampler.parentBased(root: .alwaysOff).shouldSample(traceID: trace, parent: sampledParent))
        #expect(!Sampler.parentBased(root: .alwaysOn).shouldSample(traceID: trace, parent: unsampledParent))
        // The ratio sampler keeps about its share, and always decides the same for one trace.
        let generator = IDGenerator(seed: 42)
        let traces = (0..<20_000).map { _ in generator.traceID() }
        let kept = traces.filter { Sampler.traceIDRatio(0.25).shouldSample(traceID: $0, parent: nil) }.count
        #expect((4_400...5_600).contains(kept))
        #expect(traces.allSatisfy { Sampler.traceIDRatio(0.25).shouldSample(traceID: $0, parent: nil) == Sampler.traceIDRatio(0.25).shouldSample(traceID: $0, parent: nil) })
        #expect(traces.allSatisfy { !Sampler.traceIDRatio(0).shouldSample(traceID: $0, parent: nil) })
        #expect(try Sampler.fromEnvironment([:]) == .parentBased(root: .alwaysOn))
        #expect(try Sampler.fromEnvironment(["OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"]) == .parentBased(root: .traceIDRatio(0.1)))
        #expect(throws: ConfigurationError.self) { try Sampler.fromEnvironment(["OTEL_TRACES_SAMPLER": "sometimes"]) }
        #expect(throws: ConfigurationError.self) { try Sampler.fromEnvironment(["OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"]) }
    }

    @Test func idsAreUniqueAndNonZero() {
        let generator = IDGenerator()
        var seen = Set<UInt64>()
        for _ in 0..<100_000 {
            let id = generator.spanID()
            #expect(id != 0)
            seen.insert(id)
        }
        #expect(seen.count == 100_000)
    }
}

struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

/// Writes injected values into a `[String: String]`.
private struct TextCarrier: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

extension [SpanData] {
    /// The exported span named `name`; the test fails where it asked when there is none.
    func named(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> SpanData {
        try #require(first { $0.name == name }, sourceLocation: sourceLocation)
    }
}

/// Headers as text, for what a span writes into a message.
private struct TestHeaders: TraceHeaders {
    var values: [String: String] = [:]
    mutating func set(_ key: String, bytes: [UInt8]?) { values[key] = bytes.map { String(decoding: $0, as: UTF8.self) } }
    mutating func set(_ key: String, _ value: String) { values[key] = value }
    mutating func remove(_ key: String) { values[key] = nil }
    func string(_ key: String) -> String? { values[key] }
}
