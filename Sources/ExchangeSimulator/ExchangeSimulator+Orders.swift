import ExchangeProtocol

extension ExchangeSimulator {
    /// Checks, acknowledges and matches a new order; rests the rest of a limit order, cancels the rest of a
    /// market order.
    mutating func place(_ order: ExchangeNewOrder, into output: inout [ExchangeMessage]) {
        if let known = openOrders[order.orderId]?.order ?? doneOrders[order.orderId]?.order {
            // Never placed twice: the same order again is a question about its state.
            if known == order {
                appendStatus(of: order.orderId, into: &output)
            } else {
                output.append(
                    .reject(
                        ExchangeReject(
                            orderId: order.orderId, code: .duplicateOrderId,
                            reason: "order id \(quoted(order.orderId)) was already used in this session for a different order; use a new id")))
            }
            return
        }
        if let reject = check(order) {
            doneOrders.insert(
                DoneOrder(order: order, cumulativeQuantity: 0, state: .rejected, reason: "\(reject.code): \(reject.reason)", executions: []),
                for: order.orderId)
            output.append(.reject(reject))
            return
        }
        // `check` passed, so the symbol is listed.
        guard let position = instrumentIndex[order.symbol] else { return }
        output.append(.ack(ExchangeAck(order)))

        var taker = LiveOrder(order, instrument: position)
        fillBuffer.removeAll(keepingCapacity: true)
        let remaining = instruments[position].book.match(
            taker: order.side,
            limit: order.orderType.limitPrice,
            quantity: order.quantity,
            fills: &fillBuffer
        )
        let fills = fillBuffer
        for fill in fills {
            output.append(.execution(execute(&taker, quantity: fill.quantity, price: fill.price)))
            if case .client(let makerId) = fill.maker {
                executeResting(makerId, quantity: fill.quantity, price: fill.price, into: &output)
            }
        }
        guard remaining > 0 else {
            remember(taker, state: .filled, reason: nil)
            return
        }
        switch order.orderType {
        case .limit(let price):
            instruments[position].book.rest(side: order.side, price: price, owner: .client(order.orderId), quantity: remaining)
            openOrders[order.orderId] = taker
        case .market:
            output.append(.canceled(canceledMessage(taker, reason: .noLiquidity)))
            remember(taker, state: .canceled, reason: ExchangeCancelReason.noLiquidity.rawValue)
        }
    }

    /// The reject for a new order (whose id the session does not know) that breaks a rule, or `nil` if it
    /// may be placed.
    private func check(_ order: ExchangeNewOrder) -> ExchangeReject? {
        let id = order.orderId
        func reject(_ code: ExchangeRejectCode, _ reason: String) -> ExchangeReject {
            ExchangeReject(orderId: id, code: code, reason: reason)
        }

        guard let position = instrumentIndex[order.symbol] else {
            return reject(
                .unknownSymbol,
                "symbol \(quoted(order.symbol)) is not listed; listed symbols: \(listedSymbols())"
            )
        }
        if order.quantity <= 0 {
            return reject(.invalidQuantity, "quantity must be positive, not \(order.quantity)")
        }
        if order.quantity > configuration.maxOrderQuantity {
            return reject(
                .invalidQuantity,
                "quantity \(order.quantity) is more than the most one order may have, \(configuration.maxOrderQuantity)"
            )
        }
        if case .limit(let price) = order.orderType {
            if price.ticks <= 0 {
                return reject(.invalidPrice, "limit price must be positive, not \(price)")
            }
            let reference = instruments[position].referencePrice
            let band = priceBand(around: reference)
            if !band.contains(price.ticks) {
                let percent = ExchangePrice(ticks: configuration.priceBandBasisPoints * 100)
                return reject(
                    .priceBand,
                    "limit price \(price) is outside the price band \(ExchangePrice(ticks: band.lowerBound))"
                        + "...\(ExchangePrice(ticks: band.upperBound)) (±\(percent)% of the reference price "
                        + "\(reference) of \(order.symbol)); send a price within the band"
                )
            }
        }
        if openOrders.count >= configuration.maxOpenOrders {
            return reject(
                .tooManyOpenOrders,
                "the session already has \(openOrders.count) open orders, the most it holds; cancel some first"
            )
        }
        return nil
    }

    /// The limit prices (in ticks) allowed around `reference`: ±`priceBandBasisPoints` of it, rounded toward
    /// the reference.
    func priceBand(around reference: ExchangePrice) -> ClosedRange<Int64> {
        let (scaled, overflow) = reference.ticks.multipliedReportingOverflow(by: configuration.priceBandBasisPoints)
        let width = overflow ? Int64.max : scaled / 10_000
        let (low, lowOverflow) = reference.ticks.subtractingReportingOverflow(width)
        let (high, highOverflow) = reference.ticks.addingReportingOverflow(width)
        return (lowOverflow ? Int64.min : low)...(highOverflow ? Int64.max : high)
    }

    /// Cancels the open rest of an order, or answers why it cannot.
    mutating func cancel(_ orderId: String, into output: inout [ExchangeMessage]) {
        guard let order = openOrders[orderId], let price = order.orderType.limitPrice else {
            let reason =
                doneOrders[orderId] != nil
                ? "order \(quoted(orderId)) is not open: it was already filled, canceled or rejected"
                : "no order \(quoted(orderId)) is known to this session"
            output.append(.cancelReject(ExchangeCancelReject(orderId: orderId, reason: reason)))
            return
        }
        _ = instruments[order.instrument].book.remove(side: order.side, price: price, owner: .client(orderId))
        openOrders[orderId] = nil
        output.append(.canceled(canceledMessage(order, reason: .requested)))
        remember(order, state: .canceled, reason: ExchangeCancelReason.requested.rawValue)
    }

