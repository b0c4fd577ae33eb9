/// A lineage as an indented tree, for a terminal: each loaded trace as its span tree (name,
/// service, duration, key ids), link edges marked `⇢` with their role, then the traces only
/// referenced, what never arrived, and each client order's completeness.
public enum LineageText {
    static let keyIDs = ["client.order_id", "batch.id", "exchange.order_id", "fill.id", "order.status"]

    public static func render(_ document: LineageDocument) -> String {
        var lines: [String] = []
        let spansByID = Dictionary(document.spans.map { ($0.spanId + "/" + $0.traceId, $0) }, uniquingKeysWith: { first, _ in first })
        let labels = Dictionary(document.traces.map { ($0.traceId, $0.label) }, uniquingKeysWith: { first, _ in first })
        var linksFrom: [String: [LineageDocument.Edge]] = [:]
        for edge in document.edges where edge.type == "link" {
            linksFrom[edge.from.spanId + "/" + edge.from.traceId, default: []].append(edge)
            if edge.role == "batched into" && spansByID[edge.from.spanId + "/" + edge.from.traceId] == nil {
                linksFrom[edge.to.spanId + "/" + edge.to.traceId, default: []].append(edge)
            }
        }
        let matched = document.matches.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("lineage of \(document.query) (\(matched))")
        for trace in document.traces where trace.loaded {
            lines.append("")
            lines.append("\(trace.seed ? "●" : "○") \(trace.label)  trace \(trace.traceId)  \(trace.spanCount) spans")
            let spans = document.spans.filter { $0.traceId == trace.traceId }
            let ids = Set(spans.map(\.spanId))
            var children: [String: [LineageDocument.Span]] = [:]
            var roots: [LineageDocument.Span] = []
            for span in spans {
                if span.parentSpanId.isEmpty || !ids.contains(span.parentSpanId) {
                    roots.append(span)
                } else {
                    children[span.parentSpanId, default: []].append(span)
                }
            }
            func walk(_ span: LineageDocument.Span, depth: Int) {
                let indent = String(repeating: "  ", count: depth + 1)
                var line = "\(indent)\(span.name)  [\(span.service)]  \(duration(span.duration))"
                let keys = keyIDs.compactMap { key in span.attributes[key].map { "\(key)=\($0)" } }
                if !keys.isEmpty { line += "  " + keys.joined(separator: " ") }
                if !span.parentSpanId.isEmpty && !ids.contains(span.parentSpanId) {
                    line += "  ✗ parent \(span.parentSpanId) never arrived"
                }
                if span.status == "error" { line += "  ERROR" }
                lines.append(line)
                for edge in linksFrom[span.spanId + "/" + span.traceId] ?? [] {
                    let isSource = edge.from.spanId == span.spanId && edge.from.traceId == span.traceId
                    let other = isSource ? edge.to : edge.from
                    let otherName = spansByID[other.spanId + "/" + other.traceId]?.name ?? "span \(other.spanId)"
                    let where_ = labels[other.traceId] ?? "trace \(other.traceId.prefix(8))"
                    let arrow = isSource ? "\(edge.role) →" : "← \(edge.role)"
                    lines.append("\(indent)  ⇢ \(arrow) \(otherName) (\(where_))")
                }
                for child in (children[span.spanId] ?? []).sorted(by: { $0.start < $1.start }) {
                    walk(child, depth: depth + 1)
                }
            }
            for root in roots.sorted(by: { $0.start < $1.start }) {
                walk(root, depth: 0)
            }
        }
        let stubs = document.traces.filter { !$0.loaded }
        if !stubs.isEmpty {
            lines.append("")
            lines.append("referenced, not loaded: " + stubs.map { "\($0.label) (\($0.traceId.prefix(8)))" }.joined(separator: ", "))
        }
        if !document.missing.parents.isEmpty || !document.missing.links.isEmpty {
            lines.append("")
            for missing in document.missing.parents {
                lines.append("✗ parent \(missing.spanId) of span \(missing.referencedBy) never arrived")
            }
            for missing in document.missing.links {
                lines.append("✗ link target \(missing.spanId) (trace \(missing.traceId.prefix(8))) of span \(missing.referencedBy) never arrived")
            }
        }
        if document.truncated {
            lines.append("")
            lines.append("(truncated: the graph is larger than the explorer's limits)")
        }
        if !document.orders.isEmpty {
            lines.append("")
            lines.append("completeness:")
            for order in document.orders {
                func mark(_ flag: Bool) -> String { flag ? "✓" : "✗" }
                lines.append(
                    "  \(order.complete ? "✓" : "✗") \(order.clientOrderId) (\(order.userId.isEmpty ? "?" : order.userId)) \(order.status): "
                        + "received \(mark(order.received)) batched \(mark(order.batched)) sent \(mark(order.sentToExchange)) "
                        + "fills \(order.fills) updates \(order.updates) delivered \(order.updatesDelivered) completed \(mark(order.completed))")
                for problem in order.problems {
                    lines.append("      - \(problem)")
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    static func duration(_ microseconds: Int64) -> String {
        if microseconds >= 1_000_000 { return String(format1(Double(microseconds) / 1_000_000)) + " s" }
        if microseconds >= 1000 { return String(format1(Double(microseconds) / 1000)) + " ms" }
        return "\(microseconds) µs"
    }

    private static func format1(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
    }
}
