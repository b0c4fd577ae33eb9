/// The side of an order: the client buys or sells.
///
/// The raw value is the wire spelling (`"buy"`, `"sell"`).
public enum ExchangeSide: String, Hashable, Sendable, CaseIterable {
    /// The client buys: the order rests among the bids and trades against asks.
    case buy
    /// The client sells: the order rests among the asks and trades against bids.
    case sell

    /// The other side.
    public var opposite: ExchangeSide {
        self == .buy ? .sell : .buy
    }
}
