import OTLPWire
import ServiceContextModule
import Tracing

/// The OpenTelemetry default limit of links per span, and what happens past it: the first
/// `maxLinks - 1`... links are added, the rest are counted in `ordertrace.links.dropped_count`
/// and their trace ids listed (up to `maxDroppedIDBytes`) in `ordertrace.links.dropped_trace_ids`,
/// so lineage past the limit is visible and searchable rather than silently lost.
public enum LinkLimit {
    public static let maxLinks = 128
    public static let maxDroppedIDBytes = 4_096
    /// How many links did not fit under the span's limit.
    public static let droppedCountAttribute = "ordertrace.links.dropped_count"
    /// The trace ids of those links, as many as fit in `maxDroppedIDBytes`.
    public static let droppedTraceIDsAttribute = "ordertrace.links.dropped_trace_ids"

    /// Adds links to `span`, at most `limit`; records the overflow on the span.
    public static func addLinks(_ links: [SpanLink], to span: any Span, limit: Int = maxLinks) {
        for link in links.prefix(limit) {
            span.addLink(link)
        }
        guard links.count > limit else { return }
        recordDropped(links.dropFirst(limit).lazy.map { StoredTraceContext.traceparent(of: $0.context) }, count: links.count - limit, on: span)
    }

    /// Adds links whose attributes are OTLP values (no `SpanAttributes` per link) to the spans of
    /// `parent`s (no context is built for the lean tracer's), at most `limit`; records the
    /// overflow on the span as `addLinks(_:to:limit:)` does.
    public static func addLinks(_ links: [(parent: MessagingParent, attributes: [Attribute])], to span: any MessagingSpan, limit: Int = maxLinks) {
        for link in links.prefix(limit) {
            span.addLink(to: link.parent, attributes: link.attributes)
        }
        guard links.count > limit else { return }
        recordDropped(
            links.dropFirst(limit).lazy.map { $0.parent.w3cSpanContext?.traceparent ?? StoredTraceContext.traceparent(of: $0.parent.context) },
            count: links.count - limit, on: span)
    }

    private static func recordDropped(_ traceparents: some Sequence<String?>, count: Int, on span: any Span) {
        var ids: [String] = []
        var bytes = 0
        for traceparent in traceparents {
            guard let traceparent else { continue }
            let traceID = String(traceparent.dropFirst(3).prefix(32))
            if bytes + traceID.utf8.count + 1 > maxDroppedIDBytes { break }
            ids.append(traceID)
            bytes += traceID.utf8.count + 1
        }
        span.updateAttributes { attributes in
            attributes[droppedCountAttribute] = Int64(count)
            attributes[droppedTraceIDsAttribute] = ids
        }
    }
}
