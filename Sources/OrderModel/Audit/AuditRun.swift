import WireJSON

/// One audit: the inputs indexed, and the violations found so far.
struct AuditRun {
    var violations: [InvariantViolation] = []
    private var orders: [OrderKey: ClientOrder] = [:]
    private var orderKeys: [OrderKey] = []
    private var batches: [String: Batch] = [:]
    private var batchIds: [String] = []
    private var batchOfOrder: [OrderKey: String] = [:]
    private var memberQuantity: [OrderKey: Int64] = [:]
    /// Distinct fills in first-seen order, and every delivery (for the replay).
    private var fills: [String: Fill] = [:]
    private var fillIds: [String] = []
    private let fillDeliveries: [Fill]
    /// Distinct updates per order, in order.
    private var updatesByOrder: [OrderKey: [OrderUpdate]] = [:]
    private var updateKeys: [OrderKey] = []
    /// Observed allocations: (order, fill) → lastQuantity.
    private var allocations: [AllocationKey: Int64] = [:]
    private var allocatedByFill: [String: Int64] = [:]

    struct AllocationKey: Hashable {
        var order: OrderKey
        var fillId: String
    }

    init(clientOrders: [ClientOrder], batches: [Batch], fills: [Fill], updates: [OrderUpdate]) {
        fillDeliveries = fills
        for order in clientOrders {
            if let known = orders[order.orderKey] {
                if known != order {
                    report(.consistentInput, order: order.orderKey, "the client order appears twice with different content")
                }
                continue
            }
            orders[order.orderKey] = order
            orderKeys.append(order.orderKey)
        }
        for batch in batches {
            if let known = self.batches[batch.batchId] {
                if known != batch {
                    report(.consistentInput, batch: batch.batchId, "the batch appears twice with different content")
                }
                continue
            }
            self.batches[batch.batchId] = batch
            batchIds.append(batch.batchId)
            for member in batch.members {
                if let other = batchOfOrder[member.orderKey], other != batch.batchId {
                    report(.consistentInput, order: member.orderKey, "is a member of batches \(other) and \(batch.batchId)")
                    continue
                }
                batchOfOrder[member.orderKey] = batch.batchId
                memberQuantity[member.orderKey] = member.quantity
                if let order = orders[member.orderKey], order.quantity != member.quantity {
                    report(
                        .consistentInput, order: member.orderKey,
                        "has quantity \(order.quantity) but batch \(batch.batchId) lists \(member.quantity)")
                }
            }
        }
        for fill in fills {
            if let known = self.fills[fill.fillId] {
                if known != fill { report(.consistentInput, fill: fill.fillId, "the fill id is reused with different content") }
                continue
            }
            self.fills[fill.fillId] = fill
            fillIds.append(fill.fillId)
        }
        var seen = Set<OrderUpdate>()
        for update in updates where seen.insert(update).inserted {
            if updatesByOrder[update.orderKey] == nil { updateKeys.append(update.orderKey) }
            updatesByOrder[update.orderKey, default: []].append(update)
        }
    }

    // MARK: Reporting

    mutating func report(_ invariant: InvariantViolation.Invariant, order: OrderKey, _ reason: String) {
        violations.append(InvariantViolation(invariant: invariant, subject: "order \(order)", reason: reason))
    }

    mutating func report(_ invariant: InvariantViolation.Invariant, fill: String, _ reason: String) {
        violations.append(InvariantViolation(invariant: invariant, subject: "fill \(fill)", reason: reason))
    }

    mutating func report(_ invariant: InvariantViolation.Invariant, batch: String, _ reason: String) {
        violations.append(InvariantViolation(invariant: invariant, subject: "batch \(batch)", reason: reason))
    }

    // MARK: Orders (2, 4, 5, 6)

    mutating func checkOrders(requireTerminal: Bool) {
        for key in updateKeys {
            checkOrder(key, updatesByOrder[key] ?? [], requireTerminal: requireTerminal)
        }
        guard requireTerminal else { return }
        for key in orderKeys where updatesByOrder[key] == nil {
            report(.singleTerminalStatus, order: key, "has no order update, so it never reached a terminal status")
        }
    }

