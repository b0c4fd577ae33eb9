import Testing

@testable import ExchangeProtocol

@Suite("Protocol: malformed messages get clear errors and never trap")
struct MalformedInputTests {
    static let validNewOrder =
        #"{"type":"new_order","orderId":"o7","symbol":"AAPL","side":"buy","quantity":300,"orderType":"limit","limitPrice":189.25}"#

    /// The error `decode` throws for `text`, or `nil` if it decodes.
    func error(_ text: String) -> ExchangeProtocolError? {
        error(Array(text.utf8))
    }

    func error(_ bytes: [UInt8]) -> ExchangeProtocolError? {
        do {
            _ = try ExchangeClientMessage.decode(bytes)
            return nil
        } catch {
            return error
        }
    }

    /// `validNewOrder` with one field's JSON value replaced, or removed when `value` is `nil`.
    func newOrder(_ field: String, _ value: String?) -> String {
        var fields = [
            ("type", #""new_order""#), ("orderId", #""o7""#), ("symbol", #""AAPL""#), ("side", #""buy""#),
            ("quantity", "300"), ("orderType", #""limit""#), ("limitPrice", "189.25"),
        ]
        if let index = fields.firstIndex(where: { $0.0 == field }) {
            if let value { fields[index].1 = value } else { fields.remove(at: index) }
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    @Test("The template itself decodes")
    func templateIsValid() {
        #expect(error(Self.validNewOrder) == nil)
        #expect(error(newOrder("none", nil)) == nil)
    }

    @Test(
        "Bytes that are not one JSON value are not_json, with a position",
        arguments: [
            ("", "empty"),
            ("   ", "empty"),
            ("hello", "byte 0"),
            ("{", "ends"),
            (#"{"type":"cancel","orderId":"o1",}"#, "byte 32"),
            (#"{"type":"cancel"} x"#, "after the end"),
            (#"{"type" "cancel"}"#, "':'"),
            (#"{type:"cancel"}"#, "object key"),
            (#"{"type":"cancel","orderId":"o1"#, "not terminated"),
            (#"{"type":'cancel'}"#, "byte 8"),
            (#"{"q":012}"#, "byte 6"),
            (#"{"q":1.}"#, "'.'"),
            (#"{"q":-}"#, "'-'"),
            (#"{"q":1e}"#, "exponent"),
            (#"{"q":tru}"#, "byte 5"),
            (#"{"q":NaN}"#, "byte 5"),
            (#"{"q":"\x"}"#, "not a JSON escape"),
            (#"{"q":"\u12G4"}"#, "hex digit"),
            (#"{"q":"\ud800"}"#, "lone high surrogate"),
            (#"{"q":"\udc00"}"#, "lone low surrogate"),
            (#"{"q":"\ud800\u0041"}"#, "without a low one"),
            ("{\"q\":\"a\u{01}b\"}", "control character"),
            (#"{"q":1,"q":2}"#, "appears twice"),
            (#"[1,2"#, "inside an array"),
        ]
    )
    func notJSON(_ input: String, _ detail: String) {
        let failure = error(input)
        #expect(failure?.code == .notJSON)
        #expect(failure?.message.contains(detail) == true, "\(failure?.message ?? "decoded")")
    }

    @Test("Invalid UTF-8 inside a string is not_json")
    func invalidUTF8() {
        var bytes = Array(#"{"type":"cancel","orderId":"o"#.utf8)
        bytes += [0xC3, 0x28]  // a broken two-byte sequence
        bytes += Array(#""}"#.utf8)
        #expect(error(bytes)?.code == .notJSON)
        #expect(error([0xFF, 0xFE])?.code == .notJSON)
    }

    @Test("JSON that is not an object is not_object")
    func notObject() {
        for text in ["[]", "1", #""new_order""#, "null", "true"] {
            #expect(error(text)?.code == .notObject, "\(text)")
        }
    }

    @Test("Too large or too deep is too_large")
    func tooLarge() {
        let padding = String(repeating: " ", count: ExchangeProtocol.maxMessageBytes)
        #expect(error(Self.validNewOrder + padding)?.code == .tooLarge)
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(error(#"{"type":"cancel","orderId":"o","x":"# + deep + "}")?.code == .tooLarge)
        let fine = String(repeating: "[", count: 20) + String(repeating: "]", count: 20)
        #expect(error(#"{"type":"cancel","orderId":"o","x":"# + fine + "}") == nil)
    }

    @Test("Objects with thousands of keys: extras are ignored, a repeated key is found wherever it is")
    func manyKeys() {
        let extras = (0..<4_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(error(#"{"type":"cancel","orderId":"o1","# + extras + "}") == nil)
        #expect(error(#"{"type":"cancel","orderId":"o1","# + extras + #","k3210":1}"#)?.code == .notJSON)
        #expect(error(#"{"type":"cancel","orderId":"o1","# + extras + #","type":"cancel"}"#)?.code == .notJSON)
        #expect(error(#"{"a":1,"b":2,"c":3,"a":4}"#)?.message.contains(#"the key "a" appears twice"#) == true)
    }

    @Test("A missing or unknown type")
    func badType() {
        #expect(error(#"{"orderId":"o1"}"#)?.code == .missingField)
        #expect(error(#"{"orderId":"o1"}"#)?.field == "type")
        #expect(error(#"{"type":5}"#)?.code == .wrongType)
        let unknown = error(#"{"type":"amend","orderId":"o1"}"#)
        #expect(unknown?.code == .unknownType)
        #expect(unknown?.message.contains(#""new_order", "cancel""#) == true)
        #expect(unknown?.orderId == "o1")
        // An exchange message is not a client message, and the other way round.
        #expect(error(#"{"type":"ack"}"#)?.code == .unknownType)
        #expect(throws: ExchangeProtocolError.self) { try ExchangeMessage.decode(Self.validNewOrder) }
    }

    @Test(
        "Each required field of new_order, when missing, is named",
        arguments: ["orderId", "symbol", "side", "quantity", "orderType", "limitPrice"]
    )
    func missingField(_ field: String) {
        let failure = error(newOrder(field, nil))
        #expect(failure?.code == .missingField)
        #expect(failure?.field == field)
        #expect(failure?.message.contains("\"\(field)\"") == true)
        // null counts as absent.
        #expect(error(newOrder(field, "null"))?.code == .missingField)
        if field != "orderId" { #expect(failure?.orderId == "o7") }
    }

    @Test(
        "Fields of the wrong JSON type",
        arguments: [
            ("orderId", "7"), ("symbol", "[]"), ("side", "1"), ("quantity", #""300""#), ("quantity", "true"),
            ("orderType", "{}"), ("limitPrice", "true"), ("limitPrice", "[189.25]"),
        ]
    )
    func wrongType(_ field: String, _ value: String) {
        let failure = error(newOrder(field, value))
        #expect(failure?.code == .wrongType)
        #expect(failure?.field == field)
    }

    @Test(
        "Fields with values outside their domain",
        arguments: [
            ("side", #""hold""#), ("side", #""BUY""#), ("orderType", #""stop""#), ("quantity", "1.5"),
            ("quantity", "1e30"), ("quantity", "-9223372036854775809"), ("limitPrice", "189.00001"),
            ("limitPrice", #""189.00001""#), ("limitPrice", #""abc""#), ("limitPrice", #""1e2""#),
            ("limitPrice", #"" 189""#), ("limitPrice", "1e400"), ("orderId", #""""#),
            ("orderId", "\"" + String(repeating: "x", count: 129) + "\""),
        ]
    )
    func invalidValue(_ field: String, _ value: String) {
        let failure = error(newOrder(field, value))
        #expect(failure?.code == .invalidValue, "\(failure?.message ?? "decoded")")
        #expect(failure?.field == field)
    }

    @Test("Limit price rules: required for limit, refused for market, errors say so")
    func limitPriceRules() {
        let missing = error(newOrder("limitPrice", nil))
        #expect(missing?.message == #"new_order: the field "limitPrice" is missing; it must be a price (a limit order needs one)"#)
        let market = error(newOrder("orderType", #""market""#))
        #expect(market?.code == .invalidValue)
        #expect(market?.field == "limitPrice")
        let precise = error(newOrder("limitPrice", "189.00001"))
        #expect(precise?.message.contains("more than 4 decimals") == true)
        #expect(precise?.orderId == "o7")
        // Boundaries of what fits.
        #expect(error(newOrder("quantity", "-9223372036854775808")) == nil)
        #expect(error(newOrder("orderId", "\"" + String(repeating: "x", count: 128) + "\"")) == nil)
    }

    @Test("Cancel needs an orderId string")
    func cancelFields() {
        #expect(error(#"{"type":"cancel"}"#)?.code == .missingField)
        #expect(error(#"{"type":"cancel","orderId":1}"#)?.code == .wrongType)
        #expect(error(#"{"type":"cancel","orderId":"o1","limitPrice":"junk"}"#) == nil)  // extra field, ignored
    }

    @Test("Exchange-side decoding reports bad fields too")
    func exchangeSideErrors() {
        #expect(throws: ExchangeProtocolError.self) {
            try ExchangeMessage.decode(#"{"type":"execution","executionId":"E1","orderId":"o"}"#)
        }
        #expect(throws: ExchangeProtocolError.self) {
            try ExchangeMessage.decode(
                #"{"type":"canceled","orderId":"o","symbol":"A","side":"buy","quantity":1,"cumulativeQuantity":0,"canceledQuantity":1,"reason":"bored"}"#
            )
        }
    }
}
