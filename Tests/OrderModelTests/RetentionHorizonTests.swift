import OrderModel
import Testing

@Suite("Retention horizon: the audit keeps the orders whose whole life the broker still holds")
struct RetentionHorizonTests {
    func order(_ id: String) -> ClientOrder {
        ClientOrder(clientOrderId: id, userId: "alice", symbol: "AAPL", side: .buy, quantity: 10, orderType: .market)
    }

    func batch(_ id: String, _ members: [String]) -> Batch {
        Batch(
            batchId: id, symbol: "AAPL", side: .buy,
            members: members.map { .init(clientOrderId: $0, userId: "alice", quantity: 10, traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") },
            closeReason: .linger, openedAt: "2026-12-05T10:00:00Z", closedAt: "2026-12-05T10:00:01Z")
    }

    func fill(_ id: String, batch: String) -> Fill {
        Fill(
            fillId: id, exchangeOrderId: "x-\(batch)", batchId: batch, symbol: "AAPL", side: .buy, quantity: 10,
            price: Price(ticks: 1_900_000), cumulativeQuantity: 10, leavesQuantity: 0, status: .filled)
    }

    @Test("orders before the horizon, orders sharing a batch with one, and orders of unknown time are left out with their fills and updates")
    func window() {
        let orders: [(order: ClientOrder, timestampMilliseconds: Int64?)] = [
            (order("a"), 100), (order("b"), 200), (order("c"), 300), (order("d"), 300), (order("e"), nil), (order("f"), 400),
        ]
        let batches = [batch("b1", ["a", "b"]), batch("b2", ["c", "d"]), batch("b3", ["f"])]
        let fills = [fill("f1", batch: "b1"), fill("f2", batch: "b2"), fill("f3", batch: "b3")]
        let updates = orders.map { OrderUpdate(order: $0.order, status: .accepted) }
        let window = RetentionHorizon(milliseconds: 150).window(clientOrders: orders, batches: batches, fills: fills, updates: updates)
        #expect(window.clientOrders.map(\.clientOrderId) == ["c", "d", "f"])
        #expect(window.batches.map(\.batchId) == ["b2", "b3"])
        #expect(window.fills.map(\.fillId) == ["f2", "f3"])
        #expect(window.updates.map(\.clientOrderId) == ["c", "d", "f"])
        #expect(window.ordersLeftOut == 3)
    }

    @Test("a horizon before every order keeps everything")
    func nothingLost() {
        let orders: [(order: ClientOrder, timestampMilliseconds: Int64?)] = [(order("a"), 100), (order("b"), 200)]
        let window = RetentionHorizon(milliseconds: 50).window(
            clientOrders: orders, batches: [batch("b1", ["a", "b"])], fills: [fill("f1", batch: "b1")], updates: [])
        #expect(window.clientOrders.count == 2 && window.batches.count == 1 && window.fills.count == 1 && window.ordersLeftOut == 0)
    }
}
