import Baggage
import Instrumentation
import OTLPWire
import ServiceContextModule
import Tracing

/// A message's headers as the messaging layer reads and writes trace context in them. A value
/// set replaces the key's earlier value: a header is never repeated.
public protocol TraceHeaders {
    mutating func set(_ key: String, bytes: [UInt8]?)
    mutating func set(_ key: String, _ value: String)
    mutating func remove(_ key: String)
    /// The key's value as text, or `nil` when the header is absent.
    func string(_ key: String) -> String?
}

/// A span of the messaging layer (a Kafka `send` or `process` span): a `Span` that also takes
/// its attributes as OTLP values in one call and writes its own context into a message's
/// headers. The lean tracer's spans are messaging spans; any other tracer's span is served
/// through ``TracerMessaging``.
public protocol MessagingSpan: Span {
    /// Adds attributes in one call, without going through `SpanAttributes`.
    func setAttributes(_ attributes: [Attribute])
    /// Adds one attribute without going through `SpanAttributes`.
    func setAttribute(_ key: String, _ value: AttributeValue)
    /// Writes this span's context into `headers`, replacing what they carried.
    func writeContext<Headers: TraceHeaders>(into headers: inout Headers)
    /// Links to the span of `context`, the link's attributes given as OTLP values.
    func addLink(to context: ServiceContext, attributes: [Attribute])
    /// Links to the span `parent` names (its context is built only for a tracer that needs it),
    /// the link's attributes given as OTLP values.
    func addLink(to parent: MessagingParent, attributes: [Attribute])
    /// The baggage of this span's context, read without building the context.
    var baggage: Baggage? { get }
    /// This span's W3C span context when its tracer keeps one (the lean tracer does); `nil` for
    /// a tracer that keeps its own (its `traceparent` then comes from its inject).
    var w3cSpanContext: SpanContext? { get }
    /// This span's context with `baggage` instead of its own (made in one step, not as the
    /// span's context and then a copy of it).
    func context(baggage: Baggage) -> ServiceContext
}

extension MessagingSpan {
    public func context(baggage: Baggage) -> ServiceContext {
        var context = self.context
        context.baggage = baggage
        return context
    }

    /// Through the parent's context (built, for a span); nothing for a span that records
    /// nothing (tracing off), which keeps no link.
    public func addLink(to parent: MessagingParent, attributes: [Attribute]) {
        guard isRecording else { return }
        addLink(to: parent.context, attributes: attributes)
    }
}

/// What a messaging span is started under: a context, or a span (or a remote span context)
/// whose context is then never built (a `ServiceContext` is a dictionary of existentials:
/// making one for each record a component sends costs about as much as the rest of the
/// record's span).
public enum MessagingParent: Sendable {
    case context(ServiceContext)
    case span(any MessagingSpan)
    /// A span whose children carry `baggage` instead of the span's own: the order manager's
    /// processing span with the order's baggage, kept for the order's later spans and records
    /// until its batch closes (a context made for each order cost a tenth of its CPU). Made by
    /// ``MessagingTracer/parent(_:baggage:)`` for the tracers that start children from it.
    case spanWithBaggage(any MessagingSpan, Baggage)
    /// A span known by its W3C context alone, and the baggage its children carry: a batch
    /// member's order as the allocator reads it from the batch, for every update of the order
    /// (see ``MessagingTracer/parent(stored:)``).
    case remote(SpanContext, baggage: Baggage?)

    /// The parent's baggage.
    public var baggage: Baggage? {
        switch self {
        case .context(let context): context.baggage
        case .span(let span): span.baggage
        case .spanWithBaggage(_, let baggage): baggage
        case .remote(_, let baggage): baggage
        }
    }

    /// The parent's context (built, for a span or a remote span context, the latter through the
    /// tracer's own extract).
    public var context: ServiceContext {
        switch self {
        case .context(let context):
            return context
        case .span(let span):
            return span.context
        case .spanWithBaggage(let span, let baggage):
            return span.context(baggage: baggage)
        case .remote(let spanContext, let baggage):
            var context =
                StoredTraceContext.context(traceparent: spanContext.traceparent, tracestate: spanContext.traceState.isEmpty ? nil : spanContext.traceState)
                ?? .topLevel
            if let baggage { context.baggage = baggage }
            return context
        }
    }

    /// The parent span's W3C span context when its tracer keeps one (the lean tracer does), read
    /// without building a context.
    public var w3cSpanContext: SpanContext? {
        switch self {
        case .context(let context): context.spanContext
        case .span(let span), .spanWithBaggage(let span, _): span.w3cSpanContext
        case .remote(let spanContext, _): spanContext
        }
    }

