/// A client order's new state after an event (topic `order-updates`, keyed by `userId`).
///
/// The quantities always satisfy `cumulativeQuantity + leavesQuantity == quantity` of the client order, where
/// `leavesQuantity` is what has not executed (for a terminal `canceled`/`rejected` order, what never will).
/// `lastQuantity`/`lastPrice` describe the allocation that caused this update (0 when none). `averagePrice`
/// is the exact average rounded to the nearest tick, halves up; `notional` (an addition to the contract, always
/// written by this module, optional when read) is the exact Σ quantity × price of the order's allocations, so
/// `averagePrice × cumulativeQuantity == notional` can be checked exactly through ``exactAveragePrice``.
public struct OrderUpdate: Hashable, Sendable {
    /// The client's id for the order.
    public var clientOrderId: String
    /// The owner of the order (also the Kafka key).
    public var userId: String
    /// The instrument.
    public var symbol: String
    /// Buy or sell.
    public var side: Side
    /// The order's state after the event.
    public var status: OrderStatus
    /// Units allocated by this event (0 when nothing executed).
    public var lastQuantity: Int64
    /// The price of this event's allocation (0 when nothing executed).
    public var lastPrice: Price
    /// Units allocated so far.
    public var cumulativeQuantity: Int64
    /// Units not executed: the order's quantity minus `cumulativeQuantity`.
    public var leavesQuantity: Int64
    /// The average price of everything allocated, rounded to the nearest tick (halves up); 0 before any.
    public var averagePrice: Price
    /// Σ allocated quantity × price, in ticks: the exact numerator of the average price. `nil` only when a
    /// decoded update did not carry it.
    public var notional: Int128?
    /// The batch the order is in, once batched.
    public var batchId: String?
    /// The fill that caused this update, when one did.
    public var fillId: String?
    /// Why the order was rejected or canceled, or other detail.
    public var reason: String?

    /// Creates an update. `averagePrice` defaults to `notional / cumulativeQuantity` rounded to the nearest tick
    /// (0 without a notional).
    public init(
        clientOrderId: String, userId: String, symbol: String, side: Side, status: OrderStatus,
        lastQuantity: Int64 = 0, lastPrice: Price = .zero, cumulativeQuantity: Int64, leavesQuantity: Int64,
        averagePrice: Price? = nil, notional: Int128? = 0, batchId: String? = nil, fillId: String? = nil,
        reason: String? = nil
    ) {
        self.clientOrderId = clientOrderId
        self.userId = userId
        self.symbol = symbol
        self.side = side
        self.status = status
        self.lastQuantity = lastQuantity
        self.lastPrice = lastPrice
        self.cumulativeQuantity = cumulativeQuantity
        self.leavesQuantity = leavesQuantity
        self.averagePrice =
            averagePrice ?? Price(ticks: AveragePrice.roundedTicks(notional: notional ?? 0, quantity: cumulativeQuantity))
        self.notional = notional
        self.batchId = batchId
        self.fillId = fillId
        self.reason = reason
    }

    /// An update for an order that has executed nothing yet (`accepted`, `batched`, or `rejected`/`canceled`
    /// before any execution): cumulative 0, leaves the order's quantity.
    public init(order: ClientOrder, status: OrderStatus, batchId: String? = nil, reason: String? = nil) {
        self.init(
            clientOrderId: order.clientOrderId, userId: order.userId, symbol: order.symbol, side: order.side,
            status: status, cumulativeQuantity: 0, leavesQuantity: order.quantity, batchId: batchId, reason: reason)
    }

    /// The order's key: (`userId`, `clientOrderId`).
    public var orderKey: OrderKey { OrderKey(userId: userId, clientOrderId: clientOrderId) }

    /// The exact average price: ``notional`` over ``cumulativeQuantity``; `nil` without a notional.
    public var exactAveragePrice: AveragePrice? {
        notional.map { AveragePrice(notional: $0, quantity: cumulativeQuantity) }
    }

    /// Every rule this update breaks (the ones decoding enforces): ids, symbol, non-negative quantities and
    /// notional, and a bounded reason. How the numbers relate to each other and to fills is the audit's
    /// business (``OrderAudit``).
    public func validationErrors() -> [ValidationError] {
        [
            FieldRules.identifier(clientOrderId)?.named("clientOrderId"),
            FieldRules.identifier(userId)?.named("userId"),
            FieldRules.symbol(symbol)?.named("symbol"),
            FieldRules.nonNegativeQuantity(lastQuantity)?.named("lastQuantity"),
            FieldRules.nonNegativeQuantity(cumulativeQuantity)?.named("cumulativeQuantity"),
            FieldRules.nonNegativeQuantity(leavesQuantity)?.named("leavesQuantity"),
            (notional ?? 0) >= 0 ? nil : ValidationError(field: "notional", code: .outOfRange, reason: "must not be negative"),
            batchId.flatMap { FieldRules.identifier($0)?.named("batchId") },
            fillId.flatMap { FieldRules.identifier($0)?.named("fillId") },
            reason.flatMap { FieldRules.reason($0)?.named("reason") },
        ].compactMap { $0 }
    }
}
