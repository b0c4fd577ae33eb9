import OTLPWire

/// A recorded fan-in / fan-out / many-to-many flow, span by span as `trace-model.md` has it,
/// with known answers:
///
/// - Orders `o-1` (alice, 100) and `o-2` (bob, 50) arrive at the gateway; `o-3` (carol) is a
///   member of the batch too, but none of its spans ever arrived.
/// - The order manager batches all three into `b-1` (fan-in); the algorithm splits it into
///   exchange orders `x-1` and `x-2` (fan-out); each is filled once (`f-1`, `f-2`), and each fill
///   is allocated to both `o-1` and `o-2` (many-to-many).
/// - `o-1` is complete: 2 fills, 2 updates, 2 delivered, completed.
/// - `o-2` lost the `send order-updates` of its second update, so that update's
///   `process order-updates` has a parent that never arrived; and its `order_completed` never
///   arrived.
struct LineageScenario {
    static let base: UInt64 = 1_764_000_000_000_000_000
    var spansByService: [String: [SpanData]] = [:]
    private var nextSpan: UInt64 = 0x100
    private var clock: UInt64 = base

    let orderTrace1 = TraceID(high: 0x1111_0000_0000_0001, low: 1)
    let orderTrace2 = TraceID(high: 0x2222_0000_0000_0002, low: 2)
    let orderTrace3 = TraceID(high: 0x3333_0000_0000_0003, low: 3)
    let batchTrace = TraceID(high: 0xBBBB_0000_0000_000B, low: 0xB)

    /// The ids of interesting spans, for assertions.
    var processing: [String: UInt64] = [:]
    var batching: UInt64 = 0
    var fillMatchings: [UInt64] = []
    var missingSendUpdate: UInt64 = 0
    var exchangeOrderSends: [UInt64] = []
    let missingMemberSpan: UInt64 = 0x3333

    init() {
        build()
    }

    var batches: [ExportedSpans] {
        spansByService.keys.sorted().map { service in
            ExportedSpans(
                origin: ExportOrigin(resourceAttributes: [Attribute("service.name", .string(service))], scopeName: "ordertrace"),
                spans: spansByService[service]!)
        }
    }

    var spanCount: Int { spansByService.values.reduce(0) { $0 + $1.count } }

    private mutating func span(
        _ service: String, _ name: String, trace: TraceID, parent: UInt64 = 0, kind: SpanDataKind = .internal,
        attributes: [Attribute] = [], links: [SpanLinkData] = [], keep: Bool = true
    ) -> UInt64 {
        nextSpan += 1
        clock += 150_000
        let span = SpanData(
            traceID: trace, spanID: nextSpan, parentSpanID: parent, name: name, kind: kind, startTimeUnixNano: clock,
            endTimeUnixNano: clock + 100_000, attributes: attributes, links: links)
        if keep { spansByService[service, default: []].append(span) }
        return nextSpan
    }

    private func ids(_ order: String, _ user: String, batch: String? = nil, fill: String? = nil, status: String? = nil) -> [Attribute] {
        var attributes = [Attribute("client.order_id", .string(order)), Attribute("user.id", .string(user))]
        if let batch { attributes.append(Attribute("batch.id", .string(batch))) }
        if let fill { attributes.append(Attribute("fill.id", .string(fill))) }
        if let status { attributes.append(Attribute("order.status", .string(status))) }
        return attributes
    }

