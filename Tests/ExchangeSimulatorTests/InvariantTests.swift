import Testing

import ExchangeProtocol
@testable import ExchangeSimulator

/// Follows a session from the outside, through its messages only, and records every broken rule.
struct SessionChecker {
    enum State: Equatable {
        case open, filled, canceled
    }

    struct Order {
        var quantity: Int64
        var side: ExchangeSide
        var orderType: ExchangeOrderType
        var cumulative: Int64 = 0
        var state = State.open
    }

    var orders: [String: Order] = [:]
    var usedIds: Set<String> = []
    var executionIds: Set<String> = []
    var rejected = 0
    var rejectCodes: [String: Int] = [:]
    var executionsFromTicks = 0
    var problems: [String] = []

    mutating func problem(_ text: String) {
        if problems.count < 20 { problems.append(text) }
    }

    /// Checks one outbound message against what the checker knows; `fromTick` when a tick produced it.
    mutating func observe(_ message: ExchangeMessage, fromTick: Bool) {
        // Every message survives its own wire format.
        if (try? ExchangeMessage.decode(message.encoded())) != message {
            problem("round trip changed \(message)")
        }
        switch message {
        case .execution(let execution):
            if fromTick { executionsFromTicks += 1 }
            if !executionIds.insert(execution.executionId).inserted {
                problem("execution id \(execution.executionId) used twice")
            }
            guard var order = orders[execution.orderId], order.state == .open else {
                problem("execution for an order that is not open: \(execution)")
                return
            }
            if execution.quantity <= 0 { problem("non-positive execution \(execution)") }
            if order.cumulative + execution.quantity != execution.cumulativeQuantity {
                problem("cumulative quantity does not add up: \(execution)")
            }
            if execution.cumulativeQuantity + execution.leavesQuantity != order.quantity {
                problem("cumulative + leaves != quantity: \(execution)")
            }
            if execution.cumulativeQuantity > order.quantity { problem("overfilled: \(execution)") }
            if (execution.status == .filled) != (execution.leavesQuantity == 0) {
                problem("status does not match leaves: \(execution)")
            }
            if case .limit(let limitPrice) = order.orderType {
                let withinLimit = order.side == .buy ? execution.price <= limitPrice : execution.price >= limitPrice
                if !withinLimit { problem("traded through the limit \(limitPrice): \(execution)") }
            }
            order.cumulative = execution.cumulativeQuantity
            if execution.leavesQuantity == 0 { order.state = .filled }
            orders[execution.orderId] = order
        case .canceled(let canceled):
            guard var order = orders[canceled.orderId], order.state == .open else {
                problem("cancel of an order that is not open: \(canceled)")
                return
            }
            if canceled.cumulativeQuantity != order.cumulative || canceled.canceledQuantity <= 0
                || canceled.cumulativeQuantity + canceled.canceledQuantity != order.quantity
            {
                problem("canceled quantities do not add up: \(canceled)")
            }
            order.state = .canceled
            orders[canceled.orderId] = order
        case .ack, .reject, .cancelReject, .error, .orderStatus:
            if fromTick { problem("a tick produced \(message)") }
        }
    }

    /// Checks the answer to a new order, given the reject the rules call for (or `nil`).
    mutating func observeNewOrder(_ order: ExchangeNewOrder, expectedReject: ExchangeRejectCode?, output: [ExchangeMessage]) {
        usedIds.insert(order.orderId)
        if let expectedReject {
            guard output.count == 1, case .reject(let reject) = output[0], reject.code == expectedReject,
                reject.orderId == order.orderId
            else {
                problem("\(order.orderId): expected only a \(expectedReject) reject, got \(describe(output))")
                return
            }
            rejected += 1
            rejectCodes[expectedReject.description, default: 0] += 1
            return
        }
        guard case .ack(let ack)? = output.first, ack == ExchangeAck(order) else {
            problem("\(order.orderId): expected an ack first, got \(describe(output))")
            return
        }
        orders[order.orderId] = Order(quantity: order.quantity, side: order.side, orderType: order.orderType)
        for message in output.dropFirst() {
            if case .canceled(let canceled) = message, canceled.orderId == order.orderId,
                canceled.reason != .noLiquidity || order.orderType != .market
            {
                problem("\(order.orderId): unexpected cancel \(canceled)")
            }
            if case .ack = message { problem("\(order.orderId): a second ack") }
            if case .reject = message { problem("\(order.orderId): a reject after the ack") }
            observe(message, fromTick: false)
        }
        if order.orderType == .market, orders[order.orderId]?.state == .open {
            problem("\(order.orderId): a market order is still open")
        }
    }

    /// Checks the answer to a cancel.
    mutating func observeCancel(_ orderId: String, output: [ExchangeMessage]) {
        if orders[orderId]?.state == .open {
            guard output.count == 1, case .canceled(let canceled) = output[0], canceled.reason == .requested else {
                problem("cancel of open \(orderId): got \(describe(output))")
                return
            }
            observe(output[0], fromTick: false)
        } else if output.count != 1 || output[0].typeName != "cancel_reject" || output[0].orderId != orderId {
            problem("cancel of \(orderId), which is not open: got \(describe(output))")
        }
    }

