/// The payload of an `order_status`: the current state of an order the session already knows, sent in
/// answer to a `new_order` with the same id instead of placing (and executing) it again.
///
/// `cumulativeQuantity + leavesQuantity == quantity` while the order is open; a done order has
/// `leavesQuantity` 0. The executions add up to `cumulativeQuantity`, oldest first; when they are too many
/// for one message, the older ones come first as `execution` messages with their original ids (see
/// `docs/exchange-protocol.md`), and ``executionsOmitted`` says how many.
public struct ExchangeOrderStatus: Hashable, Sendable {
    /// One past execution of the order.
    public struct Execution: Hashable, Sendable {
        /// The id the execution had when it was sent: unique within the session.
        public var executionId: String
        /// The quantity of this execution.
        public var quantity: Int64
        /// Its price.
        public var price: ExchangePrice

        /// Creates an execution entry.
        public init(executionId: String, quantity: Int64, price: ExchangePrice) {
            self.executionId = executionId
            self.quantity = quantity
            self.price = price
        }
    }

    /// The client's order id.
    public var orderId: String
    /// The instrument.
    public var symbol: String
    /// The side of the order.
    public var side: ExchangeSide
    /// The order quantity.
    public var quantity: Int64
    /// Filled so far.
    public var cumulativeQuantity: Int64
    /// Still open (0 once the order is done).
    public var leavesQuantity: Int64
    /// Where the order is in its life.
    public var status: ExchangeOrderState
    /// Why a `canceled` or `rejected` order ended (the cancel reason, or the reject's code and reason).
    public var reason: String?
    /// The latest executions, oldest first (all of them unless ``executionsOmitted`` > 0).
    public var executions: [Execution]
    /// How many older executions are not listed (they were sent just before as `execution` messages).
    public var executionsOmitted: Int64

    /// Creates an order status payload.
    public init(
        orderId: String, symbol: String, side: ExchangeSide, quantity: Int64, cumulativeQuantity: Int64, leavesQuantity: Int64,
        status: ExchangeOrderState, reason: String? = nil, executions: [Execution], executionsOmitted: Int64 = 0
    ) {
        self.orderId = orderId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.cumulativeQuantity = cumulativeQuantity
        self.leavesQuantity = leavesQuantity
        self.status = status
        self.reason = reason
        self.executions = executions
        self.executionsOmitted = executionsOmitted
    }
}

/// The state of an order in an `order_status`. The raw value is the wire spelling.
public enum ExchangeOrderState: String, Hashable, Sendable, CaseIterable {
    /// Accepted, resting, nothing traded yet.
    case open
    /// Resting, some traded.
    case partiallyFilled = "partially_filled"
    /// All traded; done.
    case filled
    /// The open rest was canceled; done.
    case canceled
    /// Refused when it arrived; done, nothing traded.
    case rejected

    /// Whether the order is done (nothing more will happen to it).
    public var isDone: Bool {
        switch self {
        case .open, .partiallyFilled: false
        case .filled, .canceled, .rejected: true
        }
    }
}
