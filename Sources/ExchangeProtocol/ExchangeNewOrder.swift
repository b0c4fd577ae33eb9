/// A client's new order, as carried by a `new_order` message.
///
/// The decoder checks the shape of the message (types, spelling, a limit price exactly when the order is a
/// limit order); the simulator checks the business rules (known symbol, positive quantity, unique order id,
/// price band) and answers a broken rule with a `reject`.
public struct ExchangeNewOrder: Hashable, Sendable {
    /// The client's id for the order; unique within a session.
    public var orderId: String
    /// The instrument, for example `"AAPL"`.
    public var symbol: String
    /// Buy or sell.
    public var side: ExchangeSide
    /// The quantity in whole units; the simulator rejects a non-positive quantity.
    public var quantity: Int64
    /// Market, or limit with its price.
    public var orderType: ExchangeOrderType

    /// Creates a new order.
    public init(orderId: String, symbol: String, side: ExchangeSide, quantity: Int64, orderType: ExchangeOrderType) {
        self.orderId = orderId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.orderType = orderType
    }
}
