import TestSupport
import Testing

@testable import OrderModel

/// Random batches and random fill sequences from seeded generators: reproducible, thousands of cases.
@Suite("Allocation: properties over random batches and fills")
struct PropertyTests {
    /// One random run: a batch, the fills delivered to it (with duplicates, oversized fills, cancellations),
    /// what the state machine answered, and the updates it produced.
    struct Run {
        var batch: Batch
        var deliveries: [Fill] = []
        var outcomes: [FillOutcome] = []
        var updates: [OrderUpdate] = []
        var final: BatchAllocation
    }

    /// Rounds `notional / quantity` to the nearest tick, halves up, written independently of the module.
    static func expectedAverage(_ notional: Int128, _ quantity: Int64) -> Int64 {
        quantity == 0 ? 0 : Int64((2 * notional + Int128(quantity)) / (2 * Int128(quantity)))
    }

    static func randomBatch(_ index: Int, using generator: inout SplitMix64) -> Batch {
        let count = Int.random(in: 1...25, using: &generator)
        let small = Bool.random(using: &generator)  // small quantities make ties and leftovers common
        let quantities = (0..<count).map { _ in Int64.random(in: 1...(small ? 5 : 10_000), using: &generator) }
        return makeBatch(quantities, id: "b-\(index)")
    }

