import OrderManager
import OrderModel
import TestSupport
import Testing

@Suite("Batching: size, quantity and window, per symbol and side")
struct OrderPoolTests {
    let start = ContinuousClock.now

    func order(_ id: String, _ symbol: String = "AAPL", _ side: Side = .buy, quantity: Int64 = 100) -> ClientOrder {
        ClientOrder(clientOrderId: id, userId: "alice", symbol: symbol, side: side, quantity: quantity, orderType: .market)
    }

    @Test func closesAtMaxOrders() {
        var pool = OrderPool<Int>(limits: BatchLimits(maxOrders: 3, maxQuantity: 1_000_000, linger: .milliseconds(50)))
        #expect(pool.add(order("a"), item: 1, now: start).isEmpty)
        #expect(pool.add(order("b"), item: 2, now: start).isEmpty)
        let closed = pool.add(order("c"), item: 3, now: start)
        #expect(closed.count == 1)
        #expect(closed[0].entries.map(\.item) == [1, 2, 3])
        #expect(closed[0].closeReason == .size)
        #expect(closed[0].quantity == 300)
        #expect(pool.pooledCount == 0)
        #expect(pool.nextDeadline == nil)
    }

    @Test func closesAtMaxQuantityBeforeOverflowing() {
        var pool = OrderPool<String>(limits: BatchLimits(maxOrders: 100, maxQuantity: 250, linger: .seconds(1)))
        #expect(pool.add(order("a", quantity: 100), item: "a", now: start).isEmpty)
        #expect(pool.add(order("b", quantity: 100), item: "b", now: start).isEmpty)
        // 300 would pass 250: the open batch closes and c starts the next one.
        let closed = pool.add(order("c", quantity: 100), item: "c", now: start)
        #expect(closed.map { $0.entries.map(\.item) } == [["a", "b"]])
        #expect(closed[0].closeReason == .size)
        #expect(pool.pooledCount == 1)
        // An order at the limit on its own is a batch by itself, after closing what was open.
        let big = pool.add(order("d", quantity: 400), item: "d", now: start)
        #expect(big.map { $0.entries.map(\.item) } == [["c"], ["d"]])
        #expect(big.allSatisfy { $0.closeReason == .size })
        #expect(pool.pooledCount == 0)
    }

    @Test func closesWhenTheWindowPasses() {
        var pool = OrderPool<Int>(limits: BatchLimits(maxOrders: 100, maxQuantity: 1_000_000, linger: .milliseconds(50)))
        _ = pool.add(order("a"), item: 1, now: start)
        _ = pool.add(order("b"), item: 2, now: start + .milliseconds(30))
        #expect(pool.nextDeadline == start + .milliseconds(50))
        #expect(pool.closeExpired(now: start + .milliseconds(49)).isEmpty)
        let closed = pool.closeExpired(now: start + .milliseconds(50))
        #expect(closed.count == 1)
        #expect(closed[0].closeReason == .linger)
        #expect(closed[0].entries.map(\.item) == [1, 2])
        // The window runs from a batch's first order: the next batch starts a new one.
        _ = pool.add(order("c"), item: 3, now: start + .milliseconds(60))
        #expect(pool.closeExpired(now: start + .milliseconds(100)).isEmpty)
        #expect(pool.closeExpired(now: start + .milliseconds(110)).count == 1)
    }

    /// Several open batches: the next deadline is the window of the one opened first, whichever
    /// order they were opened or closed in.
    @Test func theNextDeadlineIsTheOldestOpenBatchs() {
        var pool = OrderPool<Int>(limits: BatchLimits(maxOrders: 100, maxQuantity: 1_000_000, linger: .milliseconds(50)))
        _ = pool.add(order("m1", "MSFT"), item: 1, now: start + .milliseconds(20))
        _ = pool.add(order("a1", "AAPL"), item: 2, now: start + .milliseconds(5))
        _ = pool.add(order("n1", "NVDA"), item: 3, now: start + .milliseconds(40))
        #expect(pool.nextDeadline == start + .milliseconds(55))
        #expect(pool.closeExpired(now: start + .milliseconds(55)).map { $0.entries.map(\.item) } == [[2]])
        #expect(pool.nextDeadline == start + .milliseconds(70))
        _ = pool.closeExpired(now: start + .milliseconds(90))
        #expect(pool.nextDeadline == nil)
    }

