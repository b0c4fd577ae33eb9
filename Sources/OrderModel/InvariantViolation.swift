/// A broken invariant of `pipeline.md`, found by ``OrderAudit``.
public struct InvariantViolation: Hashable, Sendable, CustomStringConvertible {
    /// Which invariant. The static members are the seven of `pipeline.md` (their `number`) plus
    /// ``consistentInput`` (number 0) for inputs that contradict each other.
    public struct Invariant: Hashable, Sendable, Comparable, CustomStringConvertible {
        /// The invariant's number in `pipeline.md`; 0 for ``consistentInput``.
        public let number: Int
        /// A short name.
        public let name: String

        private init(_ number: Int, _ name: String) {
            self.number = number
            self.name = name
        }

        /// 1. The quantities allocated from a fill sum to that fill's quantity.
        public static let fillFullyAllocated = Invariant(1, "allocations sum to the fill")
        /// 2. For every client order: 0 <= cumulativeQuantity <= quantity, and cumulative + leaves == quantity.
        public static let orderQuantities = Invariant(2, "order quantities")
        /// 3. The allocations of a batch sum to its fills, and never exceed the batch quantity.
        public static let batchTotals = Invariant(3, "batch totals")
        /// 4. averagePrice × cumulativeQuantity == Σ allocated quantity × price (exact).
        public static let exactAveragePrice = Invariant(4, "exact average price")
        /// 5. A fill delivered twice changes nothing the second time.
        public static let idempotentFills = Invariant(5, "idempotent fills")
        /// 6. Each client order reaches exactly one terminal status, which never changes.
        public static let singleTerminalStatus = Invariant(6, "one terminal status")
        /// 7. The same inputs give the same allocations.
        public static let deterministicAllocation = Invariant(7, "deterministic allocation")
        /// The inputs contradict each other (an update for an unknown order, a fill id reused with other
        /// content, an order in two batches, ...).
        public static let consistentInput = Invariant(0, "consistent input")

        /// Orders by number.
        public static func < (lhs: Invariant, rhs: Invariant) -> Bool { lhs.number < rhs.number }

        /// `invariant 4 (exact average price)`, or `consistent input`.
        public var description: String { number == 0 ? name : "invariant \(number) (\(name))" }
    }

    /// The invariant broken.
    public var invariant: Invariant
    /// What broke it: `order alice/c-1001`, `fill f-9001`, `batch b-AAPL-buy-1`.
    public var subject: String
    /// What is wrong, with the numbers.
    public var reason: String

    /// Creates a violation.
    public init(invariant: Invariant, subject: String, reason: String) {
        self.invariant = invariant
        self.subject = subject
        self.reason = reason
    }

    /// `invariant 2 (order quantities): order alice/c-1: cumulativeQuantity 310 exceeds quantity 300`.
    public var description: String { "\(invariant): \(subject): \(reason)" }
}
