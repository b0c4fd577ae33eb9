import Algo
import OrderModel
import TestSupport
import Testing

@Suite("Slicing: exchange orders sum exactly to the batch")
struct SlicingTests {
    func batch(_ quantities: [Int64], side: Side = .buy, limits: [String?] = []) -> Batch {
        let members = quantities.enumerated().map { index, quantity in
            Batch.Member(
                clientOrderId: "c\(index)", userId: "u", quantity: quantity,
                limitPrice: index < limits.count ? limits[index].flatMap { Price($0) } : nil,
                traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        }
        return Batch(batchId: "b-1", symbol: "AAPL", side: side, members: members, closeReason: .size, openedAt: "2026-11-30T09:30:00.000Z", closedAt: "2026-11-30T09:30:00.050Z")
    }

    @Test func splitsEvenlyWithTheRemainderFirst() {
        #expect(SlicingPolicy(slices: 3).quantities(of: 10) == [4, 3, 3])
        #expect(SlicingPolicy(slices: 3).quantities(of: 2) == [1, 1])
        #expect(SlicingPolicy(slices: 4, minSliceQuantity: 100).quantities(of: 250) == [125, 125])
        #expect(SlicingPolicy(slices: 4, minSliceQuantity: 100).quantities(of: 99) == [99])
        #expect(SlicingPolicy(slices: 1).quantities(of: 7) == [7])
    }

    @Test func randomBatchesAlwaysSumExactly() {
        var generator = SplitMix64(seed: 11)
        for _ in 0..<2_000 {
            let policy = SlicingPolicy(slices: Int(generator.next() % 8) + 1, minSliceQuantity: Int64(generator.next() % 50) + 1)
            let quantities = (0...(generator.next() % 6)).map { _ in Int64(generator.next() % 10_000) + 1 }
            let orders = policy.exchangeOrders(for: batch(quantities))
            #expect(orders.reduce(0) { $0 + $1.quantity } == quantities.reduce(0, +))
            #expect(orders.count <= policy.slices)
            #expect(orders.allSatisfy { $0.quantity > 0 && $0.slices == orders.count })
            #expect(orders.map(\.slice) == Array(0..<orders.count))
            #expect(Set(orders.map(\.exchangeOrderId)).count == orders.count)
            #expect(orders.allSatisfy { $0.validationErrors().isEmpty })
        }
    }

    @Test func marketBatchIsWorkedAtMarket() {
        let orders = SlicingPolicy(slices: 2).exchangeOrders(for: batch([100, 50]))
        #expect(orders.allSatisfy { $0.orderType == .market && $0.limitPrice == nil })
    }

    @Test func limitBatchUsesTheMostRestrictiveLimit() {
        let buys = SlicingPolicy(slices: 2).exchangeOrders(for: batch([100, 50, 10], side: .buy, limits: ["190.5", "189.25", nil]))
        #expect(buys.allSatisfy { $0.orderType == .limit && $0.limitPrice == Price("189.25") })
        let sells = SlicingPolicy(slices: 2).exchangeOrders(for: batch([100, 50], side: .sell, limits: ["190.5", "189.25"]))
        #expect(sells.allSatisfy { $0.orderType == .limit && $0.limitPrice == Price("190.5") })
    }
}
