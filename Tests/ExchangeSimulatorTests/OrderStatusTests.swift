import Testing

import ExchangeProtocol
@testable import ExchangeSimulator

@Suite("A new_order that repeats a known id is answered with the order's state, never executed again")
struct OrderStatusTests {
    private func status(_ output: [ExchangeMessage]) -> ExchangeOrderStatus? {
        guard case .orderStatus(let status)? = output.last else { return nil }
        return status
    }

    @Test("open, partly filled: the status has the quantities and executions, and the book is unchanged")
    func partlyFilled() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        _ = exchange.handle(limit("s1", .sell, 100, "190"))
        let first = exchange.handle(limit("b1", .buy, 300, "190"))
        #expect(describe(first).first == "ack b1")
        let execution = try #require(first.compactMap { if case .execution(let e) = $0, e.orderId == "b1" { return e } else { return nil } }.first)

        let again = exchange.handle(limit("b1", .buy, 300, "190"))
        #expect(again.count == 1, "only the status: \(describe(again))")
        let state = try #require(status(again))
        #expect(state.orderId == "b1")
        #expect(state.status == .partiallyFilled)
        #expect(state.quantity == 300)
        #expect(state.cumulativeQuantity == 100)
        #expect(state.leavesQuantity == 200)
        #expect(state.executions == [.init(executionId: execution.executionId, quantity: 100, price: price("190"))])
        #expect(exchange.openOrder("b1")?.leavesQuantity == 200)
        #expect(exchange.depth(of: "AAPL")?.bids.map(\.quantity) == [200])

        // The resting maker that filled is remembered as filled.
        let maker = try #require(status(exchange.handle(limit("s1", .sell, 100, "190"))))
        #expect(maker.status == .filled)
        #expect(maker.cumulativeQuantity == 100)
        #expect(maker.leavesQuantity == 0)
        #expect(exchange.depth(of: "AAPL")?.asks.isEmpty == true)
    }

    @Test("canceled, rejected and never-traded orders: each status says how the order stands, with the reason")
    func doneOrders() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        _ = exchange.handle(limit("o1", .buy, 10, "189"))
        let open = try #require(status(exchange.handle(limit("o1", .buy, 10, "189"))))
        #expect(open.status == .open)
        #expect(open.cumulativeQuantity == 0)
        #expect(open.leavesQuantity == 10)
        #expect(open.executions.isEmpty)

        _ = exchange.handle(.cancel(orderId: "o1"))
        let canceled = try #require(status(exchange.handle(limit("o1", .buy, 10, "189"))))
        #expect(canceled.status == .canceled)
        #expect(canceled.leavesQuantity == 0)
        #expect(canceled.reason == "requested")
        #expect(exchange.openOrderCount == 0)

        _ = exchange.handle(limit("r1", .buy, 1, "250"))
        let rejected = try #require(status(exchange.handle(limit("r1", .buy, 1, "250"))))
        #expect(rejected.status == .rejected)
        #expect(rejected.reason?.hasPrefix("price_band") == true)

        // A different order under a used id is still a client error.
        let reuse = exchange.handle(limit("r1", .sell, 5, "191"))
        guard case .reject(let reject)? = reuse.first else {
            Issue.record("expected a reject: \(describe(reuse))")
            return
        }
        #expect(reject.code == .duplicateOrderId)
    }

    @Test("a status with more executions than fit in one message sends the older ones first as the executions they were")
    func manyExecutions() throws {
        var exchange = try ExchangeSimulator(configuration: handWorkedConfiguration())
        for index in 0..<2_000 { _ = exchange.handle(limit("s\(index)", .sell, 1, "190")) }
        let first = exchange.handle(limit("big", .buy, 2_000, "190"))
        let executed = first.compactMap { if case .execution(let e) = $0, e.orderId == "big" { return e } else { return nil } }
        #expect(executed.count == 2_000)

        let again = exchange.handle(limit("big", .buy, 2_000, "190"))
        for message in again { #expect(message.encoded().count <= ExchangeProtocol.maxMessageBytes) }
        let replayed = again.compactMap { if case .execution(let e) = $0 { return e } else { return nil } }
        let state = try #require(status(again))
        #expect(state.executionsOmitted == Int64(replayed.count))
        #expect(replayed.count > 0)
        #expect(replayed.map(\.executionId) + state.executions.map(\.executionId) == executed.map(\.executionId))
        #expect(replayed == Array(executed.prefix(replayed.count)), "a replayed execution is the execution as it was")
        #expect(state.status == .filled)
        #expect(state.cumulativeQuantity == 2_000)
        // It decodes back as it was sent.
        #expect(try ExchangeMessage.decode(again.last!.encoded()) == again.last!)
    }
}
