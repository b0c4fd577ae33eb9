import OTLPWire

/// Spans shaped like the pipeline's, for the explorer benchmark: per batch, 10 client orders
/// (12 spans each in their order traces) and a batch trace of 31 spans (3 exchange orders,
/// each filled once, each fill allocated to every order), with the links of `trace-model.md`;
/// about 15 spans per order. Ids are numbered: order `o-<n>`, batch `b-<n>`, exchange order
/// `x-<n>-<k>`, fill `f-<n>-<k>`.
struct ExplorerWorkload {
    static let ordersPerBatch = 10
    static let exchangeOrdersPerBatch = 3
    static let spansPerBatch = ordersPerBatch * 12 + 4 + exchangeOrdersPerBatch * 9
    static let services = ["gateway", "order-manager", "algo", "exchange-gateway", "allocator"]
    static let origins = services.map { ExportOrigin(resourceAttributes: [Attribute("service.name", .string("ordertrace-" + $0))]) }

    /// One request: `batches` batches from `first`, grouped by service, as protobuf.
    static func request(firstBatch first: Int, batches: Int) -> [UInt8] {
        var byService = [[SpanData]](repeating: [], count: services.count)
        for batch in first..<(first + batches) {
            var builder = Builder(batch: batch)
            builder.build(into: &byService)
        }
        var body: [UInt8] = []
        for (index, spans) in byService.enumerated() where !spans.isEmpty {
            body += OTLPTraceEncoder.protobuf(spans, origin: origins[index])
        }
        return body
    }

    private struct Builder {
        let batch: Int
        var nextSpan: UInt64
        var clock: UInt64

        init(batch: Int) {
            self.batch = batch
            nextSpan = UInt64(batch) << 16
            clock = 1_764_000_000_000_000_000 + UInt64(batch) * 1_000_000
        }

        static func trace(_ kind: UInt64, _ batch: Int, _ index: Int) -> TraceID {
            // Spread like random ids: a multiplicative hash of the numbers.
            let seed = (UInt64(batch) << 8 | UInt64(index)) &* 0x9E37_79B9_7F4A_7C15
            return TraceID(high: seed ^ (kind << 60), low: seed &* 0xBF58_476D_1CE4_E5B9 | 1)
        }

        mutating func span(
            _ service: Int, _ name: String, _ trace: TraceID, parent: UInt64 = 0, kind: SpanDataKind = .internal, attributes: [Attribute],
            links: [SpanLinkData] = [], into spans: inout [[SpanData]]
        ) -> UInt64 {
            nextSpan += 1
            clock += 40_000
            spans[service].append(
                SpanData(
                    traceID: trace, spanID: nextSpan, parentSpanID: parent, name: name, kind: kind, startTimeUnixNano: clock,
                    endTimeUnixNano: clock + 30_000, attributes: attributes, links: links))
            return nextSpan
        }

        func messaging(_ operation: String, _ topic: String, _ key: String) -> [Attribute] {
            [
                Attribute("messaging.system", .string("kafka")), Attribute("messaging.operation.name", .string(operation)),
                Attribute("messaging.destination.name", .string(topic)), Attribute("messaging.destination.partition.id", .string("0")),
                Attribute("messaging.kafka.offset", .int(Int64(batch))), Attribute("messaging.kafka.message.key", .string(key)),
            ]
        }

