import ExchangeProtocol
import OrderModel

extension ExchangeSide {
    /// The exchange's spelling of a pipeline side.
    public init(_ side: Side) {
        switch side {
        case .buy: self = .buy
        case .sell: self = .sell
        }
    }
}

extension ExchangeOrderType {
    /// The exchange's order type for a pipeline order type and limit price (both are exact ticks
    /// of 0.0001, so the price converts tick for tick). A limit order without a price (which
    /// validation never lets through) is sent as a market order.
    public init(_ orderType: OrderType, limitPrice: Price?) {
        switch (orderType, limitPrice) {
        case (.limit, let price?): self = .limit(ExchangePrice(ticks: price.ticks))
        case (.limit, nil), (.market, _): self = .market
        }
    }
}
