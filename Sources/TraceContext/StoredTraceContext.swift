import OTLPWire
import Baggage
import Tracing

/// Trace contexts kept as W3C text inside messages and stores (a batch member's context, an
/// outbox row) and turned back into contexts through the tracer's own extract path, so that
/// parents and links built from them are real span contexts that the exporter keeps.
public enum StoredTraceContext {
    /// The `traceparent` of `context`'s span, or `nil` when it holds none.
    ///
    /// A W3C span context (the lean tracer's, or one extracted from a record) is written as it
    /// is; only another tracer's span goes through that tracer's inject (which also serializes
    /// the baggage, per call: the allocator asks once per order update).
    public static func traceparent(of context: ServiceContext) -> String? {
        if let spanContext = context.spanContext { return spanContext.traceparent }
        return injected(context)["traceparent"]
    }

    /// A context holding the span that `traceparent` names (and `tracestate` when it is valid,
    /// capped: ``TraceState/sanitized(_:)``), or `nil` when the value is not a valid `traceparent`.
    public static func context(traceparent: String, tracestate: String? = nil, base: ServiceContext = .topLevel) -> ServiceContext? {
        guard TraceParentCheck.problem(traceparent) == nil else { return nil }
        var carrier = ["traceparent": traceparent]
        if let tracestate, let valid = TraceState.sanitized(tracestate) { carrier["tracestate"] = valid }
        var context = base
        InstrumentationSystem.instrument.extract(carrier, into: &context, using: DictionaryPropagation())
        return context
    }

    /// The `traceparent` of `span`: its W3C span context as it is, or what its tracer writes
    /// into a message (without building the span's `ServiceContext` for the lean tracer's).
    public static func traceparent(of span: any MessagingSpan) -> String? {
        if let spanContext = span.w3cSpanContext { return spanContext.traceparent }
        var headers = TextHeaders()
        span.writeContext(into: &headers)
        return headers.values["traceparent"]
    }

    static func injected(_ context: ServiceContext) -> [String: String] {
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryPropagation())
        return carrier
    }
}

/// A context's whole W3C identity as text: `traceparent`, `tracestate` and `baggage`, as a batch
/// member carries its order's across the fan-in, so that every later update of the order is
/// sent in the order's own trace with the order's own baggage (entries the pipeline does not
/// know included, within the W3C limits that `Baggage` applies when it serializes).
public struct StoredContext: Hashable, Sendable {
    public var traceparent: String
    public var tracestate: String?
    public var baggage: String?

    public init(traceparent: String, tracestate: String? = nil, baggage: String? = nil) {
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.baggage = baggage
    }

    /// The context of `context`'s span and its baggage. With tracing off there is no span: the
    /// stored context is then a fresh unsampled one (flags `00`), a valid W3C context that says
    /// "not recorded".
    ///
    /// A W3C span context (the lean tracer's) is written as it is, as its tracer's inject writes
    /// it; only another tracer's span goes through that tracer's inject (which serializes the
    /// baggage too, and the order manager stores a context for every order).
    public init(of context: ServiceContext) {
        if let spanContext = context.spanContext {
            self.init(spanContext, baggage: context.baggage)
            return
        }
        let carrier = StoredTraceContext.injected(context)
        self.init(
            traceparent: carrier["traceparent"] ?? Self.unsampledTraceparent(), tracestate: carrier["tracestate"].flatMap { $0.isEmpty ? nil : $0 },
            baggage: Self.header(context.baggage))
    }

    /// A W3C span context as it is, and `baggage` serialized.
    private init(_ spanContext: SpanContext, baggage: Baggage?) {
        self.init(
            traceparent: spanContext.traceparent, tracestate: spanContext.traceState.isEmpty ? nil : spanContext.traceState,
            baggage: Self.header(baggage))
    }

    /// The `baggage` header value, `nil` when it is empty.
    private static func header(_ baggage: Baggage?) -> String? {
        let value = baggage?.headerValue ?? ""
        return value.isEmpty ? nil : value
    }

    /// The stored span as a context with the stored baggage; `nil` when `traceparent` is not
    /// valid W3C Trace Context.
    public var context: ServiceContext? {
        guard var context = StoredTraceContext.context(traceparent: traceparent, tracestate: tracestate) else { return nil }
        if let baggage {
            let parsed = Baggage(headerValue: baggage)
            if !parsed.isEmpty { context.baggage = parsed }
        }
        return context
    }

    /// The context of `parent`'s span and its baggage, as `init(of:)` stores a context; a span's
    /// W3C span context (the lean tracer's) is read as it is, without building its context.
    public init(of parent: MessagingParent) {
        guard let spanContext = parent.w3cSpanContext else {
            self.init(of: parent.context)
            return
        }
        self.init(spanContext, baggage: parent.baggage)
    }

    /// A random unsampled `traceparent`.
    static func unsampledTraceparent() -> String {
        var generator = SystemRandomNumberGenerator()
        let context = SpanContext(
            traceID: TraceID(high: generator.next() | 1, low: generator.next()), spanID: generator.next() | 1, traceFlags: 0)
        return context.traceparent
    }
}

/// Reads and writes trace context in a plain dictionary (a stored `traceparent`, for instance).
struct DictionaryPropagation: Injector, Extractor {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
    func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key]
    }
}

/// Headers as text, for reading what a span writes into a message.
struct TextHeaders: TraceHeaders {
    var values: [String: String] = [:]

    mutating func set(_ key: String, bytes: [UInt8]?) {
        values[key] = bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    mutating func set(_ key: String, _ value: String) {
        values[key] = value
    }

    mutating func remove(_ key: String) {
        values[key] = nil
    }

    func string(_ key: String) -> String? { values[key] }
}