    /// Delivers random fills to a batch, checking invariants 1 to 6 after every delivery.
    static func run(_ index: Int, using generator: inout SplitMix64) throws -> Run {
        let batch = randomBatch(index, using: &generator)
        var state = try BatchAllocation(batch: batch)
        var result = Run(batch: batch, final: state)
        var applied: [Fill] = []
        var executed: Int64 = 0
        var notionals = [Int128](repeating: 0, count: batch.members.count)
        var terminalUpdates = [Int](repeating: 0, count: batch.members.count)
        var fillNumber = 0

        func nextFill(_ quantity: Int64, status: FillStatus = .partiallyFilled) -> Fill {
            fillNumber += 1
            var fill = makeFill("f-\(index)-\(fillNumber)", quantity, at: "1", batch: batch.batchId, status: status)
            fill.price = Price(ticks: Int64.random(in: 1...2_000_000, using: &generator))
            return fill
        }

        let steps = Int.random(in: 1...30, using: &generator)
        for _ in 0..<steps {
            let open = state.openQuantity
            let roll = Int.random(in: 0..<100, using: &generator)
            let fill: Fill
            if roll < 12, let earlier = applied.randomElement(using: &generator) {
                fill = earlier  // a redelivery
            } else if roll < 20 {
                fill = nextFill(open + Int64.random(in: 1...50, using: &generator))  // more than is open
            } else if roll < 28 {
                var cancel = makeCancel(
                    "f-\(index)-c\(fillNumber)", leaves: Int64.random(in: 0...open, using: &generator), batch: batch.batchId,
                    status: Bool.random(using: &generator) ? .canceled : .rejected)
                fillNumber += 1
                cancel.fillId += "-\(fillNumber)"
                fill = cancel
            } else if open > 0 {
                let all = Int.random(in: 0..<5, using: &generator) == 0
                fill = nextFill(all ? open : Int64.random(in: 1...open, using: &generator), status: all ? .filled : .partiallyFilled)
            } else {
                continue
            }

            let before = state
            let outcome = state.apply(fill)
            result.deliveries.append(fill)
            result.outcomes.append(outcome)
            let units = fill.status.isExecution ? fill.quantity : fill.leavesQuantity

            switch outcome {
            case .duplicate:
                // 5: a second delivery changes nothing.
                #expect(applied.contains { $0.fillId == fill.fillId })
                #expect(state == before)
            case .rejected(let rejection):
                #expect(units > before.openQuantity, "\(rejection)")
                #expect(state == before)
            case .applied(let allocation):
                #expect(!applied.contains { $0.fillId == fill.fillId })
                applied.append(fill)
                // 1: the allocation sums to the fill (or to the canceled leaves), each share within the open units.
                #expect(allocation.quantities.reduce(0, +) == units)
                for (share, member) in zip(allocation.quantities, before.members) {
                    #expect(share >= 0 && share <= member.openQuantity)
                }
                if fill.status.isExecution {
                    executed += fill.quantity
                    for (member, share) in allocation.quantities.enumerated() {
                        notionals[member] += Int128(share) * Int128(fill.price.ticks)
                    }
                }
                for update in allocation.updates {
                    let member = try #require(batch.members.firstIndex { $0.clientOrderId == update.clientOrderId })
                    // 6: nothing after a terminal status; at most one terminal update per member.
                    #expect(!before.members[member].status.isTerminal)
                    if update.status.isTerminal { terminalUpdates[member] += 1 }
                    // 2 and 4, as the update says it.
                    #expect(update.cumulativeQuantity + update.leavesQuantity == batch.members[member].quantity)
                    #expect(update.notional == notionals[member])
                    #expect(update.averagePrice.ticks == expectedAverage(notionals[member], update.cumulativeQuantity))
                    #expect(update.lastQuantity == (fill.status.isExecution ? allocation.quantities[member] : 0))
                }
                result.updates += allocation.updates
            }

            // 2: every member's quantities; 3: the batch's totals; 4: exact notionals; 6: terminal is final.
            for (member, state) in zip(batch.members.indices, state.members) {
                #expect(state.cumulativeQuantity >= 0 && state.cumulativeQuantity <= state.quantity)
                #expect(state.cumulativeQuantity + state.leavesQuantity == state.quantity)
                #expect(state.openQuantity >= 0)
                #expect(state.averagePrice.notional == notionals[member])
                #expect(state.averagePrice.quantity == state.cumulativeQuantity)
                if before.members[member].status.isTerminal { #expect(state.status == before.members[member].status) }
                #expect(terminalUpdates[member] <= 1)
                #expect(state.status.isTerminal == (state.openQuantity == 0))
            }
            #expect(state.members.map(\.cumulativeQuantity).reduce(0, +) == executed)
            #expect(state.filledQuantity == executed)
            #expect(executed <= batch.quantity)
        }
        // 6: a member is terminal exactly when it got its one terminal update.
        for (member, state) in state.members.enumerated() {
            #expect(state.status.isTerminal == (terminalUpdates[member] == 1))
        }
        result.final = state
        return result
    }

    @Test("Random batches and fills keep invariants 1 to 6", arguments: [1, 2, 3, 4] as [UInt64])
    func invariantsHold(_ seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        var applied = 0
        var cancellations = 0
        var duplicates = 0
        var rejected = 0
        var terminal = 0
        for index in 0..<1_000 {
            let run = try Self.run(index, using: &generator)
            for (fill, outcome) in zip(run.deliveries, run.outcomes) {
                switch outcome {
                case .applied: if fill.status.isExecution { applied += 1 } else { cancellations += 1 }
                case .duplicate: duplicates += 1
                case .rejected: rejected += 1
                }
            }
            terminal += run.updates.filter(\.status.isTerminal).count
        }
        // The runs exercise every path, often.
        #expect(applied > 3_000 && cancellations > 500 && duplicates > 500 && rejected > 500 && terminal > 3_000)
    }

    @Test("7: the same inputs give the same allocations", arguments: [11, 12] as [UInt64])
    func deterministic(_ seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        for index in 0..<500 {
            let run = try Self.run(index, using: &generator)
            var replay = try BatchAllocation(batch: run.batch)
            let outcomes = run.deliveries.map { replay.apply($0) }
            #expect(outcomes == run.outcomes)
            #expect(replay == run.final)
        }
        // And the same seed gives the same runs.
        var first = SplitMix64(seed: seed)
        var second = SplitMix64(seed: seed)
        for index in 0..<50 {
            let a = try Self.run(index, using: &first)
            let b = try Self.run(index, using: &second)
            #expect(a.outcomes == b.outcomes && a.final == b.final)
        }
    }

    @Test("5: delivering every fill twice, anywhere later, changes nothing", arguments: [21, 22] as [UInt64])
    func duplicatesChangeNothing(_ seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        for index in 0..<500 {
            let run = try Self.run(index, using: &generator)
            // Interleave a redelivery of each fill at a random later point.
            var stream: [Fill] = []
            var pending: [Fill] = []
            for fill in run.deliveries {
                stream.append(fill)
                pending.append(fill)
                if Bool.random(using: &generator), let index = pending.indices.randomElement(using: &generator) {
                    stream.append(pending.remove(at: index))
                }
            }
            stream += pending.shuffled(using: &generator)
            var state = try BatchAllocation(batch: run.batch)
            var updates: [OrderUpdate] = []
            for fill in stream {
                if case .applied(let allocation) = state.apply(fill) { updates += allocation.updates }
            }
            #expect(state == run.final)
            #expect(updates == run.updates)
        }
    }

    @Test("The audit finds nothing wrong in random runs", arguments: [31, 32] as [UInt64])
    func auditAgrees(_ seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        for index in 0..<300 {
            let run = try Self.run(index, using: &generator)
            let orders = run.batch.members.map {
                ClientOrder(
                    clientOrderId: $0.clientOrderId, userId: $0.userId, symbol: run.batch.symbol, side: run.batch.side,
                    quantity: $0.quantity, orderType: .market)
            }
            let batched = orders.map { OrderUpdate(order: $0, status: .batched, batchId: run.batch.batchId) }
            let violations = OrderAudit.violations(
                clientOrders: orders, batches: [run.batch], fills: run.deliveries.filter { isAcceptedFill($0, run) },
                updates: batched + run.updates, requireTerminal: run.final.isComplete)
            #expect(violations.isEmpty, "\(violations.prefix(3))")
        }
    }

    func isAcceptedFill(_ fill: Fill, _ run: Run) -> Bool {
        zip(run.deliveries, run.outcomes).contains { delivered, outcome in
            delivered == fill && outcome.allocation != nil
        }
    }
}
