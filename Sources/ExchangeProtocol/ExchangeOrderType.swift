/// How an order is priced: a market order, or a limit order with its limit price.
///
/// On the wire this is the `orderType` field (`"market"` or `"limit"`) together with `limitPrice`, which a
/// limit order must have and a market order must not have.
public enum ExchangeOrderType: Hashable, Sendable {
    /// Takes whatever liquidity there is, at any price; the part that cannot be filled at once is canceled.
    case market
    /// Trades at the limit price or better; the part that cannot be filled at once rests in the book.
    case limit(ExchangePrice)

    /// The wire spelling of the type: `"market"` or `"limit"`.
    public var name: String {
        switch self {
        case .market: "market"
        case .limit: "limit"
        }
    }

    /// The limit price of a limit order, `nil` for a market order.
    public var limitPrice: ExchangePrice? {
        switch self {
        case .market: nil
        case .limit(let price): price
        }
    }
}
