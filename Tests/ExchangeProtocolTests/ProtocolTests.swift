import Foundation
import Testing

@testable import ExchangeProtocol

@Suite("Protocol: wire format and round trips")
struct ProtocolRoundTripTests {
    static let clientMessages: [ExchangeClientMessage] = [
        limit("o-1", .buy, 300, "189.25"),
        limit("o-2", .sell, 1, "0.0001"),
        market("o-3", .sell, 9_223_372_036_854_775_807),
        .newOrder(ExchangeNewOrder(orderId: "ö \"quoted\" \\ \n\t\u{01} 🚀", symbol: "", side: .buy, quantity: -7, orderType: .market)),
        .cancel(orderId: "o-1"),
    ]

    static let exchangeMessages: [ExchangeMessage] = [
        .ack(ExchangeAck(orderId: "o-1", symbol: "AAPL", side: .buy, quantity: 300, orderType: .limit(price("189.25")))),
        .ack(ExchangeAck(orderId: "o-3", symbol: "MSFT", side: .sell, quantity: 5, orderType: .market)),
        .execution(
            ExchangeExecution(
                executionId: "E1", orderId: "o-1", symbol: "AAPL", side: .buy, quantity: 100, price: price("190.0001"),
                cumulativeQuantity: 100, leavesQuantity: 200, status: .partiallyFilled
            )
        ),
        .execution(
            ExchangeExecution(
                executionId: "E2", orderId: "o-1", symbol: "AAPL", side: .buy, quantity: 200, price: price("190"),
                cumulativeQuantity: 300, leavesQuantity: 0, status: .filled
            )
        ),
        .reject(ExchangeReject(orderId: "o-9", code: .priceBand, reason: "limit price \"x\" is outside")),
        .canceled(
            ExchangeCanceled(
                orderId: "o-1", symbol: "AAPL", side: .sell, quantity: 10, cumulativeQuantity: 4, canceledQuantity: 6,
                reason: .requested
            )
        ),
        .canceled(
            ExchangeCanceled(
                orderId: "m", symbol: "AAPL", side: .buy, quantity: 10, cumulativeQuantity: 0, canceledQuantity: 10,
                reason: .noLiquidity
            )
        ),
        .cancelReject(ExchangeCancelReject(orderId: "zz", reason: "no order \"zz\" is known")),
        .error(ExchangeProtocolError(code: .missingField, message: "m", field: "symbol", orderId: "o-5")),
        .error(ExchangeProtocolError(code: .notJSON, message: "not JSON: \u{7F} \u{1F}")),
        .orderStatus(
            ExchangeOrderStatus(
                orderId: "o-1", symbol: "AAPL", side: .buy, quantity: 300, cumulativeQuantity: 100, leavesQuantity: 200,
                status: .partiallyFilled,
                executions: [.init(executionId: "E1", quantity: 60, price: price("189.24")), .init(executionId: "E4", quantity: 40, price: price("189.25"))])),
        .orderStatus(
            ExchangeOrderStatus(
                orderId: "o-2", symbol: "AAPL", side: .sell, quantity: 10, cumulativeQuantity: 0, leavesQuantity: 0, status: .rejected,
                reason: "price_band: outside", executions: [], executionsOmitted: 0)),
        .orderStatus(
            ExchangeOrderStatus(
                orderId: "o-3", symbol: "AAPL", side: .sell, quantity: 10, cumulativeQuantity: 10, leavesQuantity: 0, status: .filled,
                executions: [.init(executionId: "E9", quantity: 4, price: price("190"))], executionsOmitted: 2)),
    ]