    private mutating func build() {
        let orders: [(id: String, user: String, quantity: Int64, trace: TraceID)] = [
            ("o-1", "alice", 100, orderTrace1), ("o-2", "bob", 50, orderTrace2),
        ]
        // The gateway and the order manager, per order.
        var batched: [String: UInt64] = [:]
        for order in orders {
            let received = span(
                "gateway", "client_order_received", trace: order.trace, kind: .server,
                attributes: ids(order.id, order.user) + [Attribute("order.quantity", .int(order.quantity)), Attribute("order.symbol", .string("ACME"))])
            let send = span("gateway", "send client-orders", trace: order.trace, parent: received, kind: .producer, attributes: ids(order.id, order.user))
            let process = span(
                "order-manager", "process client-orders", trace: order.trace, parent: send, kind: .consumer, attributes: ids(order.id, order.user),
                links: [SpanLinkData(traceID: order.trace, spanID: send)])
            processing[order.id] = span("order-manager", "order_manager_processing", trace: order.trace, parent: process, attributes: ids(order.id, order.user))
            batched[order.id] = 0
        }
        // The batch (fan-in): its root links to every member's order span, o-3's included.
        let memberLinks =
            orders.map { order in
                SpanLinkData(
                    traceID: order.trace, spanID: processing[order.id]!,
                    attributes: [
                        Attribute("client.order_id", .string(order.id)), Attribute("user.id", .string(order.user)),
                        Attribute("order.quantity", .int(order.quantity)),
                    ])
            } + [
                SpanLinkData(
                    traceID: orderTrace3, spanID: missingMemberSpan,
                    attributes: [Attribute("client.order_id", .string("o-3")), Attribute("user.id", .string("carol")), Attribute("order.quantity", .int(30))])
            ]
        batching = span("order-manager", "order_batching", trace: batchTrace, attributes: [Attribute("batch.id", .string("b-1"))], links: memberLinks)
        for order in orders {
            batched[order.id] = span(
                "order-manager", "client_order_batched", trace: order.trace, parent: processing[order.id]!,
                attributes: ids(order.id, order.user, batch: "b-1", status: "batched"),
                links: [SpanLinkData(traceID: batchTrace, spanID: batching)])
        }
        let sendBatch = span("order-manager", "send batches", trace: batchTrace, parent: batching, kind: .producer, attributes: [Attribute("batch.id", .string("b-1"))])
        let processBatch = span(
            "algo", "process batches", trace: batchTrace, parent: sendBatch, kind: .consumer, attributes: [Attribute("batch.id", .string("b-1"))],
            links: [SpanLinkData(traceID: batchTrace, spanID: sendBatch)])
        let algorithm = span("algo", "algorithm_processing", trace: batchTrace, parent: processBatch, attributes: [Attribute("batch.id", .string("b-1"))])
        // Fan-out: two exchange orders, each filled once.
        var fills: [(fill: String, span: UInt64)] = []
        for (exchangeOrder, fill) in [("x-1", "f-1"), ("x-2", "f-2")] {
            let attributes = [Attribute("batch.id", .string("b-1")), Attribute("exchange.order_id", .string(exchangeOrder))]
            let sendOrder = span("algo", "exchange_order_send", trace: batchTrace, parent: algorithm, attributes: attributes)
            exchangeOrderSends.append(sendOrder)
            let produce = span("algo", "send exchange-orders", trace: batchTrace, parent: sendOrder, kind: .producer, attributes: attributes)
            let consume = span(
                "exchange-gateway", "process exchange-orders", trace: batchTrace, parent: produce, kind: .consumer, attributes: attributes,
                links: [SpanLinkData(traceID: batchTrace, spanID: produce)])
            let wsSend = span("exchange-gateway", "external_exchange_ws_send", trace: batchTrace, parent: consume, kind: .client, attributes: attributes)
            let wsReceive = span("exchange-gateway", "external_exchange_ws_recv", trace: batchTrace, parent: wsSend, kind: .consumer, attributes: attributes)
            let received = span(
                "exchange-gateway", "exchange_fill_received", trace: batchTrace, parent: wsReceive, attributes: attributes + [Attribute("fill.id", .string(fill))])
            fills.append((fill, received))
        }
        // Many-to-many: each fill allocated to both orders.
        var lastMatching: UInt64 = 0
        for (index, fill) in fills.enumerated() {
            let attributes = [Attribute("batch.id", .string("b-1")), Attribute("fill.id", .string(fill.fill))]
            let sendFill = span("exchange-gateway", "send fills", trace: batchTrace, parent: fill.span, kind: .producer, attributes: attributes)
            let processFill = span(
                "allocator", "process fills", trace: batchTrace, parent: sendFill, kind: .consumer, attributes: attributes,
                links: [SpanLinkData(traceID: batchTrace, spanID: sendFill)])
            let matching = span(
                "allocator", "fill_matching", trace: batchTrace, parent: processFill, attributes: attributes,
                links: [SpanLinkData(traceID: batchTrace, spanID: fill.span)]
                    + orders.map { order in
                        SpanLinkData(
                            traceID: order.trace, spanID: processing[order.id]!,
                            attributes: [Attribute("client.order_id", .string(order.id)), Attribute("allocated.quantity", .int(order.quantity / 2))])
                    })
            fillMatchings.append(matching)
            lastMatching = matching
            for order in orders {
                let status = index == fills.count - 1 ? "filled" : "partially_filled"
                let update = span(
                    "allocator", "client_order_update", trace: order.trace, parent: processing[order.id]!,
                    attributes: ids(order.id, order.user, batch: "b-1", fill: fill.fill, status: status),
                    links: [SpanLinkData(traceID: batchTrace, spanID: matching)])
                // o-2's second update: its send span never arrives.
                let lost = order.id == "o-2" && index == 1
                let sendUpdate = span(
                    "allocator", "send order-updates", trace: order.trace, parent: update, kind: .producer, attributes: ids(order.id, order.user),
                    keep: !lost)
                if lost { missingSendUpdate = sendUpdate }
                let processUpdate = span(
                    "gateway", "process order-updates", trace: order.trace, parent: sendUpdate, kind: .consumer, attributes: ids(order.id, order.user),
                    links: [SpanLinkData(traceID: order.trace, spanID: sendUpdate)])
                _ = span("gateway", "client_order_update_delivered", trace: order.trace, parent: processUpdate, kind: .server, attributes: ids(order.id, order.user, status: status))
            }
        }
        _ = span(
            "allocator", "order_completed", trace: orderTrace1, parent: processing["o-1"]!, attributes: ids("o-1", "alice", batch: "b-1", status: "filled"),
            links: [SpanLinkData(traceID: batchTrace, spanID: lastMatching)])
        // o-2's order_completed never arrives.
        _ = span(
            "allocator", "order_completed", trace: orderTrace2, parent: processing["o-2"]!, attributes: ids("o-2", "bob", batch: "b-1", status: "filled"),
            links: [SpanLinkData(traceID: batchTrace, spanID: lastMatching)], keep: false)
    }
}