    /// The same parent, its children carrying `baggage` instead (an order's baggage with an
    /// update's ids set on it). Only a context is copied to do so.
    public func replacingBaggage(_ baggage: Baggage) -> MessagingParent {
        switch self {
        case .context(var context):
            context.baggage = baggage
            return .context(context)
        case .span(let span), .spanWithBaggage(let span, _):
            return .spanWithBaggage(span, baggage)
        case .remote(let spanContext, _):
            return .remote(spanContext, baggage: baggage)
        }
    }
}

/// What the messaging layer asks of a tracer: spans that write their context into a message,
/// and spans that continue the context a message carries. The lean tracer serves it itself
/// (the context goes to and from the headers as bytes); ``TracerMessaging`` serves it for any
/// other `Tracer` through that tracer's own inject and extract.
public protocol MessagingTracer: Sendable {
    /// A span whose parent is the span of `context` (a new trace when it has none).
    func startMessagingSpan(_ name: String, context: ServiceContext, ofKind kind: SpanKind) -> any MessagingSpan

    /// A consumer span for a received message, continuing the trace the message carries and
    /// linked to the span that sent it; named `rootName` and the root of a new trace when the
    /// message carries no context this tracer can continue.
    ///
    /// - Parameters:
    ///   - remoteParent: the W3C context parsed from the message's `traceparent`, if valid.
    ///   - baggage: the message's baggage, added to the span's context.
    ///   - headers: the message's headers, for tracers that propagate with other headers.
    /// - Returns: the span, and whether it continues the message's trace.
    func startConsumerSpan<Headers: TraceHeaders>(
        _ name: String, rootName: String, remoteParent: SpanContext?, baggage: Baggage?, headers: Headers
    ) -> (span: any MessagingSpan, continued: Bool)

    /// The context of the span that sent a message, as this tracer keeps it, for a parent or a
    /// link started later: `remoteParent` (parsed from `traceparent`), or what the tracer's own
    /// extract finds in `headers`. Empty when the message carries no context it can continue.
    func remoteContext<Headers: TraceHeaders>(remoteParent: SpanContext?, headers: Headers) -> ServiceContext

    /// A span whose parent is `parent`: the span of a context, or a span itself.
    func startMessagingSpan(_ name: String, parent: MessagingParent, ofKind kind: SpanKind) -> any MessagingSpan

    /// A span whose parent is the span of `context`, whose own context carries `baggage` instead of
    /// the context's (the allocator's updates: an order's baggage with the update's ids set).
    func startMessagingSpan(_ name: String, context: ServiceContext, baggage: Baggage, ofKind kind: SpanKind) -> any MessagingSpan

    /// `span` as the parent of later spans and records whose baggage is `baggage`, in the form
    /// this tracer starts children from most cheaply: the span and the baggage for the lean
    /// tracer, which never builds the context; the context, built once, for any other.
    func parent(_ span: any MessagingSpan, baggage: Baggage) -> MessagingParent

    /// The parent that a stored context names (`StoredContext/context`), in the form this tracer
    /// starts children from most cheaply: the parsed W3C context and baggage for the lean tracer;
    /// the context, built once, for any other. The top level when the stored `traceparent` is
    /// not valid.
    func parent(stored: StoredContext) -> MessagingParent
}

extension MessagingTracer {
    /// Through the parent's context (built, for a span).
    public func startMessagingSpan(_ name: String, parent: MessagingParent, ofKind kind: SpanKind) -> any MessagingSpan {
        startMessagingSpan(name, context: parent.context, ofKind: kind)
    }

    /// Through a copy of `context` with `baggage` set on it.
    public func startMessagingSpan(_ name: String, context: ServiceContext, baggage: Baggage, ofKind kind: SpanKind) -> any MessagingSpan {
        var context = context
        context.baggage = baggage
        return startMessagingSpan(name, context: context, ofKind: kind)
    }

    /// The span's context with `baggage`, built once here.
    public func parent(_ span: any MessagingSpan, baggage: Baggage) -> MessagingParent {
        .context(span.context(baggage: baggage))
    }

    /// The stored context, built once here.
    public func parent(stored: StoredContext) -> MessagingParent {
        .context(stored.context ?? .topLevel)
    }
}

/// The messaging tracer of the tracer in use (the task's, or the process's bootstrapped one).
public enum MessagingTracing {
    /// The tracer itself when it serves messaging spans (the lean tracer does), otherwise
    /// ``TracerMessaging`` over it. Look it up once per batch of records where possible.
    public static var current: any MessagingTracer {
        if let tracer = InstrumentationSystem.instrument as? any MessagingTracer { return tracer }
        return TracerMessaging(InstrumentationSystem.tracer)
    }

