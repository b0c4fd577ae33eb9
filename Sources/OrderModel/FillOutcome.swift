/// What applying a fill to a batch did.
public enum FillOutcome: Hashable, Sendable {
    /// The fill was applied: how it was split and the updates of the members whose state changed.
    case applied(FillAllocation)
    /// The fill's `fillId` was applied before: nothing changed.
    case duplicate
    /// The fill was refused: nothing changed.
    case rejected(FillRejection)

    /// The allocation, when the fill was applied.
    public var allocation: FillAllocation? {
        if case .applied(let allocation) = self { return allocation }
        return nil
    }
}

/// How one fill was split over a batch's members.
public struct FillAllocation: Hashable, Sendable {
    /// The fill.
    public var fillId: String
    /// Per member, in arrival order: the units allocated (for an execution) or canceled (for a `rejected` or
    /// `canceled` fill). They sum to the fill's `quantity` (or `leavesQuantity`).
    public var quantities: [Int64]
    /// The order updates, in member order: one per member that got units from an execution, one per member
    /// that a `rejected`/`canceled` fill brought to a terminal status.
    public var updates: [OrderUpdate]

    /// Creates an allocation.
    public init(fillId: String, quantities: [Int64], updates: [OrderUpdate]) {
        self.fillId = fillId
        self.quantities = quantities
        self.updates = updates
    }
}

/// Why a fill was not applied to a batch.
public struct FillRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// An opaque category. Compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The category's name.
        public var description: String { name }

        /// The fill names another batch, symbol or side.
        public static let wrongBatch = Code("wrong batch")
        /// The fill's numbers break the fill rules (an execution of 0 units or at price 0, ...).
        public static let invalidFill = Code("invalid fill")
        /// The fill executes or cancels more units than the batch has open.
        public static let exceedsOpenQuantity = Code("exceeds open quantity")
    }

    /// The category.
    public var code: Code
    /// What is wrong, for people and for a dead letter's `error.message`.
    public var reason: String

    /// Creates a rejection.
    public init(code: Code, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// The reason.
    public var description: String { reason }
}
