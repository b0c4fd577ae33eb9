/// One order the algorithm sends to the exchange to work part of a batch (topic `exchange-orders`, keyed by
/// `symbol`). The quantities of a batch's exchange orders sum to the batch's quantity.
public struct ExchangeOrder: Hashable, Sendable {
    /// The exchange order's id.
    public var exchangeOrderId: String
    /// The batch it works.
    public var batchId: String
    /// The instrument (also the Kafka key).
    public var symbol: String
    /// Buy or sell: the batch's side.
    public var side: Side
    /// Whole units, greater than 0.
    public var quantity: Int64
    /// Limit or market.
    public var orderType: OrderType
    /// The limit price, for limit orders only.
    public var limitPrice: Price?
    /// This exchange order's index among the batch's exchange orders, from 0.
    public var slice: Int
    /// How many exchange orders work the batch.
    public var slices: Int

    /// Creates an exchange order. It is not validated: see ``validationErrors()``.
    public init(
        exchangeOrderId: String, batchId: String, symbol: String, side: Side, quantity: Int64,
        orderType: OrderType, limitPrice: Price? = nil, slice: Int, slices: Int
    ) {
        self.exchangeOrderId = exchangeOrderId
        self.batchId = batchId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.orderType = orderType
        self.limitPrice = limitPrice
        self.slice = slice
        self.slices = slices
    }

    /// Every rule this exchange order breaks (the ones decoding enforces); empty when it is valid. Beyond each
    /// field's own rules: the limit price rules of ``ClientOrder``, `slices` ≥ 1 and 0 ≤ `slice` < `slices`.
    public func validationErrors() -> [ValidationError] {
        [
            FieldRules.identifier(exchangeOrderId)?.named("exchangeOrderId"),
            FieldRules.identifier(batchId)?.named("batchId"),
            FieldRules.symbol(symbol)?.named("symbol"),
            FieldRules.quantity(quantity)?.named("quantity"),
            FieldRules.limitPrice(orderType: orderType, price: limitPrice)?.named("limitPrice"),
            ExchangeOrderRules.slice(slice, slices: slices),
        ].compactMap { $0 }
    }
}