    @Test func poolsPerSymbolAndSide() {
        var pool = OrderPool<String>(limits: BatchLimits(maxOrders: 2, maxQuantity: 1_000_000, linger: .seconds(1)))
        #expect(pool.add(order("1", "AAPL", .buy), item: "aapl-buy-1", now: start).isEmpty)
        #expect(pool.add(order("2", "AAPL", .sell), item: "aapl-sell-1", now: start).isEmpty)
        #expect(pool.add(order("3", "MSFT", .buy), item: "msft-buy-1", now: start).isEmpty)
        let closed = pool.add(order("4", "AAPL", .buy), item: "aapl-buy-2", now: start)
        #expect(closed.count == 1)
        #expect(closed[0].symbol == "AAPL" && closed[0].side == .buy)
        #expect(closed[0].entries.map(\.item) == ["aapl-buy-1", "aapl-buy-2"])
        #expect(pool.pooledCount == 2)
        let rest = pool.closeAll()
        #expect(Set(rest.map { "\($0.symbol)-\($0.side)" }) == ["AAPL-sell", "MSFT-buy"])
        #expect(pool.pooledCount == 0)
    }

    @Test("at a revoke, the batches holding an order of a revoked partition close; the others stay open")
    func closesTheBatchesHoldingMatchingEntries() {
        // Items are partition numbers.
        var pool = OrderPool<Int>(limits: BatchLimits(maxOrders: 10, maxQuantity: 1_000_000, linger: .seconds(60)))
        _ = pool.add(order("a", "AAPL"), item: 0, now: start)
        _ = pool.add(order("b", "AAPL"), item: 1, now: start + .milliseconds(1))
        _ = pool.add(order("c", "MSFT"), item: 0, now: start + .milliseconds(2))
        _ = pool.add(order("d", "TSLA"), item: 0, now: start + .milliseconds(3))
        let closed = pool.close(where: { $0.item == 1 })
        #expect(closed.map { $0.entries.map(\.order.clientOrderId) } == [["a", "b"]])
        #expect(closed.allSatisfy { $0.closeReason == .linger })
        #expect(pool.pooledCount == 2)
        #expect(pool.close(where: { $0.item == 1 }).isEmpty)
        #expect(pool.close(where: { $0.item == 0 }).map(\.symbol) == ["MSFT", "TSLA"])
        #expect(pool.pooledCount == 0)
    }

    @Test func randomOrdersAreEachBatchedExactlyOnce() {
        var generator = SplitMix64(seed: 7)
        var pool = OrderPool<Int>(limits: BatchLimits(maxOrders: 5, maxQuantity: 700, linger: .milliseconds(20)))
        var batched: [Int] = []
        var now = start
        for index in 0..<2_000 {
            now += .milliseconds(Int64(generator.next() % 5))
            let symbol = ["AAPL", "MSFT", "TSLA"][Int(generator.next() % 3)]
            let side: Side = generator.next() % 2 == 0 ? .buy : .sell
            let quantity = Int64(generator.next() % 400) + 1
            var closed = pool.add(order("o\(index)", symbol, side, quantity: quantity), item: index, now: now)
            closed += pool.closeExpired(now: now)
            for batch in closed {
                #expect(batch.entries.count <= 5)
                #expect(batch.entries.count == 1 || batch.quantity <= 700)
                #expect(Set(batch.entries.map { "\($0.order.symbol)-\($0.order.side)" }).count == 1)
                batched += batch.entries.map(\.item)
            }
        }
        batched += pool.closeAll().flatMap { $0.entries.map(\.item) }
        #expect(batched.sorted() == Array(0..<2_000))
    }
}
