import Testing

@testable import OrderModel

@Suite("Audit: every invariant's violation is found")
struct AuditTests {
    /// alice 300 and bob 200 in one batch; fills 100 @ 10 and 400 @ 11 fill both. What a correct pipeline emits.
    struct Scenario {
        var orders: [ClientOrder]
        var batches: [Batch]
        var fills: [Fill]
        var updates: [OrderUpdate]

        init() throws {
            let batch = Batch(
                batchId: "b-1", symbol: "AAPL", side: .buy,
                members: [
                    Batch.Member(clientOrderId: "c-1", userId: "alice", quantity: 300, traceparent: "00-a-b-01"),
                    Batch.Member(clientOrderId: "c-1", userId: "bob", quantity: 200, traceparent: "00-c-d-01"),
                ],
                closeReason: .size, openedAt: "2026-11-30T09:30:00Z", closedAt: "2026-11-30T09:30:01Z")
            orders = batch.members.map {
                ClientOrder(clientOrderId: $0.clientOrderId, userId: $0.userId, symbol: "AAPL", side: .buy, quantity: $0.quantity, orderType: .market)
            }
            batches = [batch]
            fills = [makeFill("f-1", 100, at: "10", batch: "b-1"), makeFill("f-2", 400, at: "11", batch: "b-1", status: .filled)]
            updates = orders.map { OrderUpdate(order: $0, status: .accepted) } + orders.map { OrderUpdate(order: $0, status: .batched, batchId: "b-1") }
            var state = try BatchAllocation(batch: batch)
            for fill in fills { updates += try #require(state.apply(fill).allocation).updates }
        }

        func violations(requireTerminal: Bool = true, withBatches: Bool = true) -> [InvariantViolation] {
            OrderAudit.violations(
                clientOrders: orders, batches: withBatches ? batches : [], fills: fills, updates: updates, requireTerminal: requireTerminal)
        }

        /// The index of the update of `user`'s order for `fillId`.
        func index(_ user: String, _ fillId: String) -> Int {
            updates.firstIndex { $0.userId == user && $0.fillId == fillId }!
        }
    }

    func invariants(_ violations: [InvariantViolation]) -> Set<Int> {
        Set(violations.map(\.invariant.number))
    }

    @Test("A correct run has no violation, with or without the batches; redeliveries are not violations")
    func clean() throws {
        var scenario = try Scenario()
        #expect(scenario.violations().isEmpty)
        #expect(scenario.violations(withBatches: false).isEmpty)
        scenario.updates += scenario.updates.prefix(5)
        scenario.fills += scenario.fills
        scenario.orders += scenario.orders
        #expect(scenario.violations().isEmpty)
    }

    @Test("1: a fill allocated short, or an allocation without a fill id")
    func fillNotFullyAllocated() throws {
        var scenario = try Scenario()
        scenario.updates.remove(at: scenario.index("bob", "f-1"))
        let violations = scenario.violations()
        #expect(violations.contains { $0.invariant == .fillFullyAllocated && $0.subject == "fill f-1" && $0.reason.contains("allocated 60") })

        var noId = try Scenario()
        noId.updates[noId.index("bob", "f-1")].fillId = nil
        #expect(noId.violations().contains { $0.invariant == .fillFullyAllocated && $0.subject == "order bob/c-1" })
    }

    @Test("2: cumulative + leaves must be the quantity, cumulative within it and equal to the allocations")
    func orderQuantities() throws {
        var scenario = try Scenario()
        scenario.updates[scenario.index("alice", "f-1")].leavesQuantity += 1
        #expect(scenario.violations().map(\.invariant) == [.orderQuantities])

        var over = try Scenario()
        let last = over.index("bob", "f-2")
        over.updates[last].cumulativeQuantity = 210
        over.updates[last].leavesQuantity = -10
        #expect(invariants(over.violations()).contains(2))
        #expect(over.violations().contains { $0.reason.contains("outside 0...200") })
    }

    @Test("3: a batch's fills beyond its quantity")
    func batchTotals() throws {
        var scenario = try Scenario()
        scenario.fills.append(makeFill("f-3", 10, at: "12", batch: "b-1"))
        let violations = scenario.violations()
        #expect(violations.contains { $0.invariant == .batchTotals && $0.reason.contains("more than the batch quantity 500") })
        #expect(violations.contains { $0.invariant == .batchTotals && $0.reason.contains("allocations sum to 500, but its fills executed 510") })
        var withoutBatches = scenario
        withoutBatches.batches = []
        #expect(withoutBatches.violations(withBatches: false).contains { $0.invariant == .batchTotals && $0.reason.contains("quantity 500") })
    }

