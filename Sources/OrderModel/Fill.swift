/// One execution report of an exchange order (topic `fills`, keyed by `symbol`).
///
/// An execution (`partially_filled`, `filled`) carries the `quantity` that executed (> 0) at `price` (> 0).
/// A `rejected` or `canceled` fill executes nothing: its `quantity` is 0, and its `leavesQuantity` is the part
/// of the exchange order that will now never execute (its `price` may be left out, and is then 0).
/// `cumulativeQuantity` and `leavesQuantity` are the exchange order's, after this report.
public struct Fill: Hashable, Sendable {
    /// Unique per execution: a fill delivered twice has the same `fillId`.
    public var fillId: String
    /// The exchange order that executed.
    public var exchangeOrderId: String
    /// The batch the exchange order works.
    public var batchId: String
    /// The instrument (also the Kafka key).
    public var symbol: String
    /// Buy or sell: the batch's side.
    public var side: Side
    /// Units executed by this execution; 0 for `rejected` and `canceled`.
    public var quantity: Int64
    /// The price of this execution; 0 when nothing executed.
    public var price: Price
    /// The exchange order's executed units so far, this execution included.
    public var cumulativeQuantity: Int64
    /// The exchange order's units still open (or, for `rejected`/`canceled`, that will never execute).
    public var leavesQuantity: Int64
    /// The exchange order's state after this report.
    public var status: FillStatus
    /// Why the exchange rejected or canceled the order, when it said (an addition to the contract; optional).
    public var reason: String?

    /// Creates a fill. It is not validated: see ``validationErrors()``.
    public init(
        fillId: String, exchangeOrderId: String, batchId: String, symbol: String, side: Side, quantity: Int64,
        price: Price, cumulativeQuantity: Int64, leavesQuantity: Int64, status: FillStatus, reason: String? = nil
    ) {
        self.fillId = fillId
        self.exchangeOrderId = exchangeOrderId
        self.batchId = batchId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.price = price
        self.cumulativeQuantity = cumulativeQuantity
        self.leavesQuantity = leavesQuantity
        self.status = status
        self.reason = reason
    }

    /// Every rule this fill breaks (the ones decoding enforces); empty when it is valid. Beyond each field's own
    /// rules: an execution has `quantity` > 0 and `price` > 0; a `rejected`/`canceled` fill has `quantity` 0.
    public func validationErrors() -> [ValidationError] {
        [
            FieldRules.identifier(fillId)?.named("fillId"),
            FieldRules.identifier(exchangeOrderId)?.named("exchangeOrderId"),
            FieldRules.identifier(batchId)?.named("batchId"),
            FieldRules.symbol(symbol)?.named("symbol"),
            FieldRules.nonNegativeQuantity(quantity)?.named("quantity"),
            FieldRules.nonNegativeQuantity(cumulativeQuantity)?.named("cumulativeQuantity"),
            FieldRules.nonNegativeQuantity(leavesQuantity)?.named("leavesQuantity"),
            reason.flatMap { FieldRules.reason($0)?.named("reason") },
        ].compactMap { $0 } + FillRules.status(status, quantity: quantity, price: price)
    }
}