    @Test("Client messages encode to the documented bytes")
    func clientWireFormat() {
        #expect(
            String(decoding: Self.clientMessages[0].encoded(), as: UTF8.self)
                == #"{"type":"new_order","orderId":"o-1","symbol":"AAPL","side":"buy","quantity":300,"orderType":"limit","limitPrice":189.25}"#
        )
        #expect(
            String(decoding: Self.clientMessages[2].encoded(), as: UTF8.self)
                == #"{"type":"new_order","orderId":"o-3","symbol":"AAPL","side":"sell","quantity":9223372036854775807,"orderType":"market"}"#
        )
        #expect(String(decoding: Self.clientMessages[4].encoded(), as: UTF8.self) == #"{"type":"cancel","orderId":"o-1"}"#)
    }

    @Test("Exchange messages encode to the documented bytes")
    func exchangeWireFormat() {
        let lines = Self.exchangeMessages.map { String(decoding: $0.encoded(), as: UTF8.self) }
        #expect(
            lines[2]
                == #"{"type":"execution","executionId":"E1","orderId":"o-1","symbol":"AAPL","side":"buy","quantity":100,"price":190.0001,"cumulativeQuantity":100,"leavesQuantity":200,"status":"partially_filled"}"#
        )
        #expect(lines[3].contains(#""price":190,"#))
        #expect(lines[4] == #"{"type":"reject","orderId":"o-9","code":"price_band","reason":"limit price \"x\" is outside"}"#)
        #expect(
            lines[5]
                == #"{"type":"canceled","orderId":"o-1","symbol":"AAPL","side":"sell","quantity":10,"cumulativeQuantity":4,"canceledQuantity":6,"reason":"requested"}"#
        )
        #expect(lines[7] == #"{"type":"cancel_reject","orderId":"zz","reason":"no order \"zz\" is known"}"#)
        #expect(lines[8] == #"{"type":"error","code":"missing_field","message":"m","field":"symbol","orderId":"o-5"}"#)
        #expect(lines[9] == #"{"type":"error","code":"not_json","message":"not JSON: \#u{7F} \u001f"}"#)
        #expect(
            lines[10]
                == #"{"type":"order_status","orderId":"o-1","symbol":"AAPL","side":"buy","quantity":300,"cumulativeQuantity":100,"leavesQuantity":200,"status":"partially_filled","executions":[{"executionId":"E1","quantity":60,"price":189.24},{"executionId":"E4","quantity":40,"price":189.25}]}"#
        )
        #expect(lines[11].hasSuffix(#""status":"rejected","reason":"price_band: outside","executions":[]}"#))
        #expect(lines[12].hasSuffix(#""executions":[{"executionId":"E9","quantity":4,"price":190}],"executionsOmitted":2}"#))
        // No trace context travels to or from the exchange.
        for line in lines + Self.clientMessages.map({ String(decoding: $0.encoded(), as: UTF8.self) }) {
            #expect(!line.contains("trace"))
        }
    }

    @Test("Every client message decodes back to itself", arguments: clientMessages)
    func clientRoundTrip(_ message: ExchangeClientMessage) throws {
        #expect(try ExchangeClientMessage.decode(message.encoded()) == message)
    }

    @Test("Every exchange message decodes back to itself", arguments: exchangeMessages)
    func exchangeRoundTrip(_ message: ExchangeMessage) throws {
        #expect(try ExchangeMessage.decode(message.encoded()) == message)
    }

    @Test("An order_status with a malformed execution is refused with the field named")
    func malformedStatus() throws {
        let head = #"{"type":"order_status","orderId":"o-1","symbol":"AAPL","side":"buy","quantity":3,"cumulativeQuantity":1,"leavesQuantity":2,"status":"open","#
        for (executions, field) in [
            (#""executions":[{"executionId":"E1","quantity":"1","price":1}]"#, "quantity"),
            (#""executions":[7]"#, "executions"),
            (#""executions":{}"#, "executions"),
            (#""executions":[{"executionId":"E1","quantity":1}]"#, "price"),
        ] {
            let error = try #require(throws: ExchangeProtocolError.self) { try ExchangeMessage.decode(head + executions + "}") }
            #expect(error.field == field, "\(executions)")
            #expect(error.orderId == "o-1")
        }
        #expect(throws: ExchangeProtocolError.self) { try ExchangeMessage.decode(head.replacingOccurrences(of: "\"open\"", with: "\"done\"") + #""executions":[]}"#) }
    }

    @Test("The encoder's output is JSON that Foundation reads the same way")
    func foundationAgrees() throws {
        let message = Self.clientMessages[3]
        let object = try JSONSerialization.jsonObject(with: Data(message.encoded())) as? [String: Any]
        #expect(object?["orderId"] as? String == "ö \"quoted\" \\ \n\t\u{01} 🚀")
        #expect(object?["quantity"] as? Int == -7)
        let execution = try JSONSerialization.jsonObject(with: Data(Self.exchangeMessages[2].encoded())) as? [String: Any]
        #expect(execution?["price"] as? Double == 190.0001)
    }

    @Test("Extra fields, any key order, whitespace, null optionals and escapes are accepted")
    func lenientWhereHarmless() throws {
        let text = """
             { "traceparent" : "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
               "quantity" : 300 , "limitPrice" : null, "orderType" : "market",
               "extra": {"nested": [1, 2.5e-3, true, false, null, {"deep": "x"}]},
               "side":"sell", "symbol":"\\u0041APL", "orderId":"o\\/1\\ud83d\\ude80", "type":"new_order" }\r\n
            """
        #expect(try ExchangeClientMessage.decode(text) == market("o/1🚀", .sell, 300))
    }

    @Test("Prices: JSON numbers or decimal strings, exact to the tick, exponents in numbers")
    func priceForms() throws {
        func decodePrice(_ json: String) throws -> ExchangePrice? {
            let message = try ExchangeClientMessage.decode(
                #"{"type":"new_order","orderId":"o","symbol":"AAPL","side":"buy","quantity":1,"orderType":"limit","limitPrice":"#
                    + json + "}"
            )
            guard case .newOrder(let order) = message else { return nil }
            return order.orderType.limitPrice
        }
        #expect(try decodePrice("189.25") == price("189.25"))
        #expect(try decodePrice(#""189.25""#) == price("189.25"))
        #expect(try decodePrice("189.2500000") == price("189.25"))
        #expect(try decodePrice("1.8925e2") == price("189.25"))
        #expect(try decodePrice("18925E-2") == price("189.25"))
        #expect(try decodePrice("0.0001") == ExchangePrice(ticks: 1))
        #expect(try decodePrice("-0") == ExchangePrice(ticks: 0))
        // 0.1 is exact here; through Double it would not be.
        #expect(try decodePrice("0.1") == ExchangePrice(ticks: 1_000))
    }

    @Test("Quantities: whole numbers in any JSON spelling")
    func quantityForms() throws {
        for json in ["300", "300.0", "3e2", "3.00E+2"] {
            let message = try ExchangeClientMessage.decode(
                #"{"type":"new_order","orderId":"o","symbol":"AAPL","side":"buy","orderType":"market","quantity":"# + json + "}"
            )
            #expect(message == market("o", .buy, 300), "\(json)")
        }
    }
}
