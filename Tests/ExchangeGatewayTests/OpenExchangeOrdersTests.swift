import ExchangeGateway
import ExchangeProtocol
import OrderModel
import ServiceContextModule
import Settings
import Testing

private let t0 = ContinuousClock.now

private func order(_ id: String, quantity: Int64 = 300, limit: Price? = Price(ticks: 1_892_500), symbol: String = "AAPL") -> ExchangeOrder {
    ExchangeOrder(
        exchangeOrderId: id, batchId: "b-1", symbol: symbol, side: .buy, quantity: quantity,
        orderType: limit == nil ? .market : .limit, limitPrice: limit, slice: 0, slices: 1)
}

private func ack(_ wireId: String, quantity: Int64 = 300) -> ExchangeMessage {
    .ack(ExchangeAck(orderId: wireId, symbol: "AAPL", side: .buy, quantity: quantity, orderType: .market))
}

private func execution(_ wireId: String, _ executionId: String, quantity: Int64, ticks: Int64 = 1_892_400, cumulative: Int64, leaves: Int64) -> ExchangeMessage {
    .execution(
        ExchangeExecution(
            executionId: executionId, orderId: wireId, symbol: "AAPL", side: .buy, quantity: quantity, price: ExchangePrice(ticks: ticks),
            cumulativeQuantity: cumulative, leavesQuantity: leaves, status: leaves == 0 ? .filled : .partiallyFilled))
}

private func canceled(_ wireId: String, quantity: Int64, cumulative: Int64) -> ExchangeMessage {
    .canceled(
        ExchangeCanceled(
            orderId: wireId, symbol: "AAPL", side: .buy, quantity: quantity, cumulativeQuantity: cumulative,
            canceledQuantity: quantity - cumulative, reason: .requested))
}

private func status(
    _ id: String, quantity: Int64 = 300, cumulative: Int64, state: ExchangeOrderState, executions: [(String, Int64)], reason: String? = nil
) -> ExchangeMessage {
    .orderStatus(
        ExchangeOrderStatus(
            orderId: id, symbol: "AAPL", side: .buy, quantity: quantity, cumulativeQuantity: cumulative,
            leavesQuantity: state.isDone ? 0 : quantity - cumulative, status: state, reason: reason,
            executions: executions.map { ExchangeOrderStatus.Execution(executionId: $0.0, quantity: $0.1, price: ExchangePrice(ticks: 1_892_400)) }))
}

/// Open orders, connected, holding `id`, acknowledged.
private func ordersWithAckedOrder(_ id: String = "x-1", quantity: Int64 = 300, maxOpenOrders: Int = 10) -> OpenExchangeOrders {
    var orders = OpenExchangeOrders(maxOpenOrders: maxOpenOrders)
    _ = orders.connected()
    _ = orders.open(order(id, quantity: quantity), context: .topLevel, now: t0)
    _ = orders.receive(ack(id, quantity: quantity))
    return orders
}