    @Test("4: a wrong notional, a wrong rounding, a price that is not the fill's")
    func exactAveragePrice() throws {
        var scenario = try Scenario()
        scenario.updates[scenario.index("alice", "f-2")].notional! += 1
        #expect(scenario.violations().map(\.invariant) == [.exactAveragePrice])

        var rounding = try Scenario()
        rounding.updates[rounding.index("alice", "f-2")].averagePrice = Price(ticks: 106_667)
        #expect(rounding.violations().map(\.invariant) == [.exactAveragePrice])
        // alice: (60 × 10 + 240 × 11) / 300 = 10.8 exactly.
        #expect(rounding.updates[rounding.index("alice", "f-2")].exactAveragePrice?.isExactly(.p("10.8")) == true)

        var price = try Scenario()
        let index = price.index("bob", "f-1")
        price.updates[index].lastPrice = .p("9")
        price.updates[index].notional = 40 * 90_000
        price.updates[index].averagePrice = .p("9")
        #expect(price.violations().contains { $0.invariant == .exactAveragePrice && $0.reason.contains("is not fill f-1's price 10") })
    }

    @Test("5: a fill counted twice by an order")
    func idempotence() throws {
        var scenario = try Scenario()
        var again = scenario.updates[scenario.index("alice", "f-1")]
        again.cumulativeQuantity += 60
        again.leavesQuantity -= 60
        again.notional! += 60 * 100_000
        scenario.updates.insert(again, at: scenario.index("alice", "f-1") + 1)
        let violations = scenario.violations()
        #expect(violations.contains { $0.invariant == .idempotentFills && $0.reason.contains("fill f-1 is allocated twice") })
    }

    @Test("6: a change after a terminal status, a terminal status that does not fit, an order never finished")
    func terminalStatus() throws {
        var scenario = try Scenario()
        var after = scenario.updates.last!
        after.status = .canceled
        after.fillId = "f-2"
        after.lastQuantity = 0
        after.reason = "late"
        scenario.updates.append(after)
        #expect(scenario.violations().contains { $0.invariant == .singleTerminalStatus && $0.reason.contains("follows terminal status filled") })

        var early = try Scenario()
        early.updates[early.index("alice", "f-1")].status = .filled
        #expect(invariants(early.violations()).contains(6))

        var unfinished = try Scenario()
        unfinished.updates.removeAll { $0.fillId == "f-2" }
        unfinished.fills.removeLast()
        #expect(unfinished.violations(requireTerminal: false).isEmpty)
        #expect(unfinished.violations().filter { $0.invariant == .singleTerminalStatus }.count == 2)
    }

    @Test("7: allocations that add up but do not follow the rule")
    func determinism() throws {
        var scenario = try Scenario()
        // f-1 split 50 / 50 instead of 60 / 40, f-2 250 / 150 instead of 240 / 160: both orders still end filled,
        // and every other number is made consistent, so only the rule is broken.
        let observed: [String: [String: Int64]] = ["alice": ["f-1": 50, "f-2": 250], "bob": ["f-1": 50, "f-2": 150]]
        var cumulative: [String: Int64] = [:]
        var notional: [String: Int128] = [:]
        for index in scenario.updates.indices {
            var update = scenario.updates[index]
            guard let fillId = update.fillId, let units = observed[update.userId]?[fillId] else { continue }
            cumulative[update.userId, default: 0] += units
            notional[update.userId, default: 0] += update.lastPrice.notional(quantity: units)
            update.lastQuantity = units
            update.cumulativeQuantity = cumulative[update.userId]!
            update.leavesQuantity = (update.userId == "alice" ? 300 : 200) - update.cumulativeQuantity
            update.notional = notional[update.userId]
            update.averagePrice = Price(ticks: AveragePrice.roundedTicks(notional: notional[update.userId]!, quantity: update.cumulativeQuantity))
            scenario.updates[index] = update
        }
        let violations = scenario.violations()
        #expect(violations.map(\.invariant) == [.deterministicAllocation, .deterministicAllocation, .deterministicAllocation, .deterministicAllocation])
        #expect(violations.contains { $0.reason == "got 50 units of fill f-1, but the allocation rule gives 60" })
        // Without the batches there is nothing to replay: the run looks consistent.
        #expect(scenario.violations(withBatches: false).isEmpty)
    }

    @Test("Inputs that contradict each other")
    func inconsistentInput() throws {
        var scenario = try Scenario()
        var reused = scenario.fills[0]
        reused.quantity = 99
        scenario.fills.append(reused)
        scenario.updates[scenario.index("alice", "f-2")].fillId = "f-unknown"
        let violations = scenario.violations().filter { $0.invariant == .consistentInput }
        #expect(violations.contains { $0.subject == "fill f-1" && $0.reason.contains("reused") })
        #expect(violations.contains { $0.reason.contains("names fill f-unknown") })

        var stranger = try Scenario()
        stranger.updates.append(OrderUpdate(
            clientOrderId: "c-9", userId: "eve", symbol: "AAPL", side: .buy, status: .accepted, cumulativeQuantity: 0, leavesQuantity: 5))
        #expect(stranger.violations(requireTerminal: false).map(\.subject) == ["order eve/c-9"])
    }

    @Test("A violation reads as invariant, subject and reason")
    func description() {
        let violation = InvariantViolation(invariant: .orderQuantities, subject: "order alice/c-1", reason: "cumulativeQuantity 310 is outside 0...300")
        #expect(violation.description == "invariant 2 (order quantities): order alice/c-1: cumulativeQuantity 310 is outside 0...300")
    }
}
