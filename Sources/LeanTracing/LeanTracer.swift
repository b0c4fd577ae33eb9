import Baggage
import Instrumentation
import OTLPWire
import ServiceContextModule
import TraceContext
import Tracing

/// A tracer behind the standard swift-distributed-tracing API, made to trace every order of a
/// busy pipeline: about a microsecond per span, no thread woken per span, bounded memory.
///
/// - Ids come from `IDGenerator` (no system call per id); the `Sampler` decides per trace.
/// - Ended spans wait in a sharded, bounded `SpanBuffer`; `LeanTracingService` drains it and
///   exports over OTLP/HTTP. A full buffer drops spans and counts them; it never blocks.
/// - Propagation is W3C Trace Context (`traceparent`, `tracestate`) and W3C Baggage
///   (`baggage`, through the project's `Baggage` module), so links and parents built from
///   extracted or stored contexts are real span contexts and always export.
public final class LeanTracer: Tracer {
    public typealias Span = LeanSpan

    public let sampler: Sampler
    public let limits: SpanLimits
    /// Whether `inject` writes the context's baggage (and `extract` reads it).
    public let propagatesBaggage: Bool
    let buffer: SpanBuffer
    let ids: IDGenerator

    /// - Parameters:
    ///   - bufferCapacity: the most ended spans kept for the exporter at once.
    ///   - encodesSpans: encode each span as OTLP protobuf when it ends and keep only its bytes
    ///     (for a protobuf export), instead of keeping its values until the export.
    public init(
        sampler: Sampler = .parentBased(root: .alwaysOn), limits: SpanLimits = SpanLimits(), bufferCapacity: Int = 65_536, propagatesBaggage: Bool = true,
        encodesSpans: Bool = false
    ) {
        self.sampler = sampler
        self.limits = limits
        self.propagatesBaggage = propagatesBaggage
        self.buffer = SpanBuffer(capacity: bufferCapacity, encodes: encodesSpans)
        self.ids = IDGenerator()
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> ServiceContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> LeanSpan {
        let parentContext = context()
        return startSpan(
            operationName, parent: parentContext.spanContext, baseContext: parentContext, ofKind: kind,
            startNanoseconds: instant().nanosecondsSinceEpoch)
    }

    /// Starts a span whose parent is `parent` (an extracted or stored span context, or `nil` for a
    /// new trace) without looking it up in a `ServiceContext`: the fast path of the Kafka
    /// consumer. The span's `context` is `baseContext`, with `baggage` when given, and the span's
    /// own context; it is built only when asked for.
    public func startSpan(
        _ operationName: String, parent: SpanContext?, baseContext: ServiceContext = .topLevel, baggage: Baggage? = nil,
        ofKind kind: SpanKind,
        startNanoseconds: UInt64 = DefaultTracerClock.now.nanosecondsSinceEpoch
    ) -> LeanSpan {
        let traceID = parent?.traceID ?? ids.traceID()
        let sampled = sampler.shouldSample(traceID: traceID, parent: parent)
        let spanContext = SpanContext(
            traceID: traceID, spanID: ids.spanID(), traceFlags: sampled ? 1 : 0, traceState: parent?.traceState ?? "")
        return LeanSpan(
            name: operationName, spanContext: spanContext, parentSpanID: parent?.spanID ?? 0, kind: kind,
            startNanoseconds: startNanoseconds, parentContext: baseContext, pendingBaggage: baggage, sink: buffer, limits: limits)
    }

    public func forceFlush() {}

    public func inject<Carrier, Inject>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject: Injector, Carrier == Inject.Carrier {
        if let spanContext = context.spanContext {
            injector.inject(spanContext.traceparent, forKey: "traceparent", into: &carrier)
            if !spanContext.traceState.isEmpty {
                injector.inject(spanContext.traceState, forKey: "tracestate", into: &carrier)
            }
        }
        if propagatesBaggage, let baggage = context.baggage, !baggage.isEmpty {
            injector.inject(baggage.headerValue, forKey: "baggage", into: &carrier)
        }
    }

    public func extract<Carrier, Extract>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract: Extractor, Carrier == Extract.Carrier {
        if let traceparent = extractor.extract(key: "traceparent", from: carrier),
            let spanContext = SpanContext(traceparent: traceparent, traceState: extractor.extract(key: "tracestate", from: carrier) ?? "")
        {
            context.spanContext = spanContext
        }
        if propagatesBaggage, let header = extractor.extract(key: "baggage", from: carrier) {
            let baggage = Baggage(headerValue: header)
            if !baggage.isEmpty { context.baggage = baggage }
        }
    }

    /// Spans dropped because the exporter could not keep up (the buffer was full).
    public var droppedSpanCount: Int { buffer.dropped }

    /// Spans that ended and were kept for the exporter.
    public var recordedSpanCount: Int { buffer.pushed }
}

extension LeanTracer: MessagingTracer {
    /// The lean tracer serves messaging spans itself: no `ServiceContext` is built for a
    /// consumer's parent, and the context goes to and from the headers as bytes.
    public func startMessagingSpan(_ name: String, context: ServiceContext, ofKind kind: SpanKind) -> any MessagingSpan {
        startSpan(name, parent: context.spanContext, baseContext: context, ofKind: kind)
    }

