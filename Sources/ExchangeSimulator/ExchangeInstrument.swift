import ExchangeProtocol

/// A symbol listed on the simulated exchange, with the reference price its random walk starts from.
public struct ExchangeInstrument: Hashable, Sendable {
    /// The symbol, for example `"AAPL"`; matched exactly (case-sensitive).
    public var symbol: String
    /// The reference price at time zero.
    public var referencePrice: ExchangePrice

    /// Creates an instrument.
    public init(symbol: String, referencePrice: ExchangePrice) {
        self.symbol = symbol
        self.referencePrice = referencePrice
    }

    /// The default listing: eight large US stocks at round, plausible prices.
    public static let defaults: [ExchangeInstrument] = {
        let listing: [(symbol: String, price: Int64)] = [
            ("AAPL", 190), ("MSFT", 420), ("NVDA", 120), ("AMZN", 185),
            ("GOOG", 170), ("META", 500), ("TSLA", 250), ("JPM", 200),
        ]
        return listing.map {
            ExchangeInstrument(symbol: $0.symbol, referencePrice: ExchangePrice(ticks: $0.price * ExchangePrice.ticksPerUnit))
        }
    }()
}