        mutating func build(into spans: inout [[SpanData]]) {
            let (gateway, manager, algo, exchange, allocator) = (0, 1, 2, 3, 4)
            let batchID = "b-\(batch)"
            let batchTrace = Self.trace(0xB, batch, 0)
            var members: [(order: String, user: String, trace: TraceID, processing: UInt64)] = []
            for index in 0..<ExplorerWorkload.ordersPerBatch {
                let order = "o-\(batch * ExplorerWorkload.ordersPerBatch + index)"
                let user = "user-\(index % 7)"
                let trace = Self.trace(0xA, batch, index)
                let ids = [Attribute("client.order_id", .string(order)), Attribute("user.id", .string(user))]
                let received = span(
                    gateway, "client_order_received", trace, kind: .server,
                    attributes: ids + [Attribute("order.symbol", .string("ACME")), Attribute("order.side", .string("buy")), Attribute("order.quantity", .int(100))],
                    into: &spans)
                let send = span(gateway, "send client-orders", trace, parent: received, kind: .producer, attributes: ids + messaging("send", "client-orders", user), into: &spans)
                let process = span(
                    manager, "process client-orders", trace, parent: send, kind: .consumer, attributes: ids + messaging("process", "client-orders", user),
                    links: [SpanLinkData(traceID: trace, spanID: send)], into: &spans)
                let processing = span(manager, "order_manager_processing", trace, parent: process, attributes: ids, into: &spans)
                members.append((order, user, trace, processing))
            }
            let batching = span(
                manager, "order_batching", batchTrace, attributes: [Attribute("batch.id", .string(batchID))],
                links: members.map {
                    SpanLinkData(
                        traceID: $0.trace, spanID: $0.processing,
                        attributes: [Attribute("client.order_id", .string($0.order)), Attribute("user.id", .string($0.user)), Attribute("order.quantity", .int(100))])
                }, into: &spans)
            for member in members {
                _ = span(
                    manager, "client_order_batched", member.trace, parent: member.processing,
                    attributes: [Attribute("client.order_id", .string(member.order)), Attribute("user.id", .string(member.user)), Attribute("batch.id", .string(batchID))],
                    links: [SpanLinkData(traceID: batchTrace, spanID: batching)], into: &spans)
            }
            let sendBatch = span(manager, "send batches", batchTrace, parent: batching, kind: .producer, attributes: messaging("send", "batches", batchID), into: &spans)
            let processBatch = span(
                algo, "process batches", batchTrace, parent: sendBatch, kind: .consumer, attributes: messaging("process", "batches", batchID),
                links: [SpanLinkData(traceID: batchTrace, spanID: sendBatch)], into: &spans)
            let algorithm = span(algo, "algorithm_processing", batchTrace, parent: processBatch, attributes: [Attribute("batch.id", .string(batchID))], into: &spans)
            var matchings: [UInt64] = []
            for index in 0..<ExplorerWorkload.exchangeOrdersPerBatch {
                let ids = [
                    Attribute("batch.id", .string(batchID)), Attribute("exchange.order_id", .string("x-\(batch)-\(index)")),
                    Attribute("fill.id", .string("f-\(batch)-\(index)")),
                ]
                let sendOrder = span(algo, "exchange_order_send", batchTrace, parent: algorithm, attributes: ids, into: &spans)
                let produce = span(algo, "send exchange-orders", batchTrace, parent: sendOrder, kind: .producer, attributes: ids + messaging("send", "exchange-orders", batchID), into: &spans)
                let consume = span(
                    exchange, "process exchange-orders", batchTrace, parent: produce, kind: .consumer, attributes: ids + messaging("process", "exchange-orders", batchID),
                    links: [SpanLinkData(traceID: batchTrace, spanID: produce)], into: &spans)
                let wsSend = span(exchange, "external_exchange_ws_send", batchTrace, parent: consume, kind: .client, attributes: ids, into: &spans)
                let wsReceive = span(exchange, "external_exchange_ws_recv", batchTrace, parent: wsSend, kind: .consumer, attributes: ids, into: &spans)
                let fill = span(exchange, "exchange_fill_received", batchTrace, parent: wsReceive, attributes: ids, into: &spans)
                let sendFill = span(exchange, "send fills", batchTrace, parent: fill, kind: .producer, attributes: ids + messaging("send", "fills", batchID), into: &spans)
                let processFill = span(
                    allocator, "process fills", batchTrace, parent: sendFill, kind: .consumer, attributes: ids + messaging("process", "fills", batchID),
                    links: [SpanLinkData(traceID: batchTrace, spanID: sendFill)], into: &spans)
                matchings.append(
                    span(
                        allocator, "fill_matching", batchTrace, parent: processFill, attributes: ids,
                        links: [SpanLinkData(traceID: batchTrace, spanID: fill)]
                            + members.map {
                                SpanLinkData(
                                    traceID: $0.trace, spanID: $0.processing,
                                    attributes: [Attribute("client.order_id", .string($0.order)), Attribute("allocated.quantity", .int(10))])
                            }, into: &spans))
            }
            for member in members {
                let ids = [Attribute("client.order_id", .string(member.order)), Attribute("user.id", .string(member.user)), Attribute("batch.id", .string(batchID))]
                for (index, matching) in matchings.prefix(2).enumerated() {
                    let status = index == 1 ? "filled" : "partially_filled"
                    let update = span(
                        allocator, "client_order_update", member.trace, parent: member.processing, attributes: ids + [Attribute("order.status", .string(status))],
                        links: [SpanLinkData(traceID: batchTrace, spanID: matching)], into: &spans)
                    let send = span(allocator, "send order-updates", member.trace, parent: update, kind: .producer, attributes: ids + messaging("send", "order-updates", member.user), into: &spans)
                    if index == 1 {
                        let process = span(
                            gateway, "process order-updates", member.trace, parent: send, kind: .consumer, attributes: ids + messaging("process", "order-updates", member.user),
                            links: [SpanLinkData(traceID: member.trace, spanID: send)], into: &spans)
                        _ = span(gateway, "client_order_update_delivered", member.trace, parent: process, kind: .server, attributes: ids, into: &spans)
                    }
                }
                _ = span(
                    allocator, "order_completed", member.trace, parent: member.processing, attributes: ids + [Attribute("order.status", .string("filled"))],
                    links: [SpanLinkData(traceID: batchTrace, spanID: matchings[1])], into: &spans)
            }
        }
    }
}
