import Baggage
import ExchangeGateway
import InMemoryTracing
import Kafka
import KafkaTestSupport
import KafkaTracing
import OrderModel
import Pipeline
import Synchronization
import Testing
import Tracing

@Suite("Exchange gateway against the embedded broker and the simulated exchange", .timeLimit(.minutes(2)))
struct ExchangeGatewayIntegrationTests {
    @Test("exchange orders in, fills out: every order ends (filled, canceled or rejected) with consistent quantities; bad records are dead-lettered")
    func ordersToFills() async throws {
        try await withSimServer { exchange in try await withGateway(exchangePort: exchange.port, configure: { $0.orderTimeout = .seconds(2) }) { gateway, topics, input, output, _ in
            let orders = [
                exchangeOrder("it-1", symbol: "AAPL", quantity: 500),  // market, within the visible depth: filled
                exchangeOrder("it-2", symbol: "MSFT", side: .sell, quantity: 20_000),  // market, more than the depth: rest canceled
                exchangeOrder("it-3", symbol: "NVDA", quantity: 100, limit: Price(ticks: 1_100_000)),  // rests below the market: timed out
                exchangeOrder("it-4", symbol: "ZZZZ", quantity: 70),  // unknown symbol: rejected
            ]
            var records = orders.map { record($0, topic: topics.exchangeOrders) }
            records.append(record(orders[0], topic: topics.exchangeOrders))  // redelivered: must not be sent again
            var headers = KafkaHeaders()
            headers.set("x-test", "kept")
            records.append(KafkaProducerRecord(topic: topics.exchangeOrders, key: "AAPL", value: Array("not json".utf8), headers: headers))
            records.append(
                KafkaProducerRecord(
                    topic: topics.exchangeOrders, key: "AAPL",
                    value: Array(#"{"exchangeOrderId":"it-5","batchId":"","symbol":"AAPL","side":"buy","quantity":-5,"orderType":"market","slice":0,"slices":1}"#.utf8)))
            for result in try await input.send(records) { _ = try result.get() }

            let fills = try await terminalFills(output, topic: topics.fills, ids: orders.map(\.exchangeOrderId))
            for order in orders {
                checkFills(fills[order.exchangeOrderId] ?? [], quantity: order.quantity)
            }
            let aapl = try #require(fills["it-1"]?.last)
            #expect(aapl.status == .filled)
            let msft = try #require(fills["it-2"]?.last)
            #expect(msft.status == .canceled)
            #expect(msft.cumulativeQuantity > 0)
            let nvda = try #require(fills["it-3"]?.last)
            #expect(nvda.status == .canceled)
            #expect(nvda.fillId == "it-3:canceled")
            #expect(nvda.leavesQuantity == 100)
            let unknown = try #require(fills["it-4"]?.last)
            #expect(unknown.status == .rejected)
            #expect(unknown.fillId == "it-4:rejected")
            #expect(unknown.leavesQuantity == 70)
            #expect(unknown.reason?.hasPrefix("unknown_symbol") == true)
            #expect(fills["it-5"] == nil)

            let deadLetters = await eventually { output.messages(topic: topics.deadLetters).count >= 2 }
            #expect(deadLetters)
            let letters = output.messages(topic: topics.deadLetters)
            let notJSON = try #require(letters.first { $0.value == Array("not json".utf8) })
            #expect(notJSON.headers.string("x-test") == "kept")
            #expect(notJSON.headers.string(DeadLetter.errorTypeHeader) == "invalid_json")
            #expect(notJSON.headers.string(DeadLetter.sourceTopicHeader) == topics.exchangeOrders)
            #expect(notJSON.headers.string(DeadLetter.sourceOffsetHeader) != nil)
            #expect(notJSON.keyString == "AAPL")
            let invalid = try #require(letters.first { $0.value != Array("not json".utf8) })
            #expect(invalid.headers.string(DeadLetter.errorTypeHeader) == "validation")
            let reason = invalid.headers.string(DeadLetter.errorMessageHeader) ?? ""
            #expect(reason.contains("batchId") && reason.contains("quantity"), "every problem is listed: \(reason)")
            #expect(await eventually { gateway.openOrderCount == 0 })
        } }
    }

    @Test("the exchange goes away and comes back: the open order is sent again, unchanged, and still ends under its own id")
    func reconnect() async throws {
        let tracer = InMemoryTracer()
        let first = try await RunningSimServer.start()
        let port = first.port
        try await withTracer(tracer) {
            try await withGateway(exchangePort: port, configure: { $0.orderTimeout = .seconds(6) }) { gateway, topics, input, output, _ in
                // Connected first: an order that comes before the connection waits in a queue,
                // and its first send then happens on connecting (the case this test is not about).
                let connected = await eventually { gateway.sessionsOpened >= 1 }
                #expect(connected)
                // Rests far below the market, so it is open when the exchange goes away.
                let resting = exchangeOrder("rc-1", symbol: "AAPL", quantity: 100, limit: Price(ticks: 1_750_000))
                try await input.send(record(resting, topic: topics.exchangeOrders))
                let acked = await eventually {
                    tracer.finishedSpans.contains { span in
                        span.operationName == "external_exchange_ws_recv" && span.attributes["exchange.message_type"]?.toSpanAttribute() == "ack"
                    }
                }
                #expect(acked)
                await first.stop()
                let second = try await RunningSimServer.start(port: port)
                #expect(await eventually { gateway.sessionsOpened >= 2 })

                let market = exchangeOrder("rc-2", symbol: "AAPL", quantity: 200)
                try await input.send(record(market, topic: topics.exchangeOrders))
                let fills = try await terminalFills(output, topic: topics.fills, ids: ["rc-1", "rc-2"])
                checkFills(fills["rc-1"] ?? [], quantity: 100)
                checkFills(fills["rc-2"] ?? [], quantity: 200)
                let canceled = try #require(fills["rc-1"]?.last)
                #expect(canceled.status == .canceled)
                #expect(canceled.fillId == "rc-1:canceled")
                #expect(canceled.leavesQuantity == 100)

                let spans = tracer.finishedSpans
                let sends = spans.filter { $0.operationName == "external_exchange_ws_send" && $0.attributes["exchange.wire_order_id"]?.toSpanAttribute() == "rc-1" }
                let original = try #require(sends.first { $0.attributes["exchange.attempt"]?.toSpanAttribute() == .int64(1) })
                let resend = try #require(sends.first { $0.attributes["exchange.attempt"]?.toSpanAttribute() == .int64(2) })
                #expect(resend.parentSpanID == original.spanID, "a resend is a child of the original send")
                #expect(resend.attributes["exchange.message_type"]?.toSpanAttribute() == "new_order")
                let receives = spans.filter {
                    $0.operationName == "external_exchange_ws_recv" && $0.attributes["exchange.wire_order_id"]?.toSpanAttribute() == "rc-1"
                }
                #expect(!receives.isEmpty)
                #expect(receives.allSatisfy { $0.parentSpanID == original.spanID }, "replies on the new session still parent on the original send")
                await second.stop()
            }
        }
    }

    @Test("trace structure: process → ws_send; ws_recv's parent is ws_send; exchange_fill_received → send fills; baggage carries the ids")
    func traceStructure() async throws {
        let tracer = InMemoryTracer()
        try await withSimServer { exchange in try await withTracer(tracer) {
            try await withGateway(exchangePort: exchange.port) { _, topics, input, output, _ in
                let order = exchangeOrder("tr-1", symbol: "AAPL", quantity: 300, batch: "b-trace")
                _ = try await withBaggage([BusinessAttribute.batchID: "b-trace", "vendor.key": "kept"]) {
                    try await withSpan("exchange_order_send") { _ in
                        try await TracedKafkaProducer(input).send(record(order, topic: topics.exchangeOrders))
                    }
                }
                let fills = try await terminalFills(output, topic: topics.fills, ids: ["tr-1"])
                let fillCount = fills["tr-1"]?.count ?? 0
                #expect(fillCount > 0)
                let allEnded = await eventually {
                    tracer.finishedSpans.filter { $0.operationName == "send \(topics.fills)" }.count >= fillCount
                }
                #expect(allEnded)

                let spans = tracer.finishedSpans
                let process = try #require(spans.first { $0.operationName == "process \(topics.exchangeOrders)" })
                let send = try #require(spans.first { $0.operationName == "external_exchange_ws_send" })
                #expect(send.kind == .client)
                #expect(send.parentSpanID == process.spanID)
                #expect(send.attributes["exchange.order_id"]?.toSpanAttribute() == "tr-1")
                #expect(send.attributes["batch.id"]?.toSpanAttribute() == "b-trace")
                #expect(send.attributes["order.symbol"]?.toSpanAttribute() == "AAPL")
                #expect(send.attributes["order.side"]?.toSpanAttribute() == "buy")
                #expect(send.attributes["order.quantity"]?.toSpanAttribute() == .int64(300))

                let receives = spans.filter { $0.operationName == "external_exchange_ws_recv" }
                #expect(receives.count == fillCount + 1, "one per reply: the ack and each fill")
                for receive in receives {
                    #expect(receive.kind == .consumer)
                    #expect(receive.parentSpanID == send.spanID)
                    #expect(receive.traceID == send.traceID)
                }
                #expect(receives.contains { $0.attributes["exchange.message_type"]?.toSpanAttribute() == "ack" })
                let receiveIDs = Set(receives.map(\.spanID))
                let fillSpans = spans.filter { $0.operationName == "exchange_fill_received" }
                #expect(fillSpans.count == fillCount)
                #expect(fillSpans.allSatisfy { receiveIDs.contains($0.parentSpanID ?? "") && $0.kind == .internal })
                let fillSpanIDs = Set(fillSpans.map(\.spanID))
                let sends = spans.filter { $0.operationName == "send \(topics.fills)" }
                #expect(sends.count == fillCount)
                for span in sends {
                    #expect(span.kind == .producer)
                    #expect(fillSpanIDs.contains(span.parentSpanID ?? ""))
                    #expect(span.traceID == send.traceID)
                    #expect(span.attributes["fill.id"] != nil)
                    #expect(span.attributes["batch.id"]?.toSpanAttribute() == "b-trace")
                    #expect(span.attributes["exchange.order_id"]?.toSpanAttribute() == "tr-1")
                }
                for message in output.messages(topic: topics.fills) {
                    let baggage = Baggage(headerValues: [message.headers.string("baggage") ?? ""])
                    let fill = try Fill.decode(json: message.value).get()
                    #expect(baggage[BusinessAttribute.fillID] == fill.fillId)
                    #expect(baggage[BusinessAttribute.exchangeOrderID] == "tr-1")
                    #expect(baggage[BusinessAttribute.batchID] == "b-trace")
                    #expect(baggage["vendor.key"] == "kept", "unknown baggage is passed on")
                }
            }
        } }
    }

    @Test("a rebalance takes a partition away: its open orders are dropped, their records stay uncommitted, and the gateway opens them again when the partition comes back")
    func revokeDropsTheOpenOrdersOfThePartition() async throws {
        try await withSimServer { exchange in
            try await withGateway(exchangePort: exchange.port, configure: { $0.orderTimeout = .seconds(300) }) { gateway, topics, input, _, rig in
                #expect(await eventually(timeout: .seconds(60)) { gateway.sessionsOpened >= 1 })
                // Both rest far below the market: open until the test ends.
                let orders = (0..<2).map { exchangeOrder("rv-\($0)", symbol: "AAPL", quantity: 100, limit: Price(ticks: 1_750_000)) }
                for (index, order) in orders.enumerated() {
                    _ = try await input.send(
                        KafkaProducerRecord(topic: topics.exchangeOrders, partition: Int32(index), key: order.symbol, value: order.encodeJSON()))
                }
                #expect(await eventually(timeout: .seconds(60)) { gateway.openOrderCount == 2 })

                // A second member joins the group and takes one of the two partitions; it stores nothing.
                let member = try KafkaConsumer(configuration: consumerConfiguration(rig.broker, group: rig.group, topics: [topics.exchangeOrders]), logger: testLogger)
                let read = Mutex<[KafkaMessage]>([])
                let running = Task { try await member.run() }
                let reading = Task {
                    for await batch in member.batches(storeOffsetsAutomatically: false) { read.withLock { $0 += batch } }
                }
                // The member may read its record more than once (another rebalance before it
                // stores anything): what counts is that it read exactly one record, again and again.
                let moved = await eventually(timeout: .seconds(90)) {
                    member.assignment.count == 1 && gateway.openOrderCount == 1 && read.withLock { Set($0.map(\.offset)).count == 1 && Set($0.map(\.partition)).count == 1 }
                }
                let readCount = read.withLock { $0.count }
                #expect(moved, "open orders: \(gateway.openOrderCount), the member holds \(member.assignment) and read \(readCount) records")
                let taken = try #require(read.withLock { $0.first })
                #expect(taken.offset == 0, "the dropped order's record was not committed: its next owner reads it from the start")
                let kept = taken.partition == 0 ? "rv-1" : "rv-0"
                let opened = await eventually(timeout: .seconds(60)) { gateway.openOrderIDs == [kept] }
                #expect(opened, "the gateway keeps only the order of the partition it still holds: \(gateway.openOrderIDs)")

                // The member leaves: the partition comes back, and its order is opened again.
                running.cancel()
                _ = try? await running.value
                await reading.value
                let back = await eventually(timeout: .seconds(90)) { gateway.openOrderIDs == ["rv-0", "rv-1"] }
                #expect(back, "open orders after the partition came back: \(gateway.openOrderIDs)")
                let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [rig.broker.bootstrapServers]), logger: testLogger)
                let committed = try await admin.committedOffsets(
                    group: rig.group, partitions: (0..<2).map { KafkaTopicPartition(topic: topics.exchangeOrders, partition: $0) })
                #expect(committed.values.allSatisfy { $0 <= 0 }, "nothing of an open order is committed: \(committed)")
            }
        }
    }
}
