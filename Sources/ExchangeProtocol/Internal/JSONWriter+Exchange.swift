import WireJSON

/// The protocol's prices and order types.
extension JSONWriter {
    /// A price as a JSON number with at most four decimals.
    mutating func field(_ name: StaticString, _ price: ExchangePrice) {
        field(name, ticks: Int128(price.ticks))
    }

    /// `orderType`, and `limitPrice` for a limit order.
    mutating func orderType(_ orderType: ExchangeOrderType) {
        field("orderType", orderType.name)
        if case .limit(let price) = orderType { field("limitPrice", price) }
    }
}