    private mutating func checkOrder(_ key: OrderKey, _ updates: [OrderUpdate], requireTerminal: Bool) {
        let order = orders[key]
        guard let quantity = order?.quantity ?? memberQuantity[key] ?? updates.first.map({ $0.cumulativeQuantity + $0.leavesQuantity })
        else { return }
        if order == nil && memberQuantity[key] == nil {
            report(.consistentInput, order: key, "has order updates but is neither a client order nor a batch member")
        }
        var cumulative: Int64 = 0
        var notional: Int128 = 0
        var terminal: OrderUpdate?
        var fillsSeen: [String: OrderUpdate] = [:]
        for update in updates {
            if let order, update.symbol != order.symbol || update.side != order.side {
                report(.consistentInput, order: key, "an update says \(update.symbol) \(update.side.rawValue), the order \(order.symbol) \(order.side.rawValue)")
            }
            if let batchId = update.batchId, let expected = batchOfOrder[key], batchId != expected {
                report(.consistentInput, order: key, "an update names batch \(batchId), but the order is in \(expected)")
            }
            if let terminal {
                report(
                    .singleTerminalStatus, order: key,
                    "an update with status \(update.status.rawValue) (fill \(update.fillId ?? "none")) follows terminal status \(terminal.status.rawValue)")
            }
            // 5: a fill counted twice, or reported differently.
            if let fillId = update.fillId {
                if let earlier = fillsSeen[fillId] {
                    report(
                        .idempotentFills, order: key,
                        earlier.lastQuantity > 0 && update.lastQuantity > 0
                            ? "fill \(fillId) is allocated twice (\(earlier.lastQuantity), then \(update.lastQuantity))"
                            : "fill \(fillId) produced two different updates")
                } else {
                    fillsSeen[fillId] = update
                }
            }
            // 1, 4: every allocation names its fill, at the fill's price.
            if update.lastQuantity > 0 {
                if let fillId = update.fillId {
                    let allocationKey = AllocationKey(order: key, fillId: fillId)
                    allocations[allocationKey, default: 0] += update.lastQuantity
                    allocatedByFill[fillId, default: 0] += update.lastQuantity
                    if let fill = fills[fillId] {
                        if update.lastPrice != fill.price {
                            report(.exactAveragePrice, order: key, "lastPrice \(update.lastPrice) is not fill \(fillId)'s price \(fill.price)")
                        }
                        if let batchId = batchOfOrder[key], batchId != fill.batchId {
                            report(.batchTotals, order: key, "got units of fill \(fillId) of batch \(fill.batchId), but is in batch \(batchId)")
                        }
                    } else {
                        report(.consistentInput, order: key, "an update names fill \(fillId), which is not among the fills")
                    }
                } else {
                    report(.fillFullyAllocated, order: key, "an update allocates \(update.lastQuantity) units without a fillId")
                }
            }
            cumulative += update.lastQuantity
            notional += update.lastPrice.notional(quantity: update.lastQuantity)
            checkQuantities(key, update, quantity: quantity, expectedCumulative: cumulative)
            // 4: the exact notional, and the average rounded from it (from the running sum without one).
            if let carried = update.notional, carried != notional {
                report(
                    .exactAveragePrice, order: key,
                    "notional \(DecimalText.string(ticks: carried)) is not Σ lastQuantity × lastPrice = \(DecimalText.string(ticks: notional))")
            }
            let expectedAverage = AveragePrice.roundedTicks(notional: update.notional ?? notional, quantity: update.cumulativeQuantity)
            if update.averagePrice.ticks != expectedAverage {
                report(
                    .exactAveragePrice, order: key,
                    "averagePrice \(update.averagePrice) is not notional / cumulativeQuantity rounded, \(Price(ticks: expectedAverage))")
            }
            if update.status.isTerminal && terminal == nil { terminal = update }
        }
        if requireTerminal, terminal == nil, let last = updates.last {
            report(.singleTerminalStatus, order: key, "ended with status \(last.status.rawValue), not a terminal one")
        }
    }