@Suite("OpenExchangeOrders: the gateway's pure core", .timeLimit(.minutes(2)))
struct OpenExchangeOrdersTests {
    @Test("a new order is sent at once when connected, with its id, quantity and exact limit price")
    func sendWhenConnected() {
        var orders = OpenExchangeOrders()
        _ = orders.connected()
        let decision = orders.open(order("x-1"), context: .topLevel, now: t0)
        #expect(
            decision
                == .send(ExchangeNewOrder(orderId: "x-1", symbol: "AAPL", side: .buy, quantity: 300, orderType: .limit(ExchangePrice(ticks: 1_892_500)))))
        #expect(orders.openCount == 1)
        #expect(orders.openOrder("x-1")?.wireOrderId == "x-1")
    }

    @Test("while disconnected an order waits, and goes out under its own id when the exchange connects")
    func queuedUntilConnected() {
        var orders = OpenExchangeOrders()
        let r1 = orders.open(order("x-1", limit: nil), context: .topLevel, now: t0)
        #expect(r1 == .queued)
        let sends = orders.connected()
        #expect(sends.map(\.newOrder.orderId) == ["x-1"])
        #expect(sends.first?.attempt == 1)
        #expect(sends.first?.newOrder.orderType == .market)
    }

    @Test("executions map to partially_filled then filled with cumulative and leaves of the exchange order; filled evicts")
    func executions() throws {
        var orders = ordersWithAckedOrder()
        let r2 = orders.receive(execution("x-1", "E1", quantity: 100, cumulative: 100, leaves: 200))
        let first = try #require(r2)
        let fill1 = try #require(first.fill)
        #expect(fill1.fillId == "x-1:E1")
        #expect(fill1.status == .partiallyFilled)
        #expect(fill1.quantity == 100)
        #expect(fill1.price == Price(ticks: 1_892_400))
        #expect(fill1.cumulativeQuantity == 100)
        #expect(fill1.leavesQuantity == 200)
        #expect(fill1.batchId == "b-1")
        #expect(fill1.validationErrors().isEmpty)
        #expect(!first.isDone)

        let r3 = orders.receive(execution("x-1", "E2", quantity: 200, ticks: 1_892_500, cumulative: 300, leaves: 0))
        let second = try #require(r3)
        let fill2 = try #require(second.fill)
        #expect(fill2.status == .filled)
        #expect(fill2.cumulativeQuantity == 300)
        #expect(fill2.leavesQuantity == 0)
        #expect(second.isDone)
        #expect(orders.openCount == 0)
        #expect(orders.openOrder("x-1") == nil)
        let r4 = orders.receive(execution("x-1", "E3", quantity: 1, cumulative: 301, leaves: 0))
        #expect(r4 == nil, "late replies about a done order are ignored")
    }

    @Test("an ack gives no fill")
    func ackGivesNoFill() throws {
        var orders = OpenExchangeOrders()
        _ = orders.connected()
        _ = orders.open(order("x-1"), context: .topLevel, now: t0)
        let r5 = orders.receive(ack("x-1"))
        let receipt = try #require(r5)
        #expect(receipt.fill == nil)
        #expect(receipt.messageType == "ack")
        #expect(orders.openOrder("x-1")?.isAcked == true)
    }

    @Test("a reject is a rejected fill: quantity 0, price 0, leaves the whole open rest, with the reason; the order is done")
    func reject() throws {
        var orders = OpenExchangeOrders()
        _ = orders.connected()
        _ = orders.open(order("x-1"), context: .topLevel, now: t0)
        let r6 = orders.receive(.reject(ExchangeReject(orderId: "x-1", code: .priceBand, reason: "outside the band")))
        let receipt = try #require(r6)
        let fill = try #require(receipt.fill)
        #expect(fill.fillId == "x-1:rejected")
        #expect(fill.status == .rejected)
        #expect(fill.quantity == 0)
        #expect(fill.price == .zero)
        #expect(fill.cumulativeQuantity == 0)
        #expect(fill.leavesQuantity == 300)
        #expect(fill.reason == "price_band: outside the band")
        #expect(fill.validationErrors().isEmpty)
        #expect(receipt.isDone)
        #expect(orders.openCount == 0)
    }

    @Test("an error naming an unacknowledged order rejects it; about an acknowledged one it changes nothing")
    func errors() throws {
        var orders = OpenExchangeOrders()
        _ = orders.connected()
        _ = orders.open(order("x-1"), context: .topLevel, now: t0)
        _ = orders.open(order("x-2"), context: .topLevel, now: t0)
        _ = orders.receive(ack("x-2"))
        let error1 = ExchangeProtocolError(code: .invalidValue, message: "bad", orderId: "x-1")
        let r7 = orders.receive(.error(error1))
        let rejected = try #require(r7)
        #expect(rejected.fill?.status == .rejected)
        #expect(rejected.fill?.leavesQuantity == 300)
        let r8 = orders.receive(.error(ExchangeProtocolError(code: .invalidValue, message: "bad", orderId: "x-2")))
        let ignored = try #require(r8)
        #expect(ignored.fill == nil)
        #expect(ignored.note != nil)
        #expect(orders.openCount == 1)
    }

    @Test("canceled after a partial fill: canceled fill with the executed cumulative and the canceled rest as leaves")
    func canceledAfterPartial() throws {
        var orders = ordersWithAckedOrder()
        _ = orders.receive(execution("x-1", "E1", quantity: 120, cumulative: 120, leaves: 180))
        let r9 = orders.receive(canceled("x-1", quantity: 300, cumulative: 120))
        let receipt = try #require(r9)
        let fill = try #require(receipt.fill)
        #expect(fill.fillId == "x-1:canceled")
        #expect(fill.status == .canceled)
        #expect(fill.quantity == 0)
        #expect(fill.cumulativeQuantity == 120)
        #expect(fill.leavesQuantity == 180)
        #expect(fill.reason == "requested")
        #expect(fill.validationErrors().isEmpty)
        #expect(receipt.isDone)
        #expect(orders.openCount == 0)
    }

    @Test("a redelivered exchange order is not sent again, while open and after it is done; the done memory is bounded")
    func duplicates() {
        var orders = OpenExchangeOrders(doneOrderMemory: 2)
        _ = orders.connected()
        let r10 = orders.open(order("x-1"), context: .topLevel, now: t0)
        #expect(r10 != .duplicate)
        let r11 = orders.open(order("x-1"), context: .topLevel, now: t0)
        #expect(r11 == .duplicate)
        _ = orders.receive(.reject(ExchangeReject(orderId: "x-1", code: .priceBand, reason: "r")))
        #expect(orders.isKnown("x-1"))
        let r12 = orders.open(order("x-1"), context: .topLevel, now: t0)
        #expect(r12 == .duplicate)
        for id in ["x-2", "x-3"] {
            _ = orders.open(order(id), context: .topLevel, now: t0)
            _ = orders.receive(.reject(ExchangeReject(orderId: id, code: .priceBand, reason: "r")))
        }
        #expect(!orders.isKnown("x-1"), "the oldest done id is forgotten past the memory's size")
        #expect(orders.isKnown("x-3"))
    }

    @Test("after a disconnect every open order is sent again with its original id and original quantity; executions count once")
    func resendAfterReconnect() throws {
        var orders = ordersWithAckedOrder()
        _ = orders.open(order("x-2", quantity: 50, limit: nil), context: .topLevel, now: t0)  // sent, never acknowledged
        _ = orders.receive(execution("x-1", "E1", quantity: 100, cumulative: 100, leaves: 200))
        orders.disconnected()

        let resends = orders.connected()
        #expect(resends.map(\.newOrder.orderId) == ["x-1", "x-2"])
        #expect(resends.map(\.newOrder.quantity) == [300, 50], "never a new order for the remaining quantity")
        #expect(resends.map(\.attempt) == [2, 2])
        // The same execution again (say, a replay before a status) changes nothing.
        let r14 = orders.receive(execution("x-1", "E1", quantity: 100, cumulative: 100, leaves: 200))
        #expect(try #require(r14).fills.isEmpty)

        // The status lists E1 (seen) and E2, E3 (missed while disconnected): two fills, in order.
        let r15 = orders.receive(
            status("x-1", cumulative: 160, state: .partiallyFilled, executions: [("E1", 100), ("E2", 10), ("E3", 50)]))
        let receipt = try #require(r15)
        #expect(receipt.fills.map(\.fillId) == ["x-1:E2", "x-1:E3"])
        #expect(receipt.fills.map(\.cumulativeQuantity) == [110, 160])
        #expect(receipt.fills.map(\.leavesQuantity) == [190, 140])
        #expect(receipt.fills.allSatisfy { $0.status == .partiallyFilled })
        #expect(!receipt.isDone)
        #expect(orders.openOrder("x-1")?.isAcked == true)

        // A status that says filled, with the last execution: the filled fill ends the order.
        let r16 = orders.receive(
            status("x-1", cumulative: 300, state: .filled, executions: [("E1", 100), ("E2", 10), ("E3", 50), ("E7", 140)]))
        let last = try #require(r16)
        #expect(last.fills.map(\.fillId) == ["x-1:E7"])
        #expect(last.fill?.status == .filled)
        #expect(last.fill?.cumulativeQuantity == 300)
        #expect(last.isDone)
    }

    @Test("a restarted gateway (nothing remembered) republishes every execution of a status under the same fill ids, and its terminal state")
    func statusAfterRestart() throws {
        var orders = OpenExchangeOrders()
        _ = orders.connected()
        _ = orders.open(order("x-1"), context: .topLevel, now: t0)
        let r = orders.receive(status("x-1", cumulative: 120, state: .canceled, executions: [("E1", 100), ("E2", 20)], reason: "requested"))
        let receipt = try #require(r)
        #expect(receipt.fills.map(\.fillId) == ["x-1:E1", "x-1:E2", "x-1:canceled"])
        #expect(receipt.fills.map(\.status) == [.partiallyFilled, .partiallyFilled, .canceled])
        #expect(receipt.fills.last?.cumulativeQuantity == 120)
        #expect(receipt.isDone)
        #expect(orders.openCount == 0)

        _ = orders.open(order("x-2"), context: .topLevel, now: t0)
        let rejectedReceipt = orders.receive(status("x-2", cumulative: 0, state: .rejected, executions: [], reason: "price_band: too far"))
        let rejected = try #require(rejectedReceipt)
        #expect(rejected.fills.map(\.fillId) == ["x-2:rejected"])
        #expect(rejected.fill?.reason == "price_band: too far")
        #expect(rejected.isDone)
    }

    @Test("an acknowledged order open past orderTimeout gets a cancel; an unanswered cancel is sent again, then the order ends canceled")
    func timeoutCancels() throws {
        var orders = OpenExchangeOrders(orderTimeout: .seconds(10), answerTimeout: .seconds(5), maxUnansweredTries: 2)
        _ = orders.connected(now: t0)
        _ = orders.open(order("x-1"), context: .topLevel, now: t0)
        _ = orders.receive(ack("x-1"))
        #expect(orders.sweep(now: t0 + .seconds(9)).requests.isEmpty)
        let due = orders.sweep(now: t0 + .seconds(10))
        #expect(due.requests.map(\.message) == [.cancel(orderId: "x-1")])
        #expect(orders.sweep(now: t0 + .seconds(11)).requests.isEmpty, "one cancel at a time")
        let again = orders.sweep(now: t0 + .seconds(15))
        #expect(again.requests.map(\.message) == [.cancel(orderId: "x-1")], "unanswered: sent again")
        let end = orders.sweep(now: t0 + .seconds(20))
        #expect(end.requests.map(\.message) == [.cancel(orderId: "x-1")], "a last cancel, so it cannot trade after its end")
        let receipt = try #require(end.ended.first)
        #expect(receipt.fill?.status == .canceled)
        #expect(receipt.fill?.fillId == "x-1:canceled")
        #expect(receipt.fill?.reason?.contains("did not answer") == true)
        #expect(orders.openCount == 0)
    }

    @Test("a never-acknowledged order is asked about again with the same new_order, then ends rejected")
    func unansweredNewOrder() throws {
        var orders = OpenExchangeOrders(orderTimeout: .seconds(60), answerTimeout: .seconds(5), maxUnansweredTries: 3)
        _ = orders.connected(now: t0)
        guard case .send(let sent) = orders.open(order("x-1"), context: .topLevel, now: t0) else {
            Issue.record("not sent")
            return
        }
        #expect(orders.sweep(now: t0 + .seconds(4)).requests.isEmpty)
        let first = orders.sweep(now: t0 + .seconds(5))
        #expect(first.requests.map(\.message) == [.newOrder(sent)], "the same id and quantity again")
        let second = orders.sweep(now: t0 + .seconds(10))
        #expect(second.requests.map(\.message) == [.newOrder(sent)])
        let end = orders.sweep(now: t0 + .seconds(15))
        #expect(end.requests.isEmpty, "never confirmed: nothing to cancel")
        let receipt = try #require(end.ended.first)
        #expect(receipt.fill?.status == .rejected)
        #expect(receipt.fill?.leavesQuantity == 300)
        #expect(orders.openCount == 0)
        #expect(orders.isKnown("x-1"))

        // An answer in time resets the count.
        var other = OpenExchangeOrders(orderTimeout: .seconds(60), answerTimeout: .seconds(5), maxUnansweredTries: 2)
        _ = other.connected(now: t0)
        _ = other.open(order("y-1"), context: .topLevel, now: t0)
        _ = other.sweep(now: t0 + .seconds(5))
        _ = other.receive(ack("y-1"))
        #expect(other.sweep(now: t0 + .seconds(30)).ended.isEmpty)
        #expect(other.openOrder("y-1")?.unansweredTries == 0)
    }

    @Test("a cancel_reject of the gateway's own cancel asks for the order's state instead of guessing")
    func cancelRejectAsksForState() throws {
        var orders = ordersWithAckedOrder()
        let r21 = orders.receive(.cancelReject(ExchangeCancelReject(orderId: "x-1", reason: "unknown")))
        #expect(try #require(r21).fill == nil)
        #expect(r21?.followUp == nil, "not our cancel")
        _ = orders.sweep(now: t0 + .seconds(60))
        let r22 = orders.receive(.cancelReject(ExchangeCancelReject(orderId: "x-1", reason: "not open")))
        let receipt = try #require(r22)
        #expect(receipt.fill == nil)
        guard case .newOrder(let query)? = receipt.followUp else {
            Issue.record("no follow-up new_order: \(String(describing: receipt.followUp))")
            return
        }
        #expect(query.orderId == "x-1")
        #expect(query.quantity == 300)
        let r23 = orders.receive(status("x-1", cumulative: 300, state: .filled, executions: [("E4", 300)]))
        #expect(r23?.fill?.status == .filled)
        #expect(orders.openCount == 0)
    }

    @Test("open orders are bounded: full refuses without storing, and room comes back when one ends")
    func bounded() {
        var orders = OpenExchangeOrders(maxOpenOrders: 2)
        _ = orders.connected()
        _ = orders.open(order("x-1"), context: .topLevel, now: t0)
        _ = orders.open(order("x-2"), context: .topLevel, now: t0)
        #expect(!orders.hasRoom)
        let r23 = orders.open(order("x-3"), context: .topLevel, now: t0)
        #expect(r23 == .full)
        #expect(!orders.isKnown("x-3"), "a refused order is not remembered: it is offered again")
        _ = orders.receive(.reject(ExchangeReject(orderId: "x-1", code: .priceBand, reason: "r")))
        #expect(orders.hasRoom)
        let r24 = orders.open(order("x-3"), context: .topLevel, now: t0)
        #expect(r24 != .full)
    }

    @Test("over-long ids stay within the limits: fill ids of 128 bytes; the wire id is the order id")
    func longIds() throws {
        let id = String(repeating: "a", count: 128)
        var orders = OpenExchangeOrders()
        _ = orders.connected()
        _ = orders.open(order(id), context: .topLevel, now: t0)
        orders.disconnected()
        let r25 = orders.connected()
        let wire = try #require(r25.first?.newOrder.orderId)
        #expect(wire == id)
        let r26 = orders.receive(execution(wire, "E1", quantity: 1, cumulative: 1, leaves: 299))
        let fill = try #require(r26?.fill)
        #expect(fill.fillId.utf8.count <= MessageLimits.maxIdentifierLength)
        #expect(fill.validationErrors().isEmpty)
    }

    @Test("the stored context is the one given at open, returned with every reply")
    func contextTravels() throws {
        enum Marker: ServiceContextKey { typealias Value = String }
        var context = ServiceContext.topLevel
        context[Marker.self] = "ws_send"
        var orders = OpenExchangeOrders()
        _ = orders.connected()
        _ = orders.open(order("x-1"), context: context, now: t0)
        let r27 = orders.receive(ack("x-1"))
        #expect(try #require(r27).context[Marker.self] == "ws_send")
        orders.disconnected()
        let r28 = orders.connected()
        #expect(r28.first?.context[Marker.self] == "ws_send")
        let r29 = orders.receive(ack("x-1"))
        #expect(try #require(r29).context[Marker.self] == "ws_send")
    }
}

