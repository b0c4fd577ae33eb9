import ExchangeProtocol

/// An open order as the session sees it now.
public struct ExchangeOrderSnapshot: Hashable, Sendable {
    /// The client's order id.
    public var orderId: String
    /// The instrument.
    public var symbol: String
    /// Buy or sell.
    public var side: ExchangeSide
    /// The order quantity.
    public var quantity: Int64
    /// Market or limit (an open order is always a resting limit order).
    public var orderType: ExchangeOrderType
    /// The quantity filled so far.
    public var cumulativeQuantity: Int64
    /// The quantity still open; always positive for an open order.
    public var leavesQuantity: Int64

    /// Creates a snapshot.
    public init(
        orderId: String,
        symbol: String,
        side: ExchangeSide,
        quantity: Int64,
        orderType: ExchangeOrderType,
        cumulativeQuantity: Int64,
        leavesQuantity: Int64
    ) {
        self.orderId = orderId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.orderType = orderType
        self.cumulativeQuantity = cumulativeQuantity
        self.leavesQuantity = leavesQuantity
    }
}
