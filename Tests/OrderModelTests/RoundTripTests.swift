import TestSupport
import Testing

@testable import OrderModel

@Suite("Round trips of every message")
struct RoundTripTests {
    static let order = ClientOrder(
        clientOrderId: "c-1001", userId: "alice", symbol: "AAPL", side: .buy, quantity: 300, orderType: .limit,
        limitPrice: .p("189.25"))

    static let batch = Batch(
        batchId: "b-AAPL-buy-1", symbol: "AAPL", side: .buy,
        members: [
            Batch.Member(
                clientOrderId: "c-1001", userId: "alice", quantity: 300, limitPrice: .p("189.25"),
                traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Batch.Member(
                clientOrderId: "c-2001", userId: "bob", quantity: 200, limitPrice: .p("189.3"),
                traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ],
        closeReason: .linger, openedAt: "2026-11-30T09:30:00.000Z", closedAt: "2026-11-30T09:30:00.050Z")

    static let exchangeOrder = ExchangeOrder(
        exchangeOrderId: "x-b-AAPL-buy-1-0", batchId: "b-AAPL-buy-1", symbol: "AAPL", side: .buy, quantity: 250,
        orderType: .limit, limitPrice: .p("189.25"), slice: 0, slices: 2)

    static let fill = Fill(
        fillId: "f-9001", exchangeOrderId: "x-b-AAPL-buy-1-0", batchId: "b-AAPL-buy-1", symbol: "AAPL", side: .buy,
        quantity: 100, price: .p("189.24"), cumulativeQuantity: 100, leavesQuantity: 150, status: .partiallyFilled)

    static let update = OrderUpdate(
        clientOrderId: "c-1001", userId: "alice", symbol: "AAPL", side: .buy, status: .partiallyFilled, lastQuantity: 60,
        lastPrice: .p("189.24"), cumulativeQuantity: 60, leavesQuantity: 240, notional: 113_544_000,
        batchId: "b-AAPL-buy-1", fillId: "f-9001")

    @Test("The contract's examples encode to exactly the contract's field names and values")
    func exactEncodings() {
        #expect(
            Self.order.encodeJSONString()
                == #"{"clientOrderId":"c-1001","userId":"alice","symbol":"AAPL","side":"buy","quantity":300,"orderType":"limit","limitPrice":189.25}"#)
        #expect(
            Self.batch.encodeJSONString()
                == #"{"batchId":"b-AAPL-buy-1","symbol":"AAPL","side":"buy","quantity":500,"members":[{"clientOrderId":"c-1001","userId":"alice","quantity":300,"limitPrice":189.25,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},{"clientOrderId":"c-2001","userId":"bob","quantity":200,"limitPrice":189.3,"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}],"closeReason":"linger","openedAt":"2026-11-30T09:30:00.000Z","closedAt":"2026-11-30T09:30:00.050Z"}"#)
        #expect(
            Self.exchangeOrder.encodeJSONString()
                == #"{"exchangeOrderId":"x-b-AAPL-buy-1-0","batchId":"b-AAPL-buy-1","symbol":"AAPL","side":"buy","quantity":250,"orderType":"limit","limitPrice":189.25,"slice":0,"slices":2}"#)
        #expect(
            Self.fill.encodeJSONString()
                == #"{"fillId":"f-9001","exchangeOrderId":"x-b-AAPL-buy-1-0","batchId":"b-AAPL-buy-1","symbol":"AAPL","side":"buy","quantity":100,"price":189.24,"cumulativeQuantity":100,"leavesQuantity":150,"status":"partially_filled"}"#)
        #expect(
            Self.update.encodeJSONString()
                == #"{"clientOrderId":"c-1001","userId":"alice","symbol":"AAPL","side":"buy","status":"partially_filled","lastQuantity":60,"lastPrice":189.24,"cumulativeQuantity":60,"leavesQuantity":240,"averagePrice":189.24,"notional":11354.4,"batchId":"b-AAPL-buy-1","fillId":"f-9001"}"#)
    }

    @Test("Every message decodes to what was encoded")
    func roundTrips() throws {
        #expect(try ClientOrder(json: Self.order.encodeJSON()) == Self.order)
        #expect(try Batch(json: Self.batch.encodeJSON()) == Self.batch)
        #expect(try ExchangeOrder(json: Self.exchangeOrder.encodeJSON()) == Self.exchangeOrder)
        #expect(try Fill(json: Self.fill.encodeJSON()) == Self.fill)
        #expect(try OrderUpdate(json: Self.update.encodeJSON()) == Self.update)
    }

    @Test("Optional fields: absent ones are left out and come back absent")
    func optionalFields() throws {
        var market = Self.order
        market.orderType = .market
        market.limitPrice = nil
        #expect(!market.encodeJSONString().contains("limitPrice"))
        #expect(try ClientOrder(json: market.encodeJSON()) == market)

        let accepted = OrderUpdate(order: Self.order, status: .accepted)
        let text = accepted.encodeJSONString()
        #expect(!text.contains("batchId") && !text.contains("fillId") && !text.contains("reason"))
        #expect(try OrderUpdate(json: text) == accepted)

        var canceled = Self.fill
        canceled.status = .canceled
        canceled.quantity = 0
        canceled.price = .zero
        canceled.reason = "user \"canceled\"\n(at 09:31)"
        #expect(try Fill(json: canceled.encodeJSON()) == canceled)
        var missingPrice = canceled.encodeJSONString()
        missingPrice = missingPrice.replacing(",\"price\":0", with: "")
        #expect(!missingPrice.contains("price\""))
        #expect(try Fill(json: missingPrice) == canceled)
    }

    @Test("Strings with quotes, backslashes, control characters and non-ASCII survive")
    func specialStrings() throws {
        var order = Self.order
        order.clientOrderId = "q\"uo\\te/é中😀"
        order.userId = String(repeating: "ü", count: 64)
        #expect(try ClientOrder(json: order.encodeJSON()) == order)
        var fill = Self.fill
        fill.reason = "q\"uo\\te/\u{01}\t\n\r\u{08}\u{0C}\u{1F}é中😀"
        let bytes = fill.encodeJSON()
        #expect(!bytes.contains(where: { $0 < 0x20 }))
        #expect(try Fill(json: bytes) == fill)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#"q\"uo\\te/\u0001\t\n\r\b\f\u001fé中😀"#))
    }

    @Test("Large notionals and prices are exact")
    func largeNumbers() throws {
        var update = Self.update
        update.cumulativeQuantity = MessageLimits.maxQuantity
        update.leavesQuantity = 0
        update.notional = Price(ticks: .max).notional(quantity: MessageLimits.maxQuantity)
        update.averagePrice = Price(ticks: .max)
        update.lastPrice = Price(ticks: .max - 1)
        let decoded = try OrderUpdate(json: update.encodeJSON())
        #expect(decoded == update)
        #expect(decoded.exactAveragePrice?.isExactly(Price(ticks: .max)) == true)
    }

    @Test("A notional absent from an update decodes as nil (the contract's example has none)")
    func updateWithoutNotional() throws {
        let text = #"{"clientOrderId":"c-1001","userId":"alice","symbol":"AAPL","side":"buy","status":"partially_filled","lastQuantity":60,"lastPrice":189.24,"cumulativeQuantity":60,"leavesQuantity":240,"averagePrice":189.24,"batchId":"b-AAPL-buy-1","fillId":"f-9001"}"#
        let update = try OrderUpdate(json: text)
        #expect(update.notional == nil)
        #expect(update.exactAveragePrice == nil)
        #expect(update.encodeJSONString() == text)
    }

    @Test("Random messages round-trip", arguments: [1, 2, 3])
    func randomRoundTrips(_ seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        let alphabet = Array("abcXYZ019-_ é\"\\/😀")
        let withControls = alphabet + ["\n", "\t", "\u{0}", "\u{1B}"]
        func text(_ range: ClosedRange<Int> = 1...12, from characters: [Character] = alphabet) -> String {
            String((0..<Int.random(in: range, using: &generator)).map { _ in characters.randomElement(using: &generator)! })
        }
        func price() -> Price { Price(ticks: Int64.random(in: 1...99_999_999_999, using: &generator)) }
        for _ in 0..<300 {
            let order = ClientOrder(
                clientOrderId: text(), userId: text(), symbol: "S\(Int.random(in: 0...999, using: &generator))",
                side: Bool.random(using: &generator) ? .buy : .sell, quantity: Int64.random(in: 1...MessageLimits.maxQuantity, using: &generator),
                orderType: .limit, limitPrice: price())
            #expect(try ClientOrder(json: order.encodeJSON()) == order)
            let update = OrderUpdate(
                clientOrderId: text(), userId: text(), symbol: order.symbol, side: order.side,
                status: OrderStatus.allCases.randomElement(using: &generator)!, lastQuantity: Int64.random(in: 0...1_000, using: &generator),
                lastPrice: price(), cumulativeQuantity: 7, leavesQuantity: 3,
                notional: Int128(Int64.random(in: 0...Int64.max, using: &generator)), batchId: text(),
                fillId: Bool.random(using: &generator) ? text() : nil, reason: Bool.random(using: &generator) ? text(0...40, from: withControls) : nil)
            #expect(try OrderUpdate(json: update.encodeJSON()) == update)
            let fill = Fill(
                fillId: text(), exchangeOrderId: text(), batchId: text(), symbol: order.symbol, side: order.side,
                quantity: Int64.random(in: 1...1_000_000, using: &generator), price: price(), cumulativeQuantity: 5,
                leavesQuantity: 0, status: .filled)
            #expect(try Fill(json: fill.encodeJSON()) == fill)
        }
    }

    @Test("encodeJSON(into:) appends to what the buffer holds")
    func appends() throws {
        var buffer = Array("prefix:".utf8)
        Self.order.encodeJSON(into: &buffer)
        Self.fill.encodeJSON(into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        #expect(text.hasPrefix("prefix:{\"clientOrderId\""))
        #expect(text.hasSuffix("\"status\":\"partially_filled\"}"))
    }

    @Test("A batch with many members encodes beyond the stack buffer and decodes back")
    func largeBatch() throws {
        let batch = makeBatch((1...500).map { Int64($0) })
        let bytes = batch.encodeJSON()
        #expect(bytes.count > 50_000)
        #expect(try Batch(json: bytes) == batch)
    }
}