    /// A child of a lean span starts from that span's parts (with the baggage given, if any):
    /// its context is never built.
    public func startMessagingSpan(_ name: String, parent: MessagingParent, ofKind kind: SpanKind) -> any MessagingSpan {
        switch parent {
        case .context(let context):
            return startSpan(name, parent: context.spanContext, baseContext: context, ofKind: kind)
        case .span(let span as LeanSpan):
            return startSpan(name, parent: span.spanContext, baseContext: span.parentContext, baggage: span.pendingBaggage, ofKind: kind)
        case .spanWithBaggage(let span as LeanSpan, let baggage):
            return startSpan(name, parent: span.spanContext, baseContext: span.parentContext, baggage: baggage, ofKind: kind)
        case .remote(let spanContext, let baggage):
            return startSpan(name, parent: spanContext, baggage: baggage, ofKind: kind)
        case .span, .spanWithBaggage:
            let context = parent.context
            return startSpan(name, parent: context.spanContext, baseContext: context, ofKind: kind)
        }
    }

    /// The span and the baggage, as they are: children start from the span's parts.
    public func parent(_ span: any MessagingSpan, baggage: Baggage) -> MessagingParent {
        .spanWithBaggage(span, baggage)
    }

    /// The stored W3C context parsed as it is (no carrier, no extract, no context), with the
    /// stored baggage; validated as `StoredContext/context` validates it.
    public func parent(stored: StoredContext) -> MessagingParent {
        guard TraceParentCheck.problem(stored.traceparent) == nil,
            let spanContext = SpanContext(
                traceparent: stored.traceparent, traceState: stored.tracestate.flatMap { TraceState.sanitized($0) } ?? "")
        else { return .context(.topLevel) }
        let baggage = stored.baggage.map { Baggage(headerValue: $0) }
        return .remote(spanContext, baggage: baggage?.isEmpty == false ? baggage : nil)
    }

    /// The baggage waits in the span until its context is asked for: no context is copied.
    public func startMessagingSpan(_ name: String, context: ServiceContext, baggage: Baggage, ofKind kind: SpanKind) -> any MessagingSpan {
        startSpan(name, parent: context.spanContext, baseContext: context, baggage: baggage, ofKind: kind)
    }

    public func startConsumerSpan<Headers: TraceHeaders>(
        _ name: String, rootName: String, remoteParent: SpanContext?, baggage: Baggage?, headers: Headers
    ) -> (span: any MessagingSpan, continued: Bool) {
        let span = startSpan(remoteParent == nil ? rootName : name, parent: remoteParent, baggage: baggage, ofKind: .consumer)
        if let remoteParent { span.addLink(to: remoteParent) }
        return (span, remoteParent != nil)
    }

    /// The parsed `traceparent` as the lean tracer keeps it: no string, no extract.
    public func remoteContext<Headers: TraceHeaders>(remoteParent: SpanContext?, headers: Headers) -> ServiceContext {
        var context = ServiceContext.topLevel
        if let remoteParent { context.spanContext = remoteParent }
        return context
    }
}