@Suite("ExchangeGatewayConfiguration", .timeLimit(.minutes(1)))
struct ExchangeGatewayConfigurationTests {
    @Test("reads the environment over the defaults")
    func environment() throws {
        let configuration = try ExchangeGatewayConfiguration.fromEnvironment([
            "EXCHANGE_URL": "ws://exchange:9100/", "EXCHANGE_ORDER_TIMEOUT_MS": "2500", "EXCHANGE_MAX_OPEN_ORDERS": "7",
            "ORDERTRACE_TOPIC_PREFIX": "t-",
        ])
        #expect(configuration.exchangeURL == "ws://exchange:9100/")
        #expect(configuration.orderTimeout == .milliseconds(2500))
        #expect(configuration.maxOpenOrders == 7)
        #expect(configuration.topics.fills == "t-fills")
        #expect(configuration.reconnectInitialBackoff == .milliseconds(100))
        #expect(configuration.reconnectMaxBackoff == .seconds(5))
        #expect(configuration.sessionName == "t-exchange-gateway", "the default session name follows the consumer group")
        #expect(try ExchangeGatewayConfiguration.fromEnvironment([:]) == ExchangeGatewayConfiguration())
        let named = try ExchangeGatewayConfiguration.fromEnvironment([
            "EXCHANGE_SESSION": "desk 1/gw", "EXCHANGE_ANSWER_TIMEOUT_MS": "700", "EXCHANGE_MAX_UNANSWERED_TRIES": "4",
            "EXCHANGE_URL": "ws://exchange:9100/",
        ])
        #expect(named.sessionName == "desk_1_gw")
        #expect(named.sessionURL == "ws://exchange:9100/?session=desk_1_gw")
        #expect(named.answerTimeout == .milliseconds(700))
        #expect(named.maxUnansweredTries == 4)
    }

    @Test("a bad value names the variable")
    func badValue() throws {
        let count = try #require(throws: ConfigurationError.self) {
            try ExchangeGatewayConfiguration.fromEnvironment(["EXCHANGE_MAX_OPEN_ORDERS": "lots"])
        }
        #expect(count.setting == "EXCHANGE_MAX_OPEN_ORDERS")
        #expect(count.code == .invalidValue)
        let url = try #require(throws: ConfigurationError.self) {
            try ExchangeGatewayConfiguration.fromEnvironment(["EXCHANGE_URL": "http://x"])
        }
        #expect(url.setting == "EXCHANGE_URL")
    }
}
