/// The payload of an `ack`: the order as accepted.
public struct ExchangeAck: Hashable, Sendable {
    /// The client's order id.
    public var orderId: String
    /// The instrument.
    public var symbol: String
    /// Buy or sell.
    public var side: ExchangeSide
    /// The order quantity.
    public var quantity: Int64
    /// Market, or limit with its price.
    public var orderType: ExchangeOrderType

    /// Creates an ack payload.
    public init(orderId: String, symbol: String, side: ExchangeSide, quantity: Int64, orderType: ExchangeOrderType) {
        self.orderId = orderId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.orderType = orderType
    }

    /// Creates the ack of `order`.
    public init(_ order: ExchangeNewOrder) {
        self.init(
            orderId: order.orderId,
            symbol: order.symbol,
            side: order.side,
            quantity: order.quantity,
            orderType: order.orderType
        )
    }
}
