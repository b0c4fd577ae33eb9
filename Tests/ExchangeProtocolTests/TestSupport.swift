import ExchangeProtocol

/// A price from its decimal text; traps on a typo in a test.
func price(_ text: String) -> ExchangePrice {
    guard let price = ExchangePrice(text) else { fatalError("bad price literal \(text)") }
    return price
}

/// A `new_order` for a limit order.
func limit(_ id: String, _ side: ExchangeSide, _ quantity: Int64, _ limitPrice: String) -> ExchangeClientMessage {
    .newOrder(ExchangeNewOrder(orderId: id, symbol: "AAPL", side: side, quantity: quantity, orderType: .limit(price(limitPrice))))
}

/// A `new_order` for a market order.
func market(_ id: String, _ side: ExchangeSide, _ quantity: Int64) -> ExchangeClientMessage {
    .newOrder(ExchangeNewOrder(orderId: id, symbol: "AAPL", side: side, quantity: quantity, orderType: .market))
}
