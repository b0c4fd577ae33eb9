/// The payload of a `canceled`: the open rest of an order was canceled, and the order is done.
///
/// `cumulativeQuantity + canceledQuantity == quantity`.
public struct ExchangeCanceled: Hashable, Sendable {
    /// The client's order id.
    public var orderId: String
    /// The instrument.
    public var symbol: String
    /// The side of the order.
    public var side: ExchangeSide
    /// The order quantity.
    public var quantity: Int64
    /// The quantity that traded before the cancel.
    public var cumulativeQuantity: Int64
    /// The quantity that was still open and is now canceled; always positive.
    public var canceledQuantity: Int64
    /// Why the order was canceled.
    public var reason: ExchangeCancelReason

    /// Creates a canceled payload.
    public init(
        orderId: String,
        symbol: String,
        side: ExchangeSide,
        quantity: Int64,
        cumulativeQuantity: Int64,
        canceledQuantity: Int64,
        reason: ExchangeCancelReason
    ) {
        self.orderId = orderId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.cumulativeQuantity = cumulativeQuantity
        self.canceledQuantity = canceledQuantity
        self.reason = reason
    }
}

/// Why an order was canceled. The raw value is the wire spelling.
public enum ExchangeCancelReason: String, Hashable, Sendable, CaseIterable {
    /// The client sent a `cancel`.
    case requested
    /// A market order took all the liquidity it could; its rest is canceled (market orders never rest).
    case noLiquidity = "no_liquidity"
}
