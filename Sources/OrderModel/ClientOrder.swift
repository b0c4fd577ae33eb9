/// An order as a client sent it (topic `client-orders`, keyed by `symbol`).
///
/// ```json
/// {"clientOrderId":"c-1001","userId":"alice","symbol":"AAPL","side":"buy",
///  "quantity":300,"orderType":"limit","limitPrice":189.25}
/// ```
///
/// A client order is identified by (`userId`, `clientOrderId`): `clientOrderId` is unique per user only.
/// A `limit` order has a `limitPrice` greater than 0; a `market` order has none.
public struct ClientOrder: Hashable, Sendable {
    /// The client's id for the order, unique per user.
    public var clientOrderId: String
    /// The owner of the order.
    public var userId: String
    /// The instrument (also the Kafka key).
    public var symbol: String
    /// Buy or sell.
    public var side: Side
    /// Whole units, greater than 0.
    public var quantity: Int64
    /// Limit or market.
    public var orderType: OrderType
    /// The worst acceptable price; present for limit orders only.
    public var limitPrice: Price?

    /// Creates a client order. It is not validated: see ``validationErrors()``.
    public init(
        clientOrderId: String, userId: String, symbol: String, side: Side, quantity: Int64,
        orderType: OrderType, limitPrice: Price? = nil
    ) {
        self.clientOrderId = clientOrderId
        self.userId = userId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.orderType = orderType
        self.limitPrice = limitPrice
    }

    /// Every rule this order breaks (the ones decoding enforces), in field order; empty when it is valid.
    public func validationErrors() -> [ValidationError] {
        [
            FieldRules.identifier(clientOrderId)?.named("clientOrderId"),
            FieldRules.identifier(userId)?.named("userId"),
            FieldRules.symbol(symbol)?.named("symbol"),
            FieldRules.quantity(quantity)?.named("quantity"),
            FieldRules.limitPrice(orderType: orderType, price: limitPrice)?.named("limitPrice"),
        ].compactMap { $0 }
    }
}
