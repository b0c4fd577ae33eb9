import ExchangeProtocol

/// One execution of an order, as the session remembers it (to answer a repeated `new_order`).
struct PastExecution: Sendable {
    let executionId: String
    let quantity: Int64
    let price: ExchangePrice
    /// The order's cumulative quantity after this execution.
    let cumulativeQuantity: Int64
}

/// A client order that is still open, with its progress.
struct LiveOrder: Sendable {
    /// The `new_order` as it arrived.
    let order: ExchangeNewOrder
    /// The index of the symbol in the session's instruments.
    let instrument: Int
    var cumulativeQuantity: Int64 = 0
    var leavesQuantity: Int64
    /// Every execution so far, oldest first.
    var executions: [PastExecution] = []

    var orderId: String { order.orderId }
    var side: ExchangeSide { order.side }
    var quantity: Int64 { order.quantity }
    var orderType: ExchangeOrderType { order.orderType }

    init(_ order: ExchangeNewOrder, instrument: Int) {
        self.order = order
        self.instrument = instrument
        leavesQuantity = order.quantity
    }
}

/// An order that is done (filled, canceled or rejected), as the session remembers it.
struct DoneOrder: Sendable {
    let order: ExchangeNewOrder
    let cumulativeQuantity: Int64
    let state: ExchangeOrderState
    let reason: String?
    let executions: [PastExecution]
}