    /// The messaging tracer of `tracer`: itself when it serves messaging spans, otherwise
    /// ``TracerMessaging`` over it.
    public static func tracer(for tracer: any Tracer) -> any MessagingTracer {
        (tracer as? any MessagingTracer) ?? TracerMessaging(tracer)
    }
}

/// Messaging spans for any `Tracer`: its spans, attributes set through `SpanAttributes`, and
/// the context written and read through its own `inject` and `extract`, so it works with
/// tracers that do not speak W3C Trace Context (the in-memory test tracer, say).
public struct TracerMessaging: MessagingTracer {
    public let tracer: any Tracer

    public init(_ tracer: any Tracer) {
        self.tracer = tracer
    }

    public func startMessagingSpan(_ name: String, context: ServiceContext, ofKind kind: SpanKind) -> any MessagingSpan {
        TracerMessagingSpan(span: tracer.startSpan(name, context: context, ofKind: kind), tracer: tracer)
    }

    public func startConsumerSpan<Headers: TraceHeaders>(
        _ name: String, rootName: String, remoteParent: SpanContext?, baggage: Baggage?, headers: Headers
    ) -> (span: any MessagingSpan, continued: Bool) {
        var context = remoteContext(remoteParent: remoteParent, headers: headers)
        let continued = !context.isEmpty
        let link = continued ? SpanLink(context: context, attributes: [:]) : nil
        if let baggage { context.baggage = baggage }
        let span = tracer.startSpan(continued ? name : rootName, context: context, ofKind: .consumer)
        if let link { span.addLink(link) }
        return (TracerMessagingSpan(span: span, tracer: tracer), continued)
    }

    public func remoteContext<Headers: TraceHeaders>(remoteParent: SpanContext?, headers: Headers) -> ServiceContext {
        var context = ServiceContext.topLevel
        tracer.extract(headers, into: &context, using: TraceHeadersPropagation<Headers>())
        return context
    }
}

/// Another tracer's span, served as a messaging span.
final class TracerMessagingSpan: MessagingSpan {
    let span: any Span
    let tracer: any Tracer

    init(span: any Span, tracer: any Tracer) {
        self.span = span
        self.tracer = tracer
    }

    func setAttributes(_ attributes: [Attribute]) {
        span.updateAttributes { existing in
            for attribute in attributes { existing[attribute.key] = attribute.value.spanAttribute }
        }
    }

    func setAttribute(_ key: String, _ value: AttributeValue) {
        span.attributes[key] = value.spanAttribute
    }

    func addLink(to context: ServiceContext, attributes: [Attribute]) {
        var linkAttributes = SpanAttributes()
        for attribute in attributes { linkAttributes[attribute.key] = attribute.value.spanAttribute }
        span.addLink(SpanLink(context: context, attributes: linkAttributes))
    }

    func writeContext<Headers: TraceHeaders>(into headers: inout Headers) {
        tracer.inject(span.context, into: &headers, using: TraceHeadersPropagation<Headers>())
    }

    var context: ServiceContext { span.context }

    var baggage: Baggage? { span.context.baggage }

    var w3cSpanContext: SpanContext? { span.context.spanContext }

    var operationName: String {
        get { span.operationName }
        set { span.operationName = newValue }
    }

    var attributes: SpanAttributes {
        get { span.attributes }
        set { span.attributes = newValue }
    }

    var isRecording: Bool { span.isRecording }

    func setStatus(_ status: SpanStatus) { span.setStatus(status) }

    func addEvent(_ event: SpanEvent) { span.addEvent(event) }

    func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        span.recordError(error, attributes: attributes, at: instant())
    }

    func addLink(_ link: SpanLink) { span.addLink(link) }

    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) { span.end(at: instant()) }
}

/// Reads and writes a tracer's context in `TraceHeaders` (set, never appended).
struct TraceHeadersPropagation<Headers: TraceHeaders>: Injector, Extractor {
    func inject(_ value: String, forKey key: String, into carrier: inout Headers) {
        carrier.set(key, value)
    }

    func extract(key: String, from carrier: Headers) -> String? {
        // An invalid tracestate is dropped, a valid one capped, whatever the tracer does with it.
        key == "tracestate" ? carrier.string(key).flatMap { TraceState.sanitized($0) } : carrier.string(key)
    }
}

extension AttributeValue {
    /// The value as swift-distributed-tracing's `SpanAttribute`.
    public var spanAttribute: SpanAttribute {
        switch self {
        case .string(let value): .string(value)
        case .bool(let value): .bool(value)
        case .int(let value): .int64(value)
        case .double(let value): .double(value)
        case .stringArray(let values): .stringArray(values)
        case .boolArray(let values): .boolArray(values)
        case .intArray(let values): .int64Array(values)
        case .doubleArray(let values): .doubleArray(values)
        }
    }
}
