import Baggage
import OTLPWire
import Synchronization
import TraceContext
import Tracing

/// A span of the lean tracer. What changes while it runs sits behind one lock; when it ends it
/// becomes a `FinishedSpan` in the tracer's buffer (no thread is woken). A span that the sampler
/// did not record still carries its context (flags `00`) for propagation and does nothing else.
public final class LeanSpan: Span {
    struct State {
        var name: String
        var attributes = SpanAttributes()
        var events: [SpanEvent] = []
        var droppedEvents: UInt32 = 0
        /// Links with their attributes already as OTLP values (and how many of those the limit dropped).
        var links: [SpanLinkData] = []
        var droppedLinks: UInt32 = 0
        var status: SpanStatus?
        var ended = false
        /// Attributes set through the fast path, as OTLP values (no dictionary, no hashing), each
        /// key once unless the first array given held it twice.
        var fastAttributes: [Attribute] = []
        var context: ServiceContext?
    }

    public let spanContext: SpanContext
    public let parentSpanID: UInt64
    public let kind: SpanKind
    public let startNanoseconds: UInt64
    let parentContext: ServiceContext
    /// Baggage to add to `parentContext` when `context` is first asked for (the consumer's
    /// extracted baggage, an allocator update's: most spans never build a context).
    let pendingBaggage: Baggage?
    public let isSampled: Bool
    private let state: Mutex<State>
    private let sink: SpanBuffer?
    private let limits: SpanLimits

    init(
        name: String, spanContext: SpanContext, parentSpanID: UInt64, kind: SpanKind, startNanoseconds: UInt64,
        parentContext: ServiceContext, pendingBaggage: Baggage? = nil, sink: SpanBuffer?, limits: SpanLimits
    ) {
        self.pendingBaggage = pendingBaggage
        self.spanContext = spanContext
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startNanoseconds = startNanoseconds
        self.parentContext = parentContext
        self.isSampled = spanContext.isSampled
        self.state = Mutex(State(name: name))
        self.sink = spanContext.isSampled ? sink : nil
        self.limits = limits
    }

    /// The parent's context with this span's `SpanContext`; made when first asked for (copying
    /// a context costs about as much as the rest of a span).
    public var context: ServiceContext {
        if let cached = state.withLock({ $0.context }) { return cached }
        var context = parentContext
        if let pendingBaggage { context.baggage = pendingBaggage }
        context.spanContext = spanContext
        state.withLock { $0.context = context }
        return context
    }

    /// Sets one attribute without going through `SpanAttributes` (a dictionary of existentials):
    /// the fast path for code that knows it runs under the lean tracer. A key already set this
    /// way gets the new value in its place, so the span's end has no repeated key to look for
    /// (the traced producer sets the partition and offset after its other attributes).
    public func setAttribute(_ key: String, _ value: AttributeValue) {
        guard isSampled else { return }
        state.withLock { SpanConversion.set(Attribute(key, value), in: &$0.fastAttributes) }
    }

    /// Sets attributes without going through `SpanAttributes`. After earlier ones, a key already
    /// set takes its new value in its place (the consumer's process span gets the business ids
    /// once its record is decoded).
    public func setAttributes(_ attributes: [Attribute]) {
        guard isSampled else { return }
        state.withLock { state in
            if state.fastAttributes.isEmpty {
                state.fastAttributes = attributes
                return
            }
            for attribute in attributes { SpanConversion.set(attribute, in: &state.fastAttributes) }
        }
    }

