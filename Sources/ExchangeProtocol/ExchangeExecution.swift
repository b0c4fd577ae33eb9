/// The payload of an `execution`: one trade of part or all of an order.
///
/// For every execution `cumulativeQuantity + leavesQuantity == ` the order quantity, and `status` is
/// ``ExchangeExecutionStatus/filled`` exactly when `leavesQuantity == 0`.
public struct ExchangeExecution: Hashable, Sendable {
    /// Unique among all executions of a session (the configured prefix and a counter, e.g. `"E17"`).
    public var executionId: String
    /// The client's order id.
    public var orderId: String
    /// The instrument.
    public var symbol: String
    /// The side of the order.
    public var side: ExchangeSide
    /// The quantity of this execution, always positive.
    public var quantity: Int64
    /// The price of this execution: the price of the order that was resting in the book.
    public var price: ExchangePrice
    /// The quantity of the order filled so far, this execution included.
    public var cumulativeQuantity: Int64
    /// The quantity of the order still open after this execution.
    public var leavesQuantity: Int64
    /// `partially_filled` or `filled`.
    public var status: ExchangeExecutionStatus

    /// Creates an execution payload.
    public init(
        executionId: String,
        orderId: String,
        symbol: String,
        side: ExchangeSide,
        quantity: Int64,
        price: ExchangePrice,
        cumulativeQuantity: Int64,
        leavesQuantity: Int64,
        status: ExchangeExecutionStatus
    ) {
        self.executionId = executionId
        self.orderId = orderId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.cumulativeQuantity = cumulativeQuantity
        self.leavesQuantity = leavesQuantity
        self.status = status
    }
}

/// The status of an order after an execution. The raw value is the wire spelling.
public enum ExchangeExecutionStatus: String, Hashable, Sendable, CaseIterable {
    /// Some of the order is still open.
    case partiallyFilled = "partially_filled"
    /// All of the order traded; it is done.
    case filled
}