    private mutating func checkQuantities(_ key: OrderKey, _ update: OrderUpdate, quantity: Int64, expectedCumulative: Int64) {
        let cumulative = update.cumulativeQuantity
        if cumulative < 0 || cumulative > quantity {
            report(.orderQuantities, order: key, "cumulativeQuantity \(cumulative) is outside 0...\(quantity)")
        }
        if cumulative + update.leavesQuantity != quantity {
            report(
                .orderQuantities, order: key,
                "cumulativeQuantity \(cumulative) + leavesQuantity \(update.leavesQuantity) is not the quantity \(quantity)")
        }
        if cumulative != expectedCumulative {
            report(
                .orderQuantities, order: key,
                "cumulativeQuantity \(cumulative) is not the sum of the order's allocations, \(expectedCumulative)")
        }
        let fits: Bool
        switch update.status {
        case .accepted, .batched: fits = cumulative == 0
        case .partiallyFilled: fits = cumulative > 0 && cumulative < quantity
        case .filled: fits = cumulative == quantity
        case .rejected, .canceled: fits = cumulative < quantity
        }
        if !fits {
            report(
                update.status.isTerminal ? .singleTerminalStatus : .orderQuantities, order: key,
                "status \(update.status.rawValue) does not fit cumulativeQuantity \(cumulative) of \(quantity)")
        }
    }

    // MARK: Fills (1)

    mutating func checkFills() {
        for fillId in fillIds {
            guard let fill = fills[fillId] else { continue }
            let allocated = allocatedByFill[fillId] ?? 0
            let expected = fill.status.isExecution ? fill.quantity : 0
            if allocated != expected {
                report(.fillFullyAllocated, fill: fillId, "allocated \(allocated) units in all, but the fill executed \(expected)")
            }
        }
    }

    // MARK: Batches (3)

    mutating func checkBatches() {
        var executed: [String: Int64] = [:]
        var allocated: [String: Int64] = [:]
        var order: [String] = batchIds
        for fillId in fillIds {
            guard let fill = fills[fillId], fill.status.isExecution else { continue }
            if executed[fill.batchId] == nil && batches[fill.batchId] == nil { order.append(fill.batchId) }
            executed[fill.batchId, default: 0] += fill.quantity
            allocated[fill.batchId, default: 0] += allocatedByFill[fillId] ?? 0
        }
        var memberTotals: [String: Int64] = [:]
        if batches.isEmpty {
            // Without batches, a batch's quantity is its members' (the orders whose updates name it).
            var counted = Set<OrderKey>()
            for key in updateKeys {
                guard let batchId = updatesByOrder[key]?.lazy.compactMap(\.batchId).first, counted.insert(key).inserted,
                    let quantity = orders[key]?.quantity ?? updatesByOrder[key]?.first.map({ $0.cumulativeQuantity + $0.leavesQuantity })
                else { continue }
                memberTotals[batchId, default: 0] += quantity
            }
        }
        for batchId in order {
            let executedUnits = executed[batchId] ?? 0
            let allocatedUnits = allocated[batchId] ?? 0
            if allocatedUnits != executedUnits {
                report(.batchTotals, batch: batchId, "allocations sum to \(allocatedUnits), but its fills executed \(executedUnits)")
            }
            if let limit = batches[batchId]?.quantity ?? memberTotals[batchId], executedUnits > limit {
                report(.batchTotals, batch: batchId, "its fills executed \(executedUnits), more than the batch quantity \(limit)")
            }
        }
    }

    // MARK: Replay (7)

    mutating func checkReplay() {
        guard !batches.isEmpty else { return }
        var states: [String: BatchAllocation] = [:]
        for batchId in batchIds {
            guard let batch = batches[batchId] else { continue }
            do {
                states[batchId] = try BatchAllocation(batch: batch)
            } catch {
                report(.consistentInput, batch: batchId, "the batch is invalid: \(error)")
            }
        }
        var expected: [AllocationKey: Int64] = [:]
        for fill in fillDeliveries {
            guard var state = states[fill.batchId] else { continue }
            if case .applied(let allocation) = state.apply(fill), fill.status.isExecution {
                for (index, units) in allocation.quantities.enumerated() where units > 0 {
                    expected[AllocationKey(order: state.batchMembers[index].orderKey, fillId: fill.fillId)] = units
                }
            }
            states[fill.batchId] = state
        }
        let inReplay = Set(states.keys)
        var keys = Set(expected.keys)
        for key in allocations.keys {
            guard let fill = fills[key.fillId], inReplay.contains(fill.batchId) else { continue }
            keys.insert(key)
        }
        for key in keys.sorted(by: { ($0.fillId, $0.order) < ($1.fillId, $1.order) }) {
            let want = expected[key] ?? 0
            let got = allocations[key] ?? 0
            if want != got {
                report(
                    .deterministicAllocation, order: key.order,
                    "got \(got) units of fill \(key.fillId), but the allocation rule gives \(want)")
            }
        }
    }
}
