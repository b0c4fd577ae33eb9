import Settings
import Testing

import ExchangeProtocol
@testable import ExchangeSimulator

@Suite("Simulated liquidity: fills over time, market orders, the random walk")
struct LiquidityTests {
    /// Two levels a side of 100 each at ±0.01 and ±0.02 around 190, refreshed every 250 ms, no walk.
    static let twoLevels = ExchangeSimulatorConfiguration.Liquidity(
        levels: 2,
        bestLevelOffsetTicks: 100,
        levelSpacingTicks: 100,
        quantity: 100...100,
        refreshInterval: .milliseconds(250)
    )

    @Test("Liquidity is laid at start: levels at the configured offsets, quantities in range")
    func initialLiquidity() throws {
        let exchange = try ExchangeSimulator(configuration: handWorkedConfiguration(liquidity: Self.twoLevels))
        let depth = try #require(exchange.depth(of: "AAPL"))
        #expect(describe(depth.bids) == ["100@189.99", "100@189.98"])
        #expect(describe(depth.asks) == ["100@190.01", "100@190.02"])
        #expect(exchange.openOrderCount == 0)
    }

    @Test("Default liquidity: five levels a side, quantities drawn in 100...1000 and drawn anew at each refresh")
    func quantitiesRefresh() throws {
        var configuration = handWorkedConfiguration(liquidity: ExchangeSimulatorConfiguration.Liquidity())
        configuration.seed = 11
        var exchange = try ExchangeSimulator(configuration: configuration)
        var snapshots: [[Int64]] = []
        for refresh in 0..<4 {
            _ = exchange.tick(now: .milliseconds(250 * refresh))
            let depth = try #require(exchange.depth(of: "AAPL"))
            #expect(depth.asks.map(\.price) == (1...5).map { ExchangePrice(ticks: 1_900_000 + 100 * $0) })
            #expect(depth.bids.map(\.price) == (1...5).map { ExchangePrice(ticks: 1_900_000 - 100 * $0) })
            let quantities = (depth.bids + depth.asks).map(\.quantity)
            #expect(quantities.allSatisfy { (100...1_000).contains($0) })
            snapshots.append(quantities)
        }
        // Each refresh draws new quantities.
        #expect(Set(snapshots).count == 4)
        #expect(Set(snapshots.flatMap { $0 }).count > 20)
    }

