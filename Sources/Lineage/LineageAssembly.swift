import OTLPWire
import TraceStore

/// Turns loaded traces into a ``LineageGraph``: edges and their roles, stubs, what is missing,
/// and each client order's completeness. Pure: it reads nothing but what it is given.
struct LineageAssembly {
    let query: String
    let matches: [IDMatch]
    let seeds: Set<TraceID>
    let traceOrder: [TraceID]
    let loaded: [TraceID: [StoredSpan]]
    /// Every loaded span by (trace, span id).
    private let byReference: [SpanReference: StoredSpan]

    init(query: String, matches: [IDMatch], seeds: Set<TraceID>, traceOrder: [TraceID], loaded: [TraceID: [StoredSpan]]) {
        self.query = query
        self.matches = matches
        self.seeds = seeds
        self.traceOrder = traceOrder
        self.loaded = loaded
        var byReference: [SpanReference: StoredSpan] = [:]
        for spans in loaded.values {
            for span in spans {
                byReference[SpanReference(traceID: span.span.traceID, spanID: span.span.spanID)] = span
            }
        }
        self.byReference = byReference
    }

    /// Link targets in traces that are not loaded.
    func linkTargetsOutside() -> [SpanReference] {
        var targets: [SpanReference] = []
        var seen: Set<SpanReference> = []
        for traceID in traceOrder {
            for span in loaded[traceID] ?? [] {
                for link in span.span.links where loaded[link.traceID] == nil {
                    let target = SpanReference(traceID: link.traceID, spanID: link.spanID)
                    if seen.insert(target).inserted { targets.append(target) }
                }
            }
        }
        return targets
    }

    func assemble(storedOutside: Set<UInt64>, truncated: Bool, limits: LineageLimits) -> LineageGraph {
        var spans: [StoredSpan] = []
        var edges: [LineageEdge] = []
        var missingParents: [MissingReference] = []
        var missingLinks: [MissingReference] = []
        var stubs: [TraceID: (label: String, first: Int)] = [:]

        for traceID in traceOrder {
            for stored in loaded[traceID] ?? [] {
                spans.append(stored)
                let span = stored.span
                let reference = SpanReference(traceID: traceID, spanID: span.spanID)
                if span.parentSpanID != 0 {
                    let parent = SpanReference(traceID: traceID, spanID: span.parentSpanID)
                    if let parentSpan = byReference[parent] {
                        if span.name == "exchange_order_send" && parentSpan.span.name == "algorithm_processing" {
                            edges.append(LineageEdge(from: parent, to: reference, type: .parent, role: .splitInto))
                        } else {
                            edges.append(LineageEdge(from: reference, to: parent, type: .parent, role: .childOf))
                        }
                    } else {
                        missingParents.append(MissingReference(missing: parent, referencedBy: reference))
                    }
                }
                for link in span.links {
                    let target = SpanReference(traceID: link.traceID, spanID: link.spanID)
                    // A consumer's link to its producer, which is also its parent: the parent
                    // edge shows it.
                    if link.traceID == traceID && link.spanID == span.parentSpanID { continue }
                    let present: Bool
                    if loaded[link.traceID] != nil {
                        present = byReference[target] != nil
                    } else {
                        present = storedOutside.contains(link.spanID)
                        if stubs[link.traceID] == nil {
                            stubs[link.traceID] = (Self.stubLabel(link), stubs.count)
                        }
                    }
                    if !present {
                        missingLinks.append(MissingReference(missing: target, referencedBy: reference))
                    }
                    let (from, to, role) = Self.role(holder: stored, reference: reference, link: link, target: target)
                    edges.append(LineageEdge(from: from, to: to, type: .link, role: role))
                }
            }
        }

        var traces = traceOrder.map { traceNode($0) }
        for (traceID, stub) in stubs.sorted(by: { $0.value.first < $1.value.first }) {
            traces.append(
                TraceNode(
                    traceID: traceID, kind: stub.label.hasPrefix("order ") ? .order : .other, label: stub.label, rootSpanID: 0,
                    rootName: "", start: 0, end: 0, spanCount: 0, loaded: false, seed: false))
        }
        let orders = OrderReport(assembly: self, missingLinks: missingLinks, missingParents: missingParents).orders()
        return LineageGraph(
            query: query, matches: matches, truncated: truncated, limits: limits, traces: traces, spans: spans, edges: edges,
            missingParents: missingParents, missingLinks: missingLinks, orders: orders)
    }

    /// The role of a link, and the direction it reads in.
    static func role(holder: StoredSpan, reference: SpanReference, link: SpanLinkData, target: SpanReference)
        -> (SpanReference, SpanReference, LineageEdge.Role)
    {
        let toOrder = link.attributes.contains { $0.key == "client.order_id" }
        switch holder.span.name {
        case "client_order_batched":
            return (reference, target, .batchedInto)
        case "order_batching":
            return (target, reference, .batchedInto)
        case "fill_matching":
            return toOrder ? (reference, target, .allocatedTo) : (reference, target, .matches)
        case "client_order_update", "order_completed":
            return (reference, target, .filledBy)
        default:
            return (reference, target, .linkedTo)
        }
    }

    private static func stubLabel(_ link: SpanLinkData) -> String {
        for attribute in link.attributes where attribute.key == "client.order_id" {
            if case .string(let id) = attribute.value { return "order \(id)" }
        }
        return "trace \(link.traceID.hex.prefix(8))"
    }

    private func traceNode(_ traceID: TraceID) -> TraceNode {
        let spans = loaded[traceID] ?? []
        let root = spans.first { $0.span.parentSpanID == 0 }
        let kind: TraceNode.Kind =
            switch root?.span.name {
            case "client_order_received": .order
            case "order_batching": .batch
            default: .other
            }
        let label: String
        switch kind {
        case .order: label = "order " + (Self.attribute("client.order_id", in: spans) ?? "?")
        case .batch: label = "batch " + (Self.attribute("batch.id", in: spans) ?? "?")
        case .other: label = root?.span.name ?? "trace \(traceID.hex.prefix(8))"
        }
        let start = spans.map { Int64($0.span.startTimeUnixNano / 1000) }.min() ?? 0
        let end = spans.map { Int64($0.span.endTimeUnixNano / 1000) }.max() ?? 0
        return TraceNode(
            traceID: traceID, kind: kind, label: label, rootSpanID: root?.span.spanID ?? 0, rootName: root?.span.name ?? "",
            start: start, end: end, spanCount: spans.count, loaded: true, seed: seeds.contains(traceID))
    }

    /// The first string value of `key` on the spans (the root's first).
    static func attribute(_ key: String, in spans: [StoredSpan]) -> String? {
        for span in spans.sorted(by: { ($0.span.parentSpanID == 0 ? 0 : 1) < ($1.span.parentSpanID == 0 ? 0 : 1) }) {
            for attribute in span.span.attributes where attribute.key == key {
                if case .string(let value) = attribute.value { return value }
            }
        }
        return nil
    }

    func span(_ reference: SpanReference) -> StoredSpan? { byReference[reference] }
}
