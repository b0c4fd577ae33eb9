import Testing

import ExchangeProtocol
@testable import ExchangeSimulator

@Suite("Matching: price-time priority, worked by hand")
struct MatchingTests {
    @Test("A buy sweeps the asks best price first, and earliest first within a price")
    func priceTimePriority() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        // Asks: 190.01 [s2 50], 190.02 [s1 100, s3 70] (s1 arrived first), 190.03 [s4 40].
        for message in [
            limit("s1", .sell, 100, "190.02"),
            limit("s2", .sell, 50, "190.01"),
            limit("s3", .sell, 70, "190.02"),
            limit("s4", .sell, 40, "190.03"),
        ] {
            #expect(describe(exchange.handle(message)).count == 1)  // ack only: nothing to trade with
        }
        #expect(describe(exchange.depth(of: "AAPL")!.asks) == ["50@190.01", "170@190.02", "40@190.03"])

        // Buy 200 up to 190.02: s2 50 @190.01, then s1 100 @190.02 (time priority over s3), then s3 50 @190.02.
        let output = exchange.handle(limit("b1", .buy, 200, "190.02"))
        #expect(
            describe(output) == [
                "ack b1",
                "E1 b1 50@190.01 cum=50 leaves=150 partially_filled",
                "E2 s2 50@190.01 cum=50 leaves=0 filled",
                "E3 b1 100@190.02 cum=150 leaves=50 partially_filled",
                "E4 s1 100@190.02 cum=100 leaves=0 filled",
                "E5 b1 50@190.02 cum=200 leaves=0 filled",
                "E6 s3 50@190.02 cum=50 leaves=20 partially_filled",
            ]
        )
        // s4 at 190.03 is beyond the limit and untouched; s3 keeps its place with 20 left.
        #expect(describe(exchange.depth(of: "AAPL")!.asks) == ["20@190.02", "40@190.03"])
        #expect(exchange.openOrderIds == ["s3", "s4"])
        #expect(exchange.openOrder("s3")?.cumulativeQuantity == 50)
        #expect(exchange.openOrder("s3")?.leavesQuantity == 20)
    }

    @Test("A sell takes the highest bid first and trades at the resting order's price")
    func sellTakesBestBid() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        _ = exchange.handle(limit("b1", .buy, 30, "189.90"))
        _ = exchange.handle(limit("b2", .buy, 30, "189.95"))
        _ = exchange.handle(limit("b3", .buy, 30, "189.95"))
        #expect(describe(exchange.depth(of: "AAPL")!.bids) == ["60@189.95", "30@189.9"])

        // Sell 70 at 189.80 or better: b2 30 @189.95, b3 30 @189.95, b1 10 @189.90 — each at the bid's price,
        // better than the seller's limit.
        let output = exchange.handle(limit("s1", .sell, 70, "189.80"))
        #expect(
            describe(output) == [
                "ack s1",
                "E1 s1 30@189.95 cum=30 leaves=40 partially_filled",
                "E2 b2 30@189.95 cum=30 leaves=0 filled",
                "E3 s1 30@189.95 cum=60 leaves=10 partially_filled",
                "E4 b3 30@189.95 cum=30 leaves=0 filled",
                "E5 s1 10@189.9 cum=70 leaves=0 filled",
                "E6 b1 10@189.9 cum=10 leaves=20 partially_filled",
            ]
        )
        #expect(describe(exchange.depth(of: "AAPL")!.bids) == ["20@189.9"])
        #expect(exchange.depth(of: "AAPL")!.asks.isEmpty)
    }

    @Test("A limit order that does not cross rests behind earlier orders at its price")
    func restingQueue() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        #expect(describe(exchange.handle(limit("b1", .buy, 10, "190"))) == ["ack b1"])
        #expect(describe(exchange.handle(limit("s1", .sell, 10, "190.01"))) == ["ack s1"])
        #expect(describe(exchange.handle(limit("b2", .buy, 10, "190"))) == ["ack b2"])
        // A sell at 190 meets b1 before b2.
        #expect(
            describe(exchange.handle(limit("s2", .sell, 10, "190"))) == [
                "ack s2",
                "E1 s2 10@190 cum=10 leaves=0 filled",
                "E2 b1 10@190 cum=10 leaves=0 filled",
            ]
        )
        #expect(exchange.openOrderIds == ["b2", "s1"])
    }

    @Test("The book alone: fills name the resting owners in priority order")
    func orderBookDirectly() {
        var book = OrderBook()
        book.rest(side: .sell, price: price("10.02"), owner: .client("a"), quantity: 5)
        book.rest(side: .sell, price: price("10.01"), owner: .liquidity, quantity: 3)
        book.rest(side: .sell, price: price("10.02"), owner: .client("b"), quantity: 5)
        book.rest(side: .sell, price: price("10.03"), owner: .client("c"), quantity: 5)
        #expect(book.bestPrice(.sell) == price("10.01"))

        var fills: [OrderBook.Fill] = []
        let left = book.match(taker: .buy, limit: price("10.02"), quantity: 20, fills: &fills)
        #expect(left == 7)
        #expect(fills.map(\.maker) == [.liquidity, .client("a"), .client("b")])
        #expect(fills.map(\.quantity) == [3, 5, 5])
        #expect(fills.map(\.price) == [price("10.01"), price("10.02"), price("10.02")])
        #expect(book.bestPrice(.sell) == price("10.03"))

        // Removing an entry from the middle of a queue keeps the others in order.
        book.rest(side: .buy, price: price("9"), owner: .client("x"), quantity: 1)
        book.rest(side: .buy, price: price("9"), owner: .client("y"), quantity: 2)
        book.rest(side: .buy, price: price("9"), owner: .client("z"), quantity: 3)
        #expect(book.remove(side: .buy, price: price("9"), owner: .client("y")) == 2)
        #expect(book.remove(side: .buy, price: price("9"), owner: .client("y")) == nil)
        fills = []
        #expect(book.match(taker: .sell, limit: nil, quantity: 10, fills: &fills) == 6)
        #expect(fills.map(\.maker) == [.client("x"), .client("z")])
        #expect(book.bestPrice(.buy) == nil)
    }

    @Test("A long queue at one price keeps FIFO order while used-up entries are compacted away")
    func longQueueCompaction() {
        var book = OrderBook()
        for index in 0..<200 {
            book.rest(side: .sell, price: price("5"), owner: .client("o\(index)"), quantity: 1)
        }
        var makers: [OrderBook.Owner] = []
        for _ in 0..<200 {
            var fills: [OrderBook.Fill] = []
            #expect(book.match(taker: .buy, limit: price("5"), quantity: 1, fills: &fills) == 0)
            makers += fills.map(\.maker)
        }
        #expect(makers == (0..<200).map { .client("o\($0)") })
        #expect(book.bestPrice(.sell) == nil)
    }
}
