import Testing

@testable import OrderModel

@Suite("Allocation: pro-rata examples worked by hand")
struct ProRataTests {
    struct Example: Sendable, CustomTestStringConvertible {
        let quantity: Int64
        let weights: [Int64]
        let shares: [Int64]
        let why: String
        var testDescription: String { "\(quantity) over \(weights) → \(shares): \(why)" }
    }

    static let examples: [Example] = [
        Example(quantity: 100, weights: [300, 200], shares: [60, 40], why: "exact shares, nothing left over"),
        Example(quantity: 7, weights: [5, 3, 2], shares: [4, 2, 1], why: "floors 3,2,1 (remainders 5,1,4 tenths): the 1 left goes to the largest remainder"),
        Example(quantity: 6, weights: [2, 3, 5], shares: [1, 2, 3], why: "floors 1,1,3 (remainders 2,8,0): the later member's larger remainder wins over arrival order"),
        Example(quantity: 1, weights: [1, 1], shares: [1, 0], why: "equal remainders: the earlier member wins the tie"),
        Example(quantity: 2, weights: [1, 1, 1], shares: [1, 1, 0], why: "three equal remainders, two units: the first two in arrival order"),
        Example(quantity: 5, weights: [3, 3, 4], shares: [2, 1, 2], why: "floors 1,1,2 (remainders 5,5,0): the tie between the first two goes to the first"),
        Example(quantity: 3, weights: [0, 5, 0, 5], shares: [0, 2, 0, 1], why: "members with nothing left get nothing; the tie goes to the earlier"),
        Example(quantity: 9, weights: Array(repeating: 1, count: 10), shares: Array(repeating: 1, count: 9) + [0], why: "one unit each to the first nine, never more than the leaves"),
        Example(quantity: 10, weights: [3, 7], shares: [3, 7], why: "the whole remaining quantity fills everyone"),
        Example(quantity: 0, weights: [3, 7], shares: [0, 0], why: "nothing to allocate"),
        Example(quantity: 10, weights: [1, 1, 98], shares: [0, 0, 10], why: "floors 0,0,9 (remainders 10,10,80): the largest remainder is the large member"),
        Example(
            quantity: 999_999_999_999, weights: [1_000_000_000_000, 1_000_000_000_000],
            shares: [500_000_000_000, 499_999_999_999], why: "products past Int64 are exact; the tie goes to the first"),
    ]

    @Test("Examples", arguments: examples)
    func example(_ example: Example) {
        #expect(ProRata.allocate(example.quantity, over: example.weights) == example.shares)
    }

    @Test("Impossible requests return nil")
    func impossible() {
        #expect(ProRata.allocate(11, over: [3, 7]) == nil)
        #expect(ProRata.allocate(-1, over: [3, 7]) == nil)
        #expect(ProRata.allocate(1, over: [3, -7]) == nil)
        #expect(ProRata.allocate(1, over: [Int64.max, 1]) == nil)
        #expect(ProRata.allocate(1, over: []) == nil)
        #expect(ProRata.allocate(0, over: []) == [])
    }

    @Test("Many leftover units take the sorting path and still follow the rule")
    func manyLeftovers() {
        // 5000 members of 1 unit and one of 5000: 2500 units over 10000. Each small member's exact share is 1/4
        // (remainder 2500 of 10000), the large member's is 1250 exactly. 1250 units are left over, so the first
        // 1250 small members get one each.
        let weights = Array(repeating: Int64(1), count: 5_000) + [5_000]
        let shares = ProRata.allocate(2_500, over: weights)!
        #expect(shares.reduce(0, +) == 2_500)
        #expect(shares.last == 1_250)
        #expect(shares.prefix(1_250).allSatisfy { $0 == 1 })
        #expect(shares.dropFirst(1_250).dropLast().allSatisfy { $0 == 0 })
    }
}

