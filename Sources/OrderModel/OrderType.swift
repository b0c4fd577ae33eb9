/// How an order is priced.
public enum OrderType: String, Hashable, Sendable, CaseIterable {
    /// Executes at `limitPrice` or better; `limitPrice` is required.
    case limit
    /// Executes at the market's price; it has no `limitPrice`.
    case market
}
