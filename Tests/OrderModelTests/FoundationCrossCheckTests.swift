import Foundation
import Testing

@testable import OrderModel

/// Our JSON against Foundation's JSONSerialization, in both directions (tests only: the module never uses
/// Foundation).
@Suite("Cross-check with Foundation's JSONSerialization")
struct FoundationCrossCheckTests {
    func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    func decimal(_ value: Any?) -> Decimal? {
        (value as? NSNumber).map { Decimal(string: $0.stringValue) } ?? nil
    }

    @Test("Foundation reads every message we write, field for field")
    func foundationReadsOurs() throws {
        let order = try object(RoundTripTests.order.encodeJSON())
        #expect(order["clientOrderId"] as? String == "c-1001")
        #expect(order["userId"] as? String == "alice")
        #expect(order["symbol"] as? String == "AAPL")
        #expect(order["side"] as? String == "buy")
        #expect((order["quantity"] as? NSNumber)?.int64Value == 300)
        #expect(order["orderType"] as? String == "limit")
        #expect(decimal(order["limitPrice"]) == Decimal(string: "189.25"))
        #expect(Set(order.keys) == ["clientOrderId", "userId", "symbol", "side", "quantity", "orderType", "limitPrice"])

        let batch = try object(RoundTripTests.batch.encodeJSON())
        let members = try #require(batch["members"] as? [[String: Any]])
        #expect(members.count == 2)
        #expect(members[1]["traceparent"] as? String == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(decimal(members[1]["limitPrice"]) == Decimal(string: "189.3"))
        #expect((batch["quantity"] as? NSNumber)?.int64Value == 500)
        #expect(batch["closeReason"] as? String == "linger")

        let exchangeOrder = try object(RoundTripTests.exchangeOrder.encodeJSON())
        #expect((exchangeOrder["slices"] as? NSNumber)?.intValue == 2)

        let fill = try object(RoundTripTests.fill.encodeJSON())
        #expect(fill["status"] as? String == "partially_filled")
        #expect(decimal(fill["price"]) == Decimal(string: "189.24"))
        #expect((fill["leavesQuantity"] as? NSNumber)?.int64Value == 150)

        let update = try object(RoundTripTests.update.encodeJSON())
        #expect(decimal(update["averagePrice"]) == Decimal(string: "189.24"))
        #expect(decimal(update["notional"]) == Decimal(string: "11354.4"))
        #expect(update["fillId"] as? String == "f-9001")
        #expect(update["reason"] == nil)
    }

    @Test("Foundation reads our escapes back to the same strings")
    func foundationReadsEscapes() throws {
        var fill = RoundTripTests.fill
        fill.reason = "q\"uo\\te/\u{01}\t\n\r\u{08}\u{0C}\u{7F}é中😀"
        fill.fillId = "f/\"1\"\\é"
        let read = try object(fill.encodeJSON())
        #expect(read["reason"] as? String == fill.reason)
        #expect(read["fillId"] as? String == fill.fillId)
    }

    @Test("We read what Foundation writes, escapes and all")
    func weReadFoundations() throws {
        let dictionary: [String: Any] = [
            "clientOrderId": "c-\"9\"/\\é😀", "userId": "bob\u{00E9}", "symbol": "MSFT", "side": "sell",
            "quantity": 1_234, "orderType": "limit", "limitPrice": "412.3456", "extra": ["nested": [1, 2.5, NSNull()]],
        ]
        for options: JSONSerialization.WritingOptions in [[], [.prettyPrinted], [.sortedKeys, .withoutEscapingSlashes]] {
            let data = try JSONSerialization.data(withJSONObject: dictionary, options: options)
            let order = try ClientOrder(json: Array(data))
            #expect(order.clientOrderId == "c-\"9\"/\\é😀")
            #expect(order.userId == "bobé")
            #expect(order.side == .sell && order.quantity == 1_234)
            #expect(order.limitPrice == Price(ticks: 4_123_456))
        }
    }

    @Test("We read Foundation's numbers: integers, and decimals Foundation writes exactly")
    func foundationNumbers() throws {
        for (price, ticks) in [(0.5, Int64(5_000)), (189.25, 1_892_500), (1.0, 10_000), (0.0001, 1)] {
            let data = try JSONSerialization.data(withJSONObject: ["p": price, "q": 300])
            let text = String(decoding: data, as: UTF8.self)
            // Foundation may write 0.0001 as 0.0001 or as 1e-04; exponents are refused by design.
            let fieldText = text.replacing(#""p""#, with: #""limitPrice""#).replacing(#""q""#, with: #""quantity""#)
            let order = ClientOrder.decode(
                json: String(fieldText.dropLast()) + #","clientOrderId":"c","userId":"u","symbol":"S","side":"buy","orderType":"limit"}"#)
            switch order {
            case .success(let order):
                #expect(order.limitPrice?.ticks == ticks)
                #expect(order.quantity == 300)
            case .failure(let errors):
                #expect(text.contains("e"), "\(text): \(errors)")
                #expect(errors.errors.map(\.code) == [.invalidPrice])
            }
        }
    }

    @Test("The examples in topics/ decode (the contract's own examples)")
    func topicExamples() throws {
        // Tests/OrderModelTests/<this file> → the repository's topics/ folder.
        let topics = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("topics")
        func example(_ name: String) throws -> [UInt8] {
            let data = try Data(contentsOf: topics.appendingPathComponent("\(name).json"))
            let definition = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            return Array(try JSONSerialization.data(withJSONObject: try #require(definition["example"])))
        }
        #expect(try ClientOrder(json: example("client-orders")) == RoundTripTests.order)
        #expect(try Batch(json: example("batches")) == RoundTripTests.batch)
        #expect(try ExchangeOrder(json: example("exchange-orders")) == RoundTripTests.exchangeOrder)
        #expect(try Fill(json: example("fills")) == RoundTripTests.fill)
        #expect(try OrderUpdate(json: example("order-updates")) == RoundTripTests.update)
        #expect(problems(ClientOrder.decode(json: try example("dead-letters"))).count == 3)
    }
}
