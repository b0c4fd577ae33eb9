import BoundedCollections
import OrderModel
@testable import OrderGateway
import Testing

@Suite("Order latency: from the gateway's receipt to the terminal update", .timeLimit(.minutes(1)))
struct OrderLatencyTests {
    func order(_ id: String, user: String = "alice") -> ClientOrder {
        ClientOrder(clientOrderId: id, userId: user, symbol: "AAPL", side: .buy, quantity: 10, orderType: .market)
    }

    @Test("a terminal update ends its order's clock once; other statuses, other users and unknown orders do not")
    func terminalOnly() {
        let latency = OrderLatency()
        let start = ContinuousClock.now
        latency.received(order("c-1"), at: start)
        latency.received(order("c-1", user: "bob"), at: start)
        #expect(latency.updated(OrderUpdate(order: order("c-1"), status: .batched), at: start + .seconds(1)) == nil)
        #expect(latency.updated(OrderUpdate(order: order("c-9"), status: .filled), at: start + .seconds(1)) == nil)
        #expect(latency.updated(OrderUpdate(order: order("c-1"), status: .filled), at: start + .milliseconds(2_500)) == .milliseconds(2_500))
        #expect(latency.updated(OrderUpdate(order: order("c-1"), status: .filled), at: start + .seconds(3)) == nil)
        #expect(latency.open == 1)
        #expect(latency.updated(OrderUpdate(order: order("c-1", user: "bob"), status: .rejected), at: start + .seconds(4)) == .seconds(4))
        #expect(latency.open == 0)
    }

    @Test("the clock holds at most its capacity: the oldest open order is forgotten first")
    func bounded() {
        let latency = OrderLatency(capacity: 2)
        let start = ContinuousClock.now
        for id in ["a", "b", "c"] { latency.received(order(id), at: start) }
        #expect(latency.open == 2)
        #expect(latency.updated(OrderUpdate(order: order("a"), status: .canceled), at: start) == nil)
        #expect(latency.updated(OrderUpdate(order: order("c"), status: .canceled), at: start + .seconds(1)) == .seconds(1))
    }

    @Test("RecentDictionary: replaces in place, removes at once, forgets after capacity later insertions")
    func recentDictionary() {
        var dictionary = RecentDictionary<String, Int>(capacity: 3)
        dictionary.insert(1, for: "a")
        dictionary.insert(2, for: "b")
        dictionary.insert(20, for: "b")
        #expect(dictionary.count == 2 && dictionary["b"] == 20)
        #expect(dictionary.removeValue(for: "a") == 1)
        #expect(dictionary["a"] == nil && dictionary.count == 1)
        dictionary.insert(3, for: "c")
        dictionary.insert(4, for: "d")  // the ring is full: "a"'s place is reused, nothing held is lost
        #expect(dictionary.count == 3 && dictionary["b"] == 20 && dictionary["c"] == 3 && dictionary["d"] == 4)
        dictionary.insert(5, for: "e")  // "b" is the oldest insertion held
        #expect(dictionary.count == 3 && dictionary["b"] == nil && dictionary["e"] == 5)
        var none = RecentDictionary<String, Int>(capacity: 0)
        none.insert(1, for: "a")
        #expect(none.count == 0)
    }
}
