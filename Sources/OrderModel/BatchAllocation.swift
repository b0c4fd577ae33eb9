/// The allocation state of one batch: applies its fills to its members and yields their order updates.
///
/// A pure, deterministic state machine (invariant 7): the same batch and the same fills in the same order
/// always give the same state and the same updates, so a replica rebuilds it after a restart by replaying them.
///
/// - An execution (`partially_filled`, `filled`) is split over the members pro-rata to their open quantity
///   (``ProRata/allocate(_:over:)``); every member gets the fill's price. Each member that gets units gets one
///   update: `partially_filled`, or `filled` once its cumulative quantity reaches its quantity.
/// - A `rejected` or `canceled` fill says `leavesQuantity` units of the batch will never execute. Those units
///   are taken pro-rata from the members' open quantity in the same way. A member left with nothing open and
///   less than its quantity executed reaches that terminal status (`rejected` or `canceled`) with its leaves;
///   a member that still has units open keeps working, and reaches the status when its last open units
///   execute or are canceled.
/// - A fill is applied once: a second delivery of a `fillId` is a ``FillOutcome/duplicate`` and changes nothing
///   (invariant 5), even when its content differs.
/// - A fill that does not fit (more units than the batch has open, another batch, symbol or side, numbers
///   that break ``Fill``'s rules) is ``FillOutcome/rejected(_:)`` with a reason and changes nothing.
public struct BatchAllocation: Hashable, Sendable {
    /// A snapshot of one member's progress.
    public struct MemberState: Hashable, Sendable {
        /// The member as the batch listed it.
        public let member: Batch.Member
        /// Units allocated so far.
        public let cumulativeQuantity: Int64
        /// Units taken away by `rejected`/`canceled` fills: they will never execute.
        public let canceledQuantity: Int64
        /// The exact average price of what was allocated.
        public let averagePrice: AveragePrice
        /// The member's status: `batched` until something happens, terminal once nothing is open.
        public let status: OrderStatus
        /// The terminal status the member takes when its open units run out short of its quantity: the status
        /// of the first `rejected`/`canceled` fill that took units from it.
        public let closingStatus: OrderStatus?
        /// The reason that goes with ``closingStatus``.
        public let closingReason: String?

        /// The member's quantity.
        public var quantity: Int64 { member.quantity }
        /// Units not executed: `quantity - cumulativeQuantity` (the contract's `leavesQuantity`).
        public var leavesQuantity: Int64 { member.quantity - cumulativeQuantity }
        /// Units that may still execute: leaves minus what was canceled.
        public var openQuantity: Int64 { member.quantity - cumulativeQuantity - canceledQuantity }
    }

    /// A member's numbers, kept apart from its strings so that updating them copies nothing counted.
    struct Progress: Hashable, Sendable {
        var quantity: Int64
        var cumulativeQuantity: Int64 = 0
        var canceledQuantity: Int64 = 0
        var notional: Int128 = 0
        var status: OrderStatus = .batched
        var closingStatus: OrderStatus?

        var openQuantity: Int64 { quantity - cumulativeQuantity - canceledQuantity }
    }

    /// The batch's id.
    public let batchId: String
    /// The batch's symbol.
    public let symbol: String
    /// The batch's side.
    public let side: Side
    /// The batch's quantity.
    public let quantity: Int64
    /// The members as the batch listed them, in arrival order.
    public let batchMembers: [Batch.Member]
    private var progress: [Progress]
    /// The reason of each member's ``MemberState/closingStatus``, by member index.
    private var closingReasons: [Int: String] = [:]
    /// The fills applied so far (executions and cancellations), for idempotence.
    public private(set) var appliedFillIds: Set<String> = []
    /// Units executed so far: the sum of the applied executions.
    public private(set) var filledQuantity: Int64 = 0
    /// Units that will never execute: the sum of the applied `rejected`/`canceled` leaves.
    public private(set) var canceledQuantity: Int64 = 0

    /// Starts the allocation of a batch, with every member `batched` and nothing executed.
    ///
    /// - Throws: ``ValidationErrors`` when the batch breaks its rules (see ``Batch/validationErrors()``).
    public init(batch: Batch) throws(ValidationErrors) {
        let problems = batch.validationErrors()
        guard problems.isEmpty else { throw ValidationErrors(problems) }
        batchId = batch.batchId
        symbol = batch.symbol
        side = batch.side
        quantity = batch.quantity
        batchMembers = batch.members
        progress = batch.members.map { Progress(quantity: $0.quantity) }
    }

    /// Every member's progress, in arrival order.
    public var members: [MemberState] {
        batchMembers.indices.map(member(at:))
    }

    /// One member's progress.
    public func member(at index: Int) -> MemberState {
        let numbers = progress[index]
        return MemberState(
            member: batchMembers[index], cumulativeQuantity: numbers.cumulativeQuantity,
            canceledQuantity: numbers.canceledQuantity,
            averagePrice: AveragePrice(notional: numbers.notional, quantity: numbers.cumulativeQuantity),
            status: numbers.status, closingStatus: numbers.closingStatus, closingReason: closingReasons[index])
    }

    /// Units that may still execute: the batch's quantity minus what executed and what was canceled.
    public var openQuantity: Int64 { quantity - filledQuantity - canceledQuantity }

    /// Whether every member has reached a terminal status: nothing more can happen to this batch.
    public var isComplete: Bool { openQuantity == 0 }