@Suite("Allocation: a batch's fills, worked by hand")
struct BatchAllocationTests {
    /// alice c-1 300 and bob c-2 200: the contract's example batch of 500.
    static func contractBatch() throws -> BatchAllocation {
        try BatchAllocation(
            batch: Batch(
                batchId: "b-AAPL-buy-1", symbol: "AAPL", side: .buy,
                members: [
                    Batch.Member(clientOrderId: "c-1001", userId: "alice", quantity: 300, traceparent: "00-a-b-01"),
                    Batch.Member(clientOrderId: "c-2001", userId: "bob", quantity: 200, traceparent: "00-c-d-01"),
                ],
                closeReason: .linger, openedAt: "2026-11-30T09:30:00Z", closedAt: "2026-11-30T09:30:01Z"))
    }

    @Test("Fills, a duplicate, an oversized fill, and the last fill")
    func sequence() throws {
        var state = try Self.contractBatch()

        // 100 @ 189.24 over leaves 300/200 → 60/40.
        let first = try #require(state.apply(makeFill("f-1", 100, at: "189.24")).allocation)
        #expect(first.quantities == [60, 40])
        #expect(
            first.updates == [
                OrderUpdate(
                    clientOrderId: "c-1001", userId: "alice", symbol: "AAPL", side: .buy, status: .partiallyFilled,
                    lastQuantity: 60, lastPrice: .p("189.24"), cumulativeQuantity: 60, leavesQuantity: 240,
                    averagePrice: .p("189.24"), notional: 113_544_000, batchId: "b-AAPL-buy-1", fillId: "f-1"),
                OrderUpdate(
                    clientOrderId: "c-2001", userId: "bob", symbol: "AAPL", side: .buy, status: .partiallyFilled,
                    lastQuantity: 40, lastPrice: .p("189.24"), cumulativeQuantity: 40, leavesQuantity: 160,
                    averagePrice: .p("189.24"), notional: 75_696_000, batchId: "b-AAPL-buy-1", fillId: "f-1"),
            ])

        // 150 @ 189.25 over leaves 240/160 → 90/60. alice: (60×189.24 + 90×189.25)/150 = 189.246 exactly.
        let second = try #require(state.apply(makeFill("f-2", 150, at: "189.25")).allocation)
        #expect(second.quantities == [90, 60])
        #expect(second.updates.map(\.averagePrice) == [.p("189.246"), .p("189.246")])
        #expect(second.updates.map(\.notional) == [283_869_000, 189_246_000])
        #expect(second.updates.map(\.cumulativeQuantity) == [150, 100])

        // The same fill again changes nothing.
        let before = state
        #expect(state.apply(makeFill("f-2", 150, at: "189.25")) == .duplicate)
        #expect(state.apply(makeFill("f-2", 1, at: "1")) == .duplicate)
        #expect(state == before)

        // 300 more than the 250 open: refused, nothing changes.
        guard case .rejected(let rejection) = state.apply(makeFill("f-3", 300, at: "189.26")) else {
            Issue.record("an oversized fill was applied")
            return
        }
        #expect(rejection.code == .exceedsOpenQuantity)
        #expect(rejection.reason.contains("250 open"))
        #expect(state == before)