    /// Records a trade of a resting client order and appends its execution; evicts the order once filled.
    mutating func executeResting(
        _ orderId: String,
        quantity: Int64,
        price: ExchangePrice,
        into output: inout [ExchangeMessage]
    ) {
        guard var maker = openOrders[orderId] else { return }
        output.append(.execution(execute(&maker, quantity: quantity, price: price)))
        if maker.leavesQuantity == 0 {
            openOrders[orderId] = nil
            remember(maker, state: .filled, reason: nil)
        } else {
            openOrders[orderId] = maker
        }
    }

    /// Keeps a done order's state and executions, to answer a `new_order` that repeats its id.
    private mutating func remember(_ order: LiveOrder, state: ExchangeOrderState, reason: String?) {
        doneOrders.insert(
            DoneOrder(order: order.order, cumulativeQuantity: order.cumulativeQuantity, state: state, reason: reason, executions: order.executions),
            for: order.orderId)
    }

    /// Appends the `order_status` of a known order (open, or done and remembered), preceded by its oldest
    /// executions as `execution` messages when they are too many for one message. Returns whether the id
    /// is known.
    @discardableResult
    func appendStatus(of orderId: String, into output: inout [ExchangeMessage]) -> Bool {
        let order: ExchangeNewOrder
        let cumulative: Int64
        let state: ExchangeOrderState
        let reason: String?
        let executions: [PastExecution]
        if let open = openOrders[orderId] {
            order = open.order
            cumulative = open.cumulativeQuantity
            reason = nil
            executions = open.executions
            state = cumulative == 0 ? .open : .partiallyFilled
        } else if let done = doneOrders[orderId] {
            order = done.order
            cumulative = done.cumulativeQuantity
            state = done.state
            reason = done.reason
            executions = done.executions
        } else {
            return false
        }
        // Keep the status well within the message limit: list the latest executions that fit, send the
        // rest before it as the executions they were.
        var budget = ExchangeProtocol.maxMessageBytes / 2 - ExchangeProtocol.maxOrderIdBytes - 1_024
        var listed = executions.count
        while listed > 0 {
            let cost = executions[listed - 1].executionId.utf8.count + 80
            if cost > budget { break }
            budget -= cost
            listed -= 1
        }
        let symbol = order.symbol
        for past in executions[..<listed] {
            output.append(
                .execution(
                    ExchangeExecution(
                        executionId: past.executionId, orderId: orderId, symbol: symbol, side: order.side, quantity: past.quantity,
                        price: past.price, cumulativeQuantity: past.cumulativeQuantity, leavesQuantity: order.quantity - past.cumulativeQuantity,
                        status: past.cumulativeQuantity == order.quantity ? .filled : .partiallyFilled)))
        }
        output.append(
            .orderStatus(
                ExchangeOrderStatus(
                    orderId: orderId, symbol: symbol, side: order.side, quantity: order.quantity, cumulativeQuantity: cumulative,
                    leavesQuantity: state.isDone ? 0 : order.quantity - cumulative, status: state,
                    reason: reason.map { String($0.prefix(1_000)) },
                    executions: executions[listed...].map {
                        ExchangeOrderStatus.Execution(executionId: $0.executionId, quantity: $0.quantity, price: $0.price)
                    },
                    executionsOmitted: Int64(listed))))
        return true
    }

    /// Applies one trade to an order's progress and makes its execution message with a new execution id.
    private mutating func execute(_ order: inout LiveOrder, quantity: Int64, price: ExchangePrice) -> ExchangeExecution {
        order.cumulativeQuantity += quantity
        order.leavesQuantity -= quantity
        executionCount += 1
        let executionId = configuration.executionIdPrefix + String(executionCount)
        order.executions.append(
            PastExecution(executionId: executionId, quantity: quantity, price: price, cumulativeQuantity: order.cumulativeQuantity))
        return ExchangeExecution(
            executionId: executionId,
            orderId: order.orderId,
            symbol: instruments[order.instrument].symbol,
            side: order.side,
            quantity: quantity,
            price: price,
            cumulativeQuantity: order.cumulativeQuantity,
            leavesQuantity: order.leavesQuantity,
            status: order.leavesQuantity == 0 ? .filled : .partiallyFilled
        )
    }

    private func canceledMessage(_ order: LiveOrder, reason: ExchangeCancelReason) -> ExchangeCanceled {
        ExchangeCanceled(
            orderId: order.orderId,
            symbol: instruments[order.instrument].symbol,
            side: order.side,
            quantity: order.quantity,
            cumulativeQuantity: order.cumulativeQuantity,
            canceledQuantity: order.leavesQuantity,
            reason: reason
        )
    }

    private func listedSymbols() -> String {
        let shown = instruments.prefix(20).map(\.symbol).joined(separator: ", ")
        return instruments.count > 20 ? shown + " and \(instruments.count - 20) more" : shown
    }

    private func quoted(_ text: String) -> String {
        "\"" + ExchangeProtocol.excerpt(text) + "\""
    }
}
