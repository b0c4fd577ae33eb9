import ExchangeProtocol

/// A client order that is still open, with its progress.
struct LiveOrder: Sendable {
    let orderId: String
    /// The index of the symbol in the session's instruments.
    let instrument: Int
    let side: ExchangeSide
    let quantity: Int64
    let orderType: ExchangeOrderType
    var cumulativeQuantity: Int64 = 0
    var leavesQuantity: Int64

    init(_ order: ExchangeNewOrder, instrument: Int) {
        orderId = order.orderId
        self.instrument = instrument
        side = order.side
        quantity = order.quantity
        orderType = order.orderType
        leavesQuantity = order.quantity
    }
}
