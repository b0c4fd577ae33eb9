import ExchangeProtocol

/// A view of one symbol's book: the best levels of each side, simulated liquidity and client orders together.
public struct ExchangeBookDepth: Hashable, Sendable {
    /// One price level.
    public struct Level: Hashable, Sendable {
        /// The price of the level.
        public var price: ExchangePrice
        /// The open quantity resting at this price.
        public var quantity: Int64
        /// How many orders rest at this price (the simulated liquidity of a level counts as one).
        public var orderCount: Int

        /// Creates a level.
        public init(price: ExchangePrice, quantity: Int64, orderCount: Int) {
            self.price = price
            self.quantity = quantity
            self.orderCount = orderCount
        }
    }

    /// The symbol.
    public var symbol: String
    /// The reference price now.
    public var referencePrice: ExchangePrice
    /// Bids, best (highest) first.
    public var bids: [Level]
    /// Asks, best (lowest) first.
    public var asks: [Level]

    /// Creates a depth view.
    public init(symbol: String, referencePrice: ExchangePrice, bids: [Level], asks: [Level]) {
        self.symbol = symbol
        self.referencePrice = referencePrice
        self.bids = bids
        self.asks = asks
    }
}