    @Test("A large limit order: ack, partial fills at once, then more partial fills and the fill as liquidity refreshes")
    func partialFillsThenFill() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration(liquidity: Self.twoLevels))
        #expect(
            describe(exchange.handle(limit("o1", .buy, 450, "190.05"))) == [
                "ack o1",
                "E1 o1 100@190.01 cum=100 leaves=350 partially_filled",
                "E2 o1 100@190.02 cum=200 leaves=250 partially_filled",
            ]
        )
        #expect(exchange.openOrder("o1")?.leavesQuantity == 250)
        // No refresh before 250 ms.
        #expect(exchange.tick(now: .milliseconds(100)).isEmpty)
        // The new asks at 190.01 and 190.02 cross the resting bid and trade at its price, 190.05.
        #expect(
            describe(exchange.tick(now: .milliseconds(250))) == [
                "E3 o1 100@190.05 cum=300 leaves=150 partially_filled",
                "E4 o1 100@190.05 cum=400 leaves=50 partially_filled",
            ]
        )
        #expect(
            describe(exchange.tick(now: .milliseconds(500))) == [
                "E5 o1 50@190.05 cum=450 leaves=0 filled"
            ]
        )
        // Filled orders are evicted; the rest of the simulated level rests.
        #expect(exchange.openOrder("o1") == nil)
        #expect(exchange.openOrderCount == 0)
        #expect(describe(exchange.depth(of: "AAPL")!.asks) == ["50@190.01", "100@190.02"])
        // Time that does not move forward changes nothing.
        #expect(exchange.tick(now: .milliseconds(500)).isEmpty)
        #expect(exchange.tick(now: .milliseconds(400)).isEmpty)
        #expect(exchange.now == .milliseconds(500))
    }

    @Test("A market order against thin liquidity takes what there is; the rest is canceled, never rested")
    func marketOrderThinLiquidity() throws {
        var liquidity = Self.twoLevels
        liquidity.quantity = 10...10
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration(liquidity: liquidity))
        #expect(
            describe(exchange.handle(market("m1", .buy, 50))) == [
                "ack m1",
                "E1 m1 10@190.01 cum=10 leaves=40 partially_filled",
                "E2 m1 10@190.02 cum=20 leaves=30 partially_filled",
                "canceled m1 cum=20 canceled=30 no_liquidity",
            ]
        )
        #expect(exchange.openOrderCount == 0)
        #expect(exchange.depth(of: "AAPL")!.asks.isEmpty)
        #expect(describe(exchange.depth(of: "AAPL")!.bids) == ["10@189.99", "10@189.98"])
        // A market sell that the bids can fill in full gets no cancel.
        #expect(
            describe(exchange.handle(market("m2", .sell, 15))) == [
                "ack m2",
                "E3 m2 10@189.99 cum=10 leaves=5 partially_filled",
                "E4 m2 5@189.98 cum=15 leaves=0 filled",
            ]
        )
    }

    @Test("A market order into an empty book is acknowledged and canceled whole")
    func marketOrderEmptyBook() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        #expect(
            describe(exchange.handle(market("m1", .sell, 50))) == [
                "ack m1",
                "canceled m1 cum=0 canceled=50 no_liquidity",
            ]
        )
    }

    @Test("A resting sell fills when the walk carries the simulated bids up to it")
    func walkFillsRestingOrder() throws {
        var configuration = handWorkedConfiguration(liquidity: Self.twoLevels)
        configuration.walk = .init(interval: .milliseconds(10), maxStepTicks: 100)
        var exchange = try ExchangeSimulator(configuration: configuration)
        // A sell 0.10 above the reference: nothing trades now.
        #expect(describe(exchange.handle(limit("s1", .sell, 100, "190.10"))) == ["ack s1"])
        var executions: [ExchangeExecution] = []
        var time = Duration.zero
        var sawReferenceAbove = false
        while exchange.openOrder("s1") != nil, time < .seconds(3600) {
            time += .milliseconds(250)
            for case .execution(let execution) in exchange.tick(now: time) { executions.append(execution) }
            if exchange.referencePrice(of: "AAPL")! > price("190.10") { sawReferenceAbove = true }
        }
        // It filled, at its own price, once the bids (reference - 0.01) reached it.
        #expect(exchange.openOrder("s1") == nil)
        #expect(sawReferenceAbove)
        #expect(executions.reduce(0) { $0 + $1.quantity } == 100)
        #expect(executions.allSatisfy { $0.price == price("190.10") && $0.orderId == "s1" })
        #expect(executions.last?.status == .filled)
    }

    @Test("The reference price walks in steps of at most maxStepTicks and liquidity follows it")
    func walkSteps() throws {
        var configuration = handWorkedConfiguration(liquidity: Self.twoLevels)
        configuration.walk = .init(interval: .milliseconds(100), maxStepTicks: 7)
        var exchange = try ExchangeSimulator(configuration: configuration)
        var previous = exchange.referencePrice(of: "AAPL")!
        var moved = false
        for step in 1...200 {
            // One walk step per tick; a refresh every 250 ms.
            _ = exchange.tick(now: .milliseconds(100 * step))
            let current = exchange.referencePrice(of: "AAPL")!
            #expect(abs(current.ticks - previous.ticks) <= 7)
            if current != previous { moved = true }
            previous = current
        }
        #expect(moved)
        // At a refresh (20 s is one), the best levels sit at reference ∓ 0.01.
        let depth = exchange.depth(of: "AAPL")!
        #expect(depth.asks.first?.price.ticks == depth.referencePrice.ticks + 100)
        #expect(depth.bids.first?.price.ticks == depth.referencePrice.ticks - 100)
    }

    @Test("A huge jump in time walks a bounded number of steps")
    func hugeJumpIsBounded() throws {
        var configuration = handWorkedConfiguration(liquidity: Self.twoLevels)
        configuration.walk = .init(interval: .nanoseconds(1), maxStepTicks: 1)
        var exchange = try ExchangeSimulator(configuration: configuration)
        let start = exchange.referencePrice(of: "AAPL")!
        _ = exchange.tick(now: .seconds(1_000_000_000))
        let moved = abs(exchange.referencePrice(of: "AAPL")!.ticks - start.ticks)
        #expect(moved <= ExchangeSimulator.maxWalkStepsPerTick)
        #expect(exchange.walkSteps == 1_000_000_000 * 1_000_000_000)
    }

    @Test("Invalid configurations are refused with a message naming the field")
    func invalidConfiguration() {
        var configuration = ExchangeSimulatorConfiguration()
        configuration.liquidity.bestLevelOffsetTicks = 0
        #expect(throws: ConfigurationError.self) { try ExchangeSimulator(configuration: configuration) }
        do {
            _ = try ExchangeSimulator(configuration: configuration)
        } catch {
            #expect(error.message.contains("bestLevelOffsetTicks"))
        }
        configuration = ExchangeSimulatorConfiguration()
        configuration.instruments.append(ExchangeInstrument(symbol: "AAPL", referencePrice: price("1")))
        #expect(throws: ConfigurationError(.conflict, setting: "instruments", problem: "AAPL is listed twice")) {
            try ExchangeSimulator(configuration: configuration)
        }
        configuration = ExchangeSimulatorConfiguration()
        configuration.walk.interval = .zero
        #expect(throws: ConfigurationError.self) { try ExchangeSimulator(configuration: configuration) }
        #expect(throws: Never.self) { try ExchangeSimulator() }
    }
}
