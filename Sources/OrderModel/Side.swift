/// The side of an order, a batch, an exchange order or a fill.
public enum Side: String, Hashable, Sendable, CaseIterable {
    /// Buying.
    case buy
    /// Selling.
    case sell
}