    /// Applies one fill, or recognizes it as a duplicate, or rejects it; see the type's rules.
    public mutating func apply(_ fill: Fill) -> FillOutcome {
        if appliedFillIds.contains(fill.fillId) { return .duplicate }
        if let rejection = check(fill) { return .rejected(rejection) }
        let units = fill.status.isExecution ? fill.quantity : fill.leavesQuantity
        guard units <= openQuantity else {
            return .rejected(
                FillRejection(
                    code: .exceedsOpenQuantity,
                    reason: "the fill \(fill.status.isExecution ? "executes" : "cancels") \(units) units but batch \(batchId) has only \(openQuantity) open"))
        }
        // `units <= openQuantity == Σ open`, so the allocation exists.
        let shares = ProRata.allocate(units, over: progress.map(\.openQuantity))!
        appliedFillIds.insert(fill.fillId)
        var updates: [OrderUpdate] = []
        if fill.status.isExecution {
            filledQuantity += units
            updates.reserveCapacity(progress.count)
            for index in progress.indices where shares[index] > 0 {
                let share = shares[index]
                progress[index].cumulativeQuantity += share
                progress[index].notional += fill.price.notional(quantity: share)
                settleStatus(ofMemberAt: index, whenOpen: .partiallyFilled)
                updates.append(update(forMemberAt: index, lastQuantity: share, fill: fill))
            }
        } else {
            canceledQuantity += units
            let closingStatus: OrderStatus = fill.status == .rejected ? .rejected : .canceled
            let reason = fill.reason ?? "exchange order \(fill.exchangeOrderId) was \(fill.status.rawValue)"
            for index in progress.indices where shares[index] > 0 {
                progress[index].canceledQuantity += shares[index]
                if progress[index].closingStatus == nil {
                    progress[index].closingStatus = closingStatus
                    closingReasons[index] = reason
                }
                let before = progress[index].status
                settleStatus(ofMemberAt: index, whenOpen: before)
                if progress[index].status != before {
                    updates.append(update(forMemberAt: index, lastQuantity: 0, fill: fill))
                }
            }
        }
        return .applied(FillAllocation(fillId: fill.fillId, quantities: shares, updates: updates))
    }

    /// The state of a member as an order update carrying no allocation (for a rebuilt view or a snapshot).
    public func currentUpdate(ofMemberAt index: Int) -> OrderUpdate {
        let numbers = progress[index]
        return OrderUpdate(
            clientOrderId: batchMembers[index].clientOrderId, userId: batchMembers[index].userId, symbol: symbol,
            side: side, status: numbers.status, cumulativeQuantity: numbers.cumulativeQuantity,
            leavesQuantity: numbers.quantity - numbers.cumulativeQuantity, notional: numbers.notional, batchId: batchId,
            reason: numbers.status == .rejected || numbers.status == .canceled ? closingReasons[index] : nil)
    }

    private mutating func settleStatus(ofMemberAt index: Int, whenOpen openStatus: OrderStatus) {
        if progress[index].openQuantity > 0 {
            progress[index].status = openStatus
        } else if progress[index].cumulativeQuantity == progress[index].quantity {
            progress[index].status = .filled
        } else {
            progress[index].status = progress[index].closingStatus ?? .canceled
        }
    }

    private func update(forMemberAt index: Int, lastQuantity: Int64, fill: Fill) -> OrderUpdate {
        let numbers = progress[index]
        let closing = numbers.status == .rejected || numbers.status == .canceled
        return OrderUpdate(
            clientOrderId: batchMembers[index].clientOrderId, userId: batchMembers[index].userId, symbol: symbol,
            side: side, status: numbers.status, lastQuantity: lastQuantity, lastPrice: lastQuantity > 0 ? fill.price : .zero,
            cumulativeQuantity: numbers.cumulativeQuantity, leavesQuantity: numbers.quantity - numbers.cumulativeQuantity,
            averagePrice: Price(ticks: AveragePrice.roundedTicks(notional: numbers.notional, quantity: numbers.cumulativeQuantity)),
            notional: numbers.notional, batchId: batchId, fillId: fill.fillId, reason: closing ? closingReasons[index] : nil)
    }

    private func check(_ fill: Fill) -> FillRejection? {
        if fill.batchId != batchId {
            return FillRejection(code: .wrongBatch, reason: "the fill is for batch \(fill.batchId), not \(batchId)")
        }
        if fill.symbol != symbol {
            return FillRejection(code: .wrongBatch, reason: "the fill's symbol \(fill.symbol) is not the batch's \(symbol)")
        }
        if fill.side != side {
            return FillRejection(code: .wrongBatch, reason: "the fill's side \(fill.side.rawValue) is not the batch's \(side.rawValue)")
        }
        let numbersFit =
            fill.quantity >= 0 && fill.leavesQuantity >= 0
            && (fill.status.isExecution ? fill.quantity > 0 && fill.price.ticks > 0 : fill.quantity == 0)
        if !numbersFit {
            let problems =
                [
                    FieldRules.nonNegativeQuantity(fill.quantity)?.named("quantity"),
                    FieldRules.nonNegativeQuantity(fill.leavesQuantity)?.named("leavesQuantity"),
                ].compactMap { $0 } + FillRules.status(fill.status, quantity: fill.quantity, price: fill.price)
            return FillRejection(code: .invalidFill, reason: ValidationErrors(problems).description)
        }
        return nil
    }
}