        // The last 250 @ 189.26 → 150/100: both filled at an exact 189.253.
        let last = try #require(state.apply(makeFill("f-4", 250, at: "189.26", status: .filled)).allocation)
        #expect(last.quantities == [150, 100])
        #expect(last.updates.map(\.status) == [.filled, .filled])
        #expect(last.updates.map(\.leavesQuantity) == [0, 0])
        #expect(last.updates.map(\.averagePrice) == [.p("189.253"), .p("189.253")])
        #expect(state.members.map { $0.averagePrice.isExactly(.p("189.253")) } == [true, true])
        #expect(state.isComplete && state.filledQuantity == 500 && state.openQuantity == 0)
        #expect(state.appliedFillIds == ["f-1", "f-2", "f-4"])
    }

    @Test("The tie rule inside a batch: equal leaves, the earlier member gets the odd unit")
    func tieInBatch() throws {
        var state = try BatchAllocation(batch: makeBatch([1, 1, 1]))
        let allocation = try #require(state.apply(makeFill("f-1", 2, at: "10")).allocation)
        #expect(allocation.quantities == [1, 1, 0])
        #expect(allocation.updates.map(\.clientOrderId) == ["c-1", "c-2"])
        #expect(allocation.updates.map(\.status) == [.filled, .filled])
        #expect(state.members.map(\.status) == [.filled, .filled, .batched])
        let next = try #require(state.apply(makeFill("f-2", 1, at: "10")).allocation)
        #expect(next.quantities == [0, 0, 1])
    }

    @Test("The average price is exact; the wire's averagePrice is rounded to the nearest tick, halves up")
    func averageRounding() throws {
        var state = try BatchAllocation(batch: makeBatch([3]))
        _ = state.apply(makeFill("f-1", 1, at: "1.0001"))
        let update = try #require(state.apply(makeFill("f-2", 2, at: "1")).allocation?.updates.first)
        // (1 × 10001 + 2 × 10000) / 3 = 10000.33… ticks.
        #expect(update.notional == 30_001)
        #expect(update.averagePrice == .p("1"))
        #expect(update.exactAveragePrice == AveragePrice(notional: 30_001, quantity: 3))
        #expect(update.exactAveragePrice?.isExactly(.p("1")) == false)

        var halves = try BatchAllocation(batch: makeBatch([2]))
        _ = halves.apply(makeFill("f-1", 1, at: "1.0001"))
        let half = try #require(halves.apply(makeFill("f-2", 1, at: "1")).allocation?.updates.first)
        #expect(half.averagePrice == .p("1.0001"))  // 10000.5 ticks rounds up
        #expect(AveragePrice.roundedTicks(notional: 29_999, quantity: 2) == 15_000)
        #expect(AveragePrice.roundedTicks(notional: 29_998, quantity: 4) == 7_500)
        #expect(AveragePrice.roundedTicks(notional: 0, quantity: 0) == 0)
    }

    @Test("A rejected exchange order for the whole batch: every member is rejected with its leaves")
    func rejectWholeBatch() throws {
        var state = try Self.contractBatch()
        var reject = makeCancel("f-r", leaves: 500, status: .rejected)
        reject.batchId = "b-AAPL-buy-1"
        reject.reason = "price band"
        let allocation = try #require(state.apply(reject).allocation)
        #expect(allocation.quantities == [300, 200])
        #expect(allocation.updates.map(\.status) == [.rejected, .rejected])
        #expect(allocation.updates.map(\.leavesQuantity) == [300, 200])
        #expect(allocation.updates.map(\.cumulativeQuantity) == [0, 0])
        #expect(allocation.updates.map(\.lastQuantity) == [0, 0])
        #expect(allocation.updates.map(\.reason) == ["price band", "price band"])
        #expect(allocation.updates.map(\.fillId) == ["f-r", "f-r"])
        #expect(state.isComplete)
        // Nothing is open any more: a later execution is refused.
        #expect(state.apply(makeFill("f-late", 1, at: "1")).allocation == nil)
    }

    @Test("A canceled slice: members keep working and end canceled when their last open units execute")
    func cancelSlice() throws {
        var state = try Self.contractBatch()
        _ = state.apply(makeFill("f-1", 100, at: "10"))  // 60/40
        // 150 units will never execute: taken pro-rata from open 240/160 → 90/60. Nobody is done yet.
        let cancel = try #require(state.apply(makeCancel("f-c", leaves: 150)).allocation)
        #expect(cancel.quantities == [90, 60])
        #expect(cancel.updates.isEmpty)
        #expect(state.members.map(\.openQuantity) == [150, 100])
        #expect(state.members.map(\.status) == [.partiallyFilled, .partiallyFilled])
        // The rest executes: each member reaches `canceled`, with its last allocation and its leaves.
        let last = try #require(state.apply(makeFill("f-2", 250, at: "11", status: .filled)).allocation)
        #expect(last.quantities == [150, 100])
        #expect(last.updates.map(\.status) == [.canceled, .canceled])
        #expect(last.updates.map(\.cumulativeQuantity) == [210, 140])
        #expect(last.updates.map(\.leavesQuantity) == [90, 60])
        #expect(last.updates.map(\.lastQuantity) == [150, 100])
        #expect(last.updates.allSatisfy { $0.reason == "exchange order x-b-AAPL-buy-1-0 was canceled" })
        #expect(state.isComplete)
        #expect(state.filledQuantity == 350 && state.canceledQuantity == 150)
    }

    @Test("A cancellation that leaves nothing open ends the members at once; one of 0 units changes nothing")
    func cancelRest() throws {
        var state = try Self.contractBatch()
        _ = state.apply(makeFill("f-1", 100, at: "10"))
        let nothing = try #require(state.apply(makeCancel("f-0", leaves: 0)).allocation)
        #expect(nothing.quantities == [0, 0] && nothing.updates.isEmpty)
        #expect(state.apply(makeCancel("f-0", leaves: 0)) == .duplicate)
        let rest = try #require(state.apply(makeCancel("f-c", leaves: 400)).allocation)
        #expect(rest.updates.map(\.status) == [.canceled, .canceled])
        #expect(rest.updates.map(\.cumulativeQuantity) == [60, 40])
        #expect(rest.updates.map(\.leavesQuantity) == [240, 160])
        #expect(rest.updates.map(\.averagePrice) == [.p("10"), .p("10")])
        guard case .rejected(let tooMuch) = state.apply(makeCancel("f-c2", leaves: 1)) else {
            Issue.record("a cancellation of more than is open was applied")
            return
        }
        #expect(tooMuch.code == .exceedsOpenQuantity)
    }

    @Test("Fills of another batch, symbol or side, or with impossible numbers, are refused and change nothing")
    func refusals() throws {
        var state = try Self.contractBatch()
        let before = state
        var wrong = makeFill("f-1", 10, at: "1", batch: "b-other")
        #expect(rejectionCode(state.apply(wrong)) == .wrongBatch)
        wrong = makeFill("f-1", 10, at: "1")
        wrong.symbol = "MSFT"
        #expect(rejectionCode(state.apply(wrong)) == .wrongBatch)
        wrong = makeFill("f-1", 10, at: "1")
        wrong.side = .sell
        #expect(rejectionCode(state.apply(wrong)) == .wrongBatch)
        #expect(rejectionCode(state.apply(makeFill("f-1", 0, at: "1"))) == .invalidFill)
        #expect(rejectionCode(state.apply(makeFill("f-1", 10, at: "0"))) == .invalidFill)
        #expect(rejectionCode(state.apply(makeFill("f-1", -10, at: "1"))) == .invalidFill)
        var cancelWithUnits = makeCancel("f-1", leaves: 10)
        cancelWithUnits.quantity = 5
        #expect(rejectionCode(state.apply(cancelWithUnits)) == .invalidFill)
        #expect(state == before)
        // The refused id can still be applied once it is right.
        #expect(state.apply(makeFill("f-1", 10, at: "1")).allocation != nil)
    }

    @Test("An invalid batch cannot start an allocation")
    func invalidBatch() {
        var batch = makeBatch([10, 20])
        batch.quantity = 31
        #expect(throws: ValidationErrors.self) { try BatchAllocation(batch: batch) }
        #expect(throws: ValidationErrors.self) { try BatchAllocation(batch: makeBatch([])) }
        #expect(throws: ValidationErrors.self) { try BatchAllocation(batch: makeBatch([10, 0])) }
    }

    @Test("A snapshot of a member reads as an order update")
    func snapshot() throws {
        var state = try Self.contractBatch()
        _ = state.apply(makeFill("f-1", 100, at: "10"))
        let update = state.currentUpdate(ofMemberAt: 0)
        #expect(update.status == .partiallyFilled && update.cumulativeQuantity == 60 && update.leavesQuantity == 240)
        #expect(update.lastQuantity == 0 && update.fillId == nil && update.averagePrice == .p("10"))
    }

    func rejectionCode(_ outcome: FillOutcome) -> FillRejection.Code? {
        if case .rejected(let rejection) = outcome { return rejection.code }
        return nil
    }
}
