import Tracing

/// Trace contexts kept as W3C strings inside messages (a batch member's `traceparent`) and
/// turned back into contexts through the tracer's own extract path, so that parents and links
/// built from them are real span contexts that the exporter keeps.
public enum StoredTraceContext {
    /// The `traceparent` of `context`'s span, or `nil` when it holds none.
    public static func traceparent(of context: ServiceContext) -> String? {
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryPropagation())
        return carrier["traceparent"]
    }

    /// A context holding the span that `traceparent` names (and `tracestate`), or `nil` when the
    /// value is not a valid `traceparent`.
    public static func context(traceparent: String, tracestate: String? = nil, base: ServiceContext = .topLevel) -> ServiceContext? {
        guard TraceParentCheck.problem(traceparent) == nil else { return nil }
        var carrier = ["traceparent": traceparent]
        if let tracestate { carrier["tracestate"] = tracestate }
        var context = base
        InstrumentationSystem.instrument.extract(carrier, into: &context, using: DictionaryPropagation())
        return context
    }
}

/// The OpenTelemetry default limit of links per span, and what happens past it: the first
/// `maxLinks - 1`... links are added, the rest are counted in `ordertrace.links.dropped_count`
/// and their trace ids listed (up to `maxDroppedIDBytes`) in `ordertrace.links.dropped_trace_ids`,
/// so lineage past the limit is visible and searchable rather than silently lost.
public enum LinkLimit {
    public static let maxLinks = 128
    public static let maxDroppedIDBytes = 4_096

    /// Adds links to `span`, at most `limit`; records the overflow on the span.
    public static func addLinks(_ links: [SpanLink], to span: any Span, limit: Int = maxLinks) {
        for link in links.prefix(limit) {
            span.addLink(link)
        }
        guard links.count > limit else { return }
        var ids: [String] = []
        var bytes = 0
        for link in links.dropFirst(limit) {
            guard let traceparent = StoredTraceContext.traceparent(of: link.context) else { continue }
            let traceID = String(traceparent.dropFirst(3).prefix(32))
            if bytes + traceID.utf8.count + 1 > maxDroppedIDBytes { break }
            ids.append(traceID)
            bytes += traceID.utf8.count + 1
        }
        span.updateAttributes { attributes in
            attributes[MessagingAttribute.droppedLinkCount] = Int64(links.count - limit)
            attributes[MessagingAttribute.droppedLinkTraceIDs] = ids
        }
    }
}
