import OTLPWire
import TraceStore

/// The completeness report of every client order in a graph, against `trace-model.md`: each
/// loaded order trace, and each batch member whose order trace never arrived.
struct OrderReport {
    let assembly: LineageAssembly
    let missingLinks: [MissingReference]
    let missingParents: [MissingReference]

    func orders() -> [OrderCompleteness] {
        var reports: [OrderCompleteness] = []
        var index: [String: Int] = [:]
        var seen: Set<String> = []
        for traceID in assembly.traceOrder {
            let spans = assembly.loaded[traceID] ?? []
            guard spans.contains(where: { $0.span.name == "client_order_received" }) || isOrderTrace(spans),
                let orderID = LineageAssembly.attribute("client.order_id", in: spans)
            else { continue }
            let candidate = report(orderID: orderID, traceID: traceID, spans: spans)
            guard seen.insert(orderID).inserted else {
                // An order read twice (a record without trace context read again after its
                // partition moved or its reader stopped) has a trace per read; the second only says
                // it was already batched. The order is judged by the trace that carries its life.
                if let position = index[orderID], Self.isBetter(candidate, than: reports[position]) { reports[position] = candidate }
                continue
            }
            index[orderID] = reports.count
            reports.append(candidate)
        }
        // Batch members that the batch names but whose spans never arrived.
        for missing in missingLinks {
            guard let holder = assembly.span(missing.referencedBy), holder.span.name == "order_batching",
                let link = holder.span.links.first(where: { $0.traceID == missing.missing.traceID && $0.spanID == missing.missing.spanID })
            else { continue }
            var orderID = "?"
            var userID = ""
            for attribute in link.attributes {
                if attribute.key == "client.order_id", case .string(let value) = attribute.value { orderID = value }
                if attribute.key == "user.id", case .string(let value) = attribute.value { userID = value }
            }
            guard seen.insert(orderID).inserted else { continue }
            let batchID = LineageAssembly.attribute("batch.id", in: [holder]).map { [$0] } ?? []
            reports.append(
                OrderCompleteness(
                    clientOrderID: orderID, userID: userID, traceID: missing.missing.traceID, batchIDs: batchID, received: false, batched: true,
                    sentToExchange: false, fills: 0, updates: 0, updatesDelivered: 0, completed: false, status: "", complete: false,
                    problems: ["its spans never arrived (batch member span \(spanIDHex(missing.missing.spanID)) is missing)"]))
        }
        return reports
    }

    /// Complete first, then batched, then the fewest problems.
    static func isBetter(_ candidate: OrderCompleteness, than current: OrderCompleteness) -> Bool {
        if candidate.complete != current.complete { return candidate.complete }
        if candidate.batched != current.batched { return candidate.batched }
        return candidate.problems.count < current.problems.count
    }

    private func isOrderTrace(_ spans: [StoredSpan]) -> Bool {
        spans.contains { ["client_order_batched", "client_order_update", "order_completed"].contains($0.span.name) }
    }

    private func report(orderID: String, traceID: TraceID, spans: [StoredSpan]) -> OrderCompleteness {
        let names = spans.map(\.span.name)
        let received = names.contains("client_order_received")
        // Every update published for it: the order manager's (accepted, batched, rejected) and
        // the allocator's.
        let updates = names.filter { $0 == "send order-updates" }.count
        let delivered = names.filter { $0 == "client_order_update_delivered" }.count
        let completed = names.contains("order_completed")
        var status = ""
        var statusTime: UInt64 = 0
        var batchIDs: [String] = []
        for stored in spans {
            for attribute in stored.span.attributes {
                if attribute.key == "order.status", case .string(let value) = attribute.value, stored.span.endTimeUnixNano >= statusTime {
                    status = value
                    statusTime = stored.span.endTimeUnixNano
                }
                if attribute.key == "batch.id", case .string(let value) = attribute.value, !batchIDs.contains(value) {
                    batchIDs.append(value)
                }
            }
        }
        var problems: [String] = []
        // Batched: the order's mark, and its batch's span.
        let marks = spans.filter { $0.span.name == "client_order_batched" }
        let batchTargets = marks.flatMap(\.span.links).map { SpanReference(traceID: $0.traceID, spanID: $0.spanID) }
        let batchSpans = batchTargets.compactMap { assembly.span($0) }
        let batched = !marks.isEmpty && !batchSpans.isEmpty
        // Sent: the batch trace holds an exchange order.
        let batchTraces = Set(batchTargets.map(\.traceID))
        let sent = batchTraces.contains { traceID in
            (assembly.loaded[traceID] ?? []).contains { $0.span.name == "exchange_order_send" }
        }
        // Fills: fill matchings that allocated to a span of this trace, or that its updates name.
        var fills: Set<SpanReference> = []
        for (otherTrace, others) in assembly.loaded {
            for other in others where other.span.name == "fill_matching" {
                if other.span.links.contains(where: { $0.traceID == traceID }) {
                    fills.insert(SpanReference(traceID: otherTrace, spanID: other.span.spanID))
                }
            }
        }
        for stored in spans where stored.span.name == "client_order_update" || stored.span.name == "order_completed" {
            for link in stored.span.links {
                fills.insert(SpanReference(traceID: link.traceID, spanID: link.spanID))
            }
        }
        let rejected = status == "rejected"
        if !received { problems.append("client_order_received never arrived") }
        if !rejected {
            if marks.isEmpty {
                problems.append("not batched (no client_order_batched)")
            } else if batchSpans.isEmpty {
                problems.append("its batch's order_batching never arrived")
            }
            if batched && !sent { problems.append("no exchange_order_send in its batch trace") }
            if fills.isEmpty { problems.append("no fills seen") }
            if !completed { problems.append("not completed (no order_completed)") }
        }
        for missing in missingParents where missing.referencedBy.traceID == traceID {
            problems.append("span \(spanIDHex(missing.referencedBy.spanID)) has a parent that never arrived (\(spanIDHex(missing.missing.spanID)))")
        }
        for missing in missingLinks where missing.referencedBy.traceID == traceID {
            problems.append("span \(spanIDHex(missing.referencedBy.spanID)) links to a span that never arrived (\(spanIDHex(missing.missing.spanID)))")
        }
        let userID = LineageAssembly.attribute("user.id", in: spans) ?? ""
        return OrderCompleteness(
            clientOrderID: orderID, userID: userID, traceID: traceID, batchIDs: batchIDs, received: received, batched: batched,
            sentToExchange: sent, fills: fills.count, updates: updates, updatesDelivered: delivered, completed: completed, status: status,
            complete: problems.isEmpty, problems: problems)
    }
}