    public var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set {
            guard isSampled else { return }
            state.withLock { $0.attributes = newValue }
        }
    }

    /// Changes the attributes in place.
    public func updateAttributes(_ update: (inout SpanAttributes) -> Void) {
        guard isSampled else { return }
        state.withLock { update(&$0.attributes) }
    }

    public var isRecording: Bool {
        isSampled && !state.withLock { $0.ended }
    }

    public func setStatus(_ status: SpanStatus) {
        guard isSampled else { return }
        state.withLock { state in
            // OK is final; an error does not replace it.
            if state.status?.code == .ok { return }
            state.status = status
        }
    }

    public func addEvent(_ event: SpanEvent) {
        guard isSampled else { return }
        let limit = limits.maxEvents
        state.withLock { state in
            if state.events.count < limit { state.events.append(event) } else { state.droppedEvents += 1 }
        }
    }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        guard isSampled else { return }
        var eventAttributes = attributes
        eventAttributes["exception.type"] = String(describing: type(of: error))
        eventAttributes["exception.message"] = String(describing: error)
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: eventAttributes))
    }

    /// Links to the span in `link.context`. A context without a lean span context (another
    /// tracer's) cannot be exported and counts as dropped.
    public func addLink(_ link: SpanLink) {
        addLink(link.context.spanContext, link.attributes)
    }

    /// Links to `linked` (an extracted or stored span context) without a `ServiceContext`.
    public func addLink(to linked: SpanContext) {
        addLink(linked, [:])
    }

    /// Keeps the link while under the limit; counts it as dropped past it, or without a context.
    private func addLink(_ linked: SpanContext?, _ attributes: SpanAttributes) {
        guard isSampled else { return }
        keep(linked.map { SpanConversion.link($0, attributes, limits: limits) })
    }

    /// Keeps a link while under the limit; counts it as dropped past it, or when there is none
    /// (a context without a lean span context: another tracer's, which cannot be exported).
    private func keep(_ link: SpanLinkData?) {
        let limit = limits.maxLinks
        state.withLock { state in
            if let link, state.links.count < limit {
                state.links.append(link)
            } else {
                state.droppedLinks += 1
            }
        }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard let sink else { return }
        let end = instant().nanosecondsSinceEpoch
        let limits = self.limits
        let finished: SpanData? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            // The span's arrays are moved out, not copied: an ended span reads none of them
            // again, and each copy would be retained here and released twice later.
            var fastAttributes: [Attribute] = []
            swap(&fastAttributes, &state.fastAttributes)
            var links: [SpanLinkData] = []
            swap(&links, &state.links)
            // With only fast-path attributes this makes no attribute at all.
            let (attributes, droppedAttributes) =
                state.attributes.isEmpty && fastAttributes.count <= limits.maxAttributes
                ? (fastAttributes, 0)
                : SpanConversion.merge(state.attributes, fastAttributes, limit: limits.maxAttributes)
            var status = SpanDataStatusCode.unset
            var message = ""
            if let spanStatus = state.status {
                status = spanStatus.code == .ok ? .ok : .error
                message = spanStatus.message ?? ""
            }
            return SpanData(
                traceID: spanContext.traceID, spanID: spanContext.spanID, parentSpanID: parentSpanID,
                traceState: spanContext.traceState, traceFlags: spanContext.traceFlags, name: state.name,
                kind: SpanConversion.kind(kind), startTimeUnixNano: startNanoseconds, endTimeUnixNano: max(end, startNanoseconds),
                attributes: attributes, droppedAttributesCount: droppedAttributes,
                events: state.events.isEmpty ? [] : state.events.map { SpanConversion.event($0, limits: limits) },
                droppedEventsCount: state.droppedEvents,
                links: links,
                droppedLinksCount: state.droppedLinks, statusCode: status, statusMessage: message)
        }
        if let finished { sink.push(finished) }
    }
}

/// The OpenTelemetry span limits (defaults 128 each): past them, attributes, events and links
/// are dropped and counted, and OTLP carries the counts.
public struct SpanLimits: Sendable, Hashable {
    public var maxAttributes = 128
    public var maxEvents = 128
    public var maxLinks = 128
    public var maxAttributesPerEvent = 128
    public var maxAttributesPerLink = 128

    public init() {}

    /// Reads `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_EVENT_COUNT_LIMIT`,
    /// `OTEL_SPAN_LINK_COUNT_LIMIT`, `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`, `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`.
    public static func fromEnvironment(_ environment: [String: String]) -> SpanLimits {
        var limits = SpanLimits()
        func read(_ name: String) -> Int? { environment[name].flatMap(Int.init).flatMap { $0 >= 0 ? $0 : nil } }
        limits.maxAttributes = read("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT") ?? read("OTEL_ATTRIBUTE_COUNT_LIMIT") ?? limits.maxAttributes
        limits.maxEvents = read("OTEL_SPAN_EVENT_COUNT_LIMIT") ?? limits.maxEvents
        limits.maxLinks = read("OTEL_SPAN_LINK_COUNT_LIMIT") ?? limits.maxLinks
        limits.maxAttributesPerEvent = read("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT") ?? limits.maxAttributesPerEvent
        limits.maxAttributesPerLink = read("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT") ?? limits.maxAttributesPerLink
        return limits
    }
}

extension LeanSpan: MessagingSpan {
    /// Keeps the link with its attributes as they are (no `SpanAttributes`, no conversion at the
    /// end): the allocator links every fill to up to 127 client orders.
    public func addLink(to context: ServiceContext, attributes: [Attribute]) {
        guard isSampled else { return }
        keep(context.spanContext.map { SpanConversion.link($0, attributes, limits: limits) })
    }

    /// Links to the parent's span from its span context: no context is built for a lean span.
    public func addLink(to parent: MessagingParent, attributes: [Attribute]) {
        guard isSampled else { return }
        keep(parent.w3cSpanContext.map { SpanConversion.link($0, attributes, limits: limits) })
    }

    /// The baggage `context` would carry, without building it.
    public var baggage: Baggage? { pendingBaggage ?? parentContext.baggage }

    public var w3cSpanContext: SpanContext? { spanContext }

    public func context(baggage: Baggage) -> ServiceContext {
        var context = parentContext
        context.baggage = baggage
        context.spanContext = spanContext
        return context
    }

    /// Writes `traceparent` as bytes (no string is made) and `tracestate`, or removes a stale one.
    public func writeContext<Headers: TraceHeaders>(into headers: inout Headers) {
        headers.set("traceparent", bytes: spanContext.traceparentBytes)
        if spanContext.traceState.isEmpty {
            headers.remove("tracestate")
        } else {
            headers.set("tracestate", spanContext.traceState)
        }
    }
}