    /// Compares the checker's view of every order with the session's.
    mutating func compare(with exchange: ExchangeSimulator) {
        var open = 0
        for (id, order) in orders {
            let snapshot = exchange.openOrder(id)
            switch order.state {
            case .open:
                open += 1
                guard let snapshot else {
                    problem("\(id) should be open")
                    continue
                }
                if snapshot.leavesQuantity <= 0 || snapshot.cumulativeQuantity != order.cumulative
                    || snapshot.cumulativeQuantity + snapshot.leavesQuantity != order.quantity
                {
                    problem("\(id): session has \(snapshot), checker has cum \(order.cumulative)")
                }
            case .filled, .canceled:
                if snapshot != nil { problem("\(id) is done but still open in the session") }
            }
        }
        if open != exchange.openOrderCount {
            problem("session has \(exchange.openOrderCount) open orders, checker \(open)")
        }
    }

    func count(_ state: State) -> Int {
        orders.values.filter { $0.state == state }.count
    }
}

@Suite("Invariants over random seeded runs", .timeLimit(.minutes(2)))
struct InvariantTests {
    /// The reject the documented rules call for, worked out independently of the session.
    static func expectedReject(
        _ order: ExchangeNewOrder,
        reference: ExchangePrice?,
        checker: SessionChecker,
        openOrders: Int,
        maxOpenOrders: Int
    ) -> ExchangeRejectCode? {
        if checker.usedIds.contains(order.orderId) { return .duplicateOrderId }
        guard let reference else { return .unknownSymbol }
        if order.quantity <= 0 || order.quantity > 1_000_000_000 { return .invalidQuantity }
        if case .limit(let limitPrice) = order.orderType {
            if limitPrice.ticks <= 0 { return .invalidPrice }
            let width = reference.ticks * 1_000 / 10_000
            if abs(limitPrice.ticks - reference.ticks) > width { return .priceBand }
        }
        if openOrders >= maxOpenOrders { return .tooManyOpenOrders }
        return nil
    }

    @Test("5,000 random orders, cancels and ticks per seed keep every invariant", arguments: [1, 2, 3, 4] as [UInt64])
    func randomRun(seed: UInt64) throws {
        var configuration = ExchangeSimulatorConfiguration(seed: seed)
        configuration.maxOpenOrders = 1_000
        var exchange = try ExchangeSimulator(configuration: configuration)
        var checker = SessionChecker()
        var script = ScriptRandom(seed: seed &* 7919)
        let symbols = exchange.symbols
        var ids: [String] = []
        var time = Duration.zero
        var orderCount = 0

        for step in 0..<5_000 {
            time += .milliseconds(script.int(0...40))
            for message in exchange.tick(now: time) { checker.observe(message, fromTick: true) }

            if script.chance(20), !ids.isEmpty {
                let id = script.chance(3) ? "never-sent" : ids[Int(script.int(0...Int64(ids.count - 1)))]
                let output = exchange.handle(bytes: ExchangeClientMessage.cancel(orderId: id).encoded())
                checker.observeCancel(id, output: output)
                continue
            }

            orderCount += 1
            let id = script.chance(3) && !ids.isEmpty ? ids[Int(script.int(0...Int64(ids.count - 1)))] : "o\(step)"
            ids.append(id)
            let symbol = script.chance(2) ? "ZZZ" : symbols[Int(script.int(0...Int64(symbols.count - 1)))]
            let reference = exchange.referencePrice(of: symbol)
            let quantity: Int64 =
                script.chance(2) ? [0, -1, -100, .max, 1_000_000_001][Int(script.int(0...4))]
                : script.chance(5) ? script.int(5_000...20_000) : script.int(1...3_000)
            let side: ExchangeSide = script.chance(50) ? .buy : .sell
            let orderType: ExchangeOrderType
            if script.chance(25) {
                orderType = .market
            } else {
                let base = (reference ?? price("100")).ticks
                let offset: Int64
                if script.chance(4) {
                    offset = script.int(base / 10 + 1...base / 5) * (script.chance(50) ? 1 : -1)  // outside the band
                } else if script.chance(1) {
                    offset = -base - script.int(0...10)  // zero or negative price
                } else {
                    offset = script.int(-(base * 3 / 1_000)...(base * 3 / 1_000))
                }
                orderType = .limit(ExchangePrice(ticks: base + offset))
            }
            let order = ExchangeNewOrder(orderId: id, symbol: symbol, side: side, quantity: quantity, orderType: orderType)
            let expected = Self.expectedReject(
                order,
                reference: reference,
                checker: checker,
                openOrders: exchange.openOrderCount,
                maxOpenOrders: configuration.maxOpenOrders
            )
            let output = exchange.handle(bytes: ExchangeClientMessage.newOrder(order).encoded())
            checker.observeNewOrder(order, expectedReject: expected, output: output)
            if step % 500 == 0 { checker.compare(with: exchange) }
        }
        for message in exchange.tick(now: time + .seconds(30)) { checker.observe(message, fromTick: true) }
        checker.compare(with: exchange)

        #expect(checker.problems.isEmpty, "\(checker.problems.joined(separator: "\n"))")
        // The run exercised every outcome.
        #expect(orderCount > 3_500)
        #expect(checker.count(.filled) > 100)
        #expect(checker.count(.canceled) > 100)
        #expect(checker.rejected > 50)
        #expect(
            Set(checker.rejectCodes.keys)
                == ["duplicate_order_id", "unknown_symbol", "invalid_quantity", "invalid_price", "price_band"]
        )
        #expect(checker.count(.open) > 0)
        #expect(checker.executionsFromTicks > 100)
        // Memory stays bounded: done orders are gone from the session.
        #expect(exchange.openOrderCount <= configuration.maxOpenOrders)
        #expect(exchange.openOrders.count == checker.count(.open))
    }
}
