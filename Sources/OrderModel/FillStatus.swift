/// The state of an exchange order after one of its executions, as a fill reports it.
public enum FillStatus: String, Hashable, Sendable, CaseIterable {
    /// The exchange order executed in part; more may follow.
    case partiallyFilled = "partially_filled"
    /// The exchange order executed in full. Terminal.
    case filled
    /// The exchange refused the exchange order; its `leavesQuantity` will never execute. Terminal.
    case rejected
    /// The exchange order was canceled; its `leavesQuantity` will never execute. Terminal.
    case canceled

    /// Whether the exchange order is done: nothing more executes after this fill.
    public var isTerminal: Bool { self != .partiallyFilled }

    /// Whether this fill reports an execution (`partially_filled`, `filled`): a quantity at a price.
    /// `rejected` and `canceled` fills execute nothing; they end part of a batch instead.
    public var isExecution: Bool { self == .partiallyFilled || self == .filled }
}
