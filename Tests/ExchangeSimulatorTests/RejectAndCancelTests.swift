import Testing

import ExchangeProtocol
@testable import ExchangeSimulator

@Suite("Rejects and cancels")
struct RejectAndCancelTests {
    func onlyReject(_ output: [ExchangeMessage]) -> ExchangeReject? {
        guard output.count == 1, case .reject(let reject) = output[0] else { return nil }
        return reject
    }

    @Test("The price band is ±10% of the reference by default, bounds included")
    func priceBand() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        // Reference 190: the band is 171...209.
        #expect(describe(exchange.handle(limit("in-high", .buy, 1, "209"))) == ["ack in-high"])
        #expect(describe(exchange.handle(limit("in-low", .buy, 1, "171"))) == ["ack in-low"])
        let high = try #require(onlyReject(exchange.handle(limit("out-high", .buy, 1, "209.0001"))))
        #expect(high.code == .priceBand)
        #expect(high.orderId == "out-high")
        #expect(high.reason.contains("209.0001"))
        #expect(high.reason.contains("171...209"))
        #expect(high.reason.contains("±10%"))
        #expect(high.reason.contains("190"))
        let low = try #require(onlyReject(exchange.handle(limit("out-low", .sell, 1, "170.9999"))))
        #expect(low.code == .priceBand)
        // Rejected orders leave nothing behind.
        #expect(exchange.openOrderIds == ["in-high", "in-low"])
    }

    @Test("The band is configurable and follows the walking reference price")
    func configurableBandFollowsWalk() throws {
        var configuration = handWorkedConfiguration(liquidity: .none)
        configuration.priceBandBasisPoints = 100  // ±1%
        configuration.walk = .init(interval: .milliseconds(10), maxStepTicks: 500)
        var exchange = try ExchangeSimulator(configuration: configuration)
        // Reference 190, ±1%: the band is 188.1...191.9.
        #expect(onlyReject(exchange.handle(limit("a", .buy, 1, "188.1"))) == nil)
        #expect(onlyReject(exchange.handle(limit("b", .buy, 1, "191.9001")))?.code == .priceBand)
        #expect(onlyReject(exchange.handle(limit("c", .buy, 1, "191.9"))) == nil)
        #expect(onlyReject(exchange.handle(limit("c2", .buy, 1, "188.0999")))?.code == .priceBand)

        _ = exchange.tick(now: .seconds(5))
        let reference = try #require(exchange.referencePrice(of: "AAPL"))
        #expect(reference != price("190"))
        let width = reference.ticks / 100
        let inside = ExchangePrice(ticks: reference.ticks + width)
        let outside = ExchangePrice(ticks: reference.ticks + width + 1)
        #expect(onlyReject(exchange.handle(limit("d", .buy, 1, inside.description))) == nil)
        #expect(onlyReject(exchange.handle(limit("e", .buy, 1, outside.description)))?.code == .priceBand)
        // Market orders have no price to check.
        #expect(onlyReject(exchange.handle(market("f", .buy, 1))) == nil)
    }

    @Test("An unknown symbol is rejected, and the reason lists the listed ones")
    func unknownSymbol() throws {
        var exchange = try ExchangeSimulator()
        #expect(exchange.symbols == ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "JPM"])
        let reject = try #require(onlyReject(exchange.handle(limit("o1", .buy, 1, "100", symbol: "IBM"))))
        #expect(reject.code == .unknownSymbol)
        #expect(reject.reason.contains("\"IBM\""))
        #expect(reject.reason.contains("AAPL, MSFT, NVDA, AMZN, GOOG, META, TSLA, JPM"))
        // Symbols match exactly.
        #expect(onlyReject(exchange.handle(market("o2", .buy, 1, symbol: "aapl")))?.code == .unknownSymbol)

        // The list is configurable.
        var configuration = ExchangeSimulatorConfiguration()
        configuration.instruments = [ExchangeInstrument(symbol: "XYZ", referencePrice: price("10"))]
        var custom = try ExchangeSimulator(configuration: configuration)
        #expect(onlyReject(custom.handle(market("o1", .buy, 1, symbol: "AAPL")))?.code == .unknownSymbol)
        #expect(onlyReject(custom.handle(limit("o2", .buy, 1, "10", symbol: "XYZ"))) == nil)
    }

    @Test("A zero or negative quantity, or a non-positive limit price, is rejected")
    func nonPositiveValues() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        #expect(onlyReject(exchange.handle(limit("q0", .buy, 0, "190")))?.code == .invalidQuantity)
        #expect(onlyReject(exchange.handle(market("q-5", .sell, -5)))?.code == .invalidQuantity)
        #expect(onlyReject(exchange.handle(limit("q-5b", .sell, -5, "190")))?.reason == "quantity must be positive, not -5")
        // Too large: the book's sums could overflow otherwise.
        #expect(onlyReject(exchange.handle(limit("huge", .buy, .max, "190")))?.code == .invalidQuantity)
        #expect(onlyReject(exchange.handle(limit("max", .buy, 1_000_000_000, "189")))?.code == nil)
        #expect(onlyReject(exchange.handle(limit("max+1", .buy, 1_000_000_001, "189")))?.code == .invalidQuantity)
        _ = exchange.handle(.cancel(orderId: "max"))
        #expect(onlyReject(exchange.handle(limit("p0", .buy, 1, "0")))?.code == .invalidPrice)
        #expect(onlyReject(exchange.handle(limit("p-1", .buy, 1, "-1")))?.code == .invalidPrice)
        #expect(exchange.openOrderCount == 0)
    }

    @Test("A used order id with a different order is rejected, whether the first order is open, done or was rejected")
    func duplicateOrderId() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        _ = exchange.handle(limit("open", .buy, 10, "189"))
        let duplicate = try #require(onlyReject(exchange.handle(limit("open", .sell, 5, "191"))))
        #expect(duplicate.code == .duplicateOrderId)
        #expect(duplicate.orderId == "open")
        // The first order is untouched.
        #expect(exchange.openOrder("open")?.side == .buy)
        #expect(exchange.openOrder("open")?.leavesQuantity == 10)
        #expect(exchange.depth(of: "AAPL")!.asks.isEmpty)

        _ = exchange.handle(market("done", .sell, 10))  // fills against "open" and is done
        #expect(onlyReject(exchange.handle(market("done", .sell, 1)))?.code == .duplicateOrderId)
        _ = exchange.handle(limit("refused", .buy, 0, "190"))
        #expect(onlyReject(exchange.handle(limit("refused", .buy, 1, "190")))?.code == .duplicateOrderId)
    }

    @Test("Done order ids are remembered up to orderIdMemory; open ones always")
    func boundedIdMemory() throws {
        var configuration = handWorkedConfiguration()
        configuration.orderIdMemory = 2
        var exchange = try ExchangeSimulator(configuration: configuration)
        _ = exchange.handle(limit("rest", .buy, 1, "180"))
        for id in ["m1", "m2", "m3"] { _ = exchange.handle(market(id, .buy, 1)) }
        #expect(exchange.doneOrders.count == 2)
        // "rest" and "m1" were forgotten by the ring, but "rest" is open, so it is still a duplicate.
        #expect(onlyReject(exchange.handle(market("rest", .buy, 1)))?.code == .duplicateOrderId)
        #expect(onlyReject(exchange.handle(market("m1", .buy, 1))) == nil)
        // "m3" is remembered: the same order again gets its state, and is not placed again.
        let again = exchange.handle(market("m3", .buy, 1))
        guard case .orderStatus(let status)? = again.first, again.count == 1 else {
            Issue.record("expected only an order_status: \(describe(again))")
            return
        }
        #expect(status.orderId == "m3")
    }

    @Test("Open orders are capped by maxOpenOrders")
    func maxOpenOrders() throws {
        var configuration = handWorkedConfiguration()
        configuration.maxOpenOrders = 2
        var exchange = try ExchangeSimulator(configuration: configuration)
        _ = exchange.handle(limit("a", .buy, 1, "180"))
        _ = exchange.handle(limit("b", .buy, 1, "180"))
        #expect(onlyReject(exchange.handle(limit("c", .buy, 1, "180")))?.code == .tooManyOpenOrders)
        _ = exchange.handle(.cancel(orderId: "a"))
        #expect(onlyReject(exchange.handle(limit("d", .buy, 1, "180"))) == nil)
    }

    @Test("Cancel: the open rest is canceled once; later cancels and unknown ids get cancel_reject")
    func cancel() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        _ = exchange.handle(limit("b1", .buy, 100, "190"))
        _ = exchange.handle(market("s1", .sell, 30))
        #expect(exchange.openOrder("b1")?.leavesQuantity == 70)

        let canceled = exchange.handle(.cancel(orderId: "b1"))
        #expect(describe(canceled) == ["canceled b1 cum=30 canceled=70 requested"])
        guard case .canceled(let payload) = canceled.first else { return }
        #expect(payload.symbol == "AAPL" && payload.side == .buy && payload.quantity == 100)
        #expect(exchange.openOrder("b1") == nil)
        #expect(exchange.depth(of: "AAPL")!.bids.isEmpty)

        let again = exchange.handle(.cancel(orderId: "b1"))
        #expect(describe(again) == ["cancel_reject b1"])
        guard case .cancelReject(let reject) = again.first else { return }
        #expect(reject.reason.contains("not open"))

        let unknown = exchange.handle(.cancel(orderId: "nope"))
        guard case .cancelReject(let unknownReject) = unknown.first else {
            Issue.record("expected cancel_reject, got \(unknown)")
            return
        }
        #expect(unknownReject.reason.contains("no order \"nope\""))

        // A canceled order no longer trades.
        #expect(describe(exchange.handle(market("s2", .sell, 10))) == ["ack s2", "canceled s2 cum=0 canceled=10 no_liquidity"])
    }

    @Test("Garbage bytes give one error message and change nothing")
    func garbageBytes() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        _ = exchange.handle(limit("b1", .buy, 10, "190"))
        let output = exchange.handle(bytes: bytes("{\"type\":\"new_order\",\"orderId\":\"b2\""))
        #expect(describe(output) == ["error not_json"])
        #expect(exchange.openOrderIds == ["b1"])
        #expect(exchange.executionCount == 0)
        // The same order, well formed, is accepted: the broken one did not use up its id.
        let accepted = exchange.handle(
            bytes: bytes(
                #"{"type":"new_order","orderId":"b2","symbol":"AAPL","side":"sell","quantity":4,"orderType":"limit","limitPrice":"190"}"#
            )
        )
        #expect(
            describe(accepted) == [
                "ack b2", "E1 b2 4@190 cum=4 leaves=0 filled", "E2 b1 4@190 cum=4 leaves=6 partially_filled",
            ]
        )
    }
}
