import Testing

@testable import OrderModel

@Suite("Client order: decoding and validation")
struct ClientOrderValidationTests {
    @Test("The contract's example decodes")
    func decodesExample() throws {
        let order = try ClientOrder(json: clientOrderJSON())
        #expect(
            order
                == ClientOrder(
                    clientOrderId: "c-1001", userId: "alice", symbol: "AAPL", side: .buy, quantity: 300,
                    orderType: .limit, limitPrice: Price(ticks: 1_892_500)))
        #expect(order.validationErrors().isEmpty)
    }

    @Test(
        "Not JSON",
        arguments: [
            "", "   ", "{", "hello", #"{"clientOrderId":"c-1",}"#, #"{"a":1} x"#, #"{'a':1}"#, #"{"a":01}"#,
            #"{"a":"\x"}"#, #"{"a":"\ud800"}"#, "{\"a\":\"tab\there\"}", #"{"a":tru}"#, #"{"a":1.}"#, #"{"a":-}"#,
            #"{"a" 1}"#, #"{a:1}"#, #"{"a":[1,]}"#, #"{"a":[1}"#,
        ])
    func notJSON(_ text: String) {
        #expect(problems(ClientOrder.decode(json: text)) == [Problem("", .notJSON)])
    }

    @Test("Invalid UTF-8 is not JSON", arguments: [[0xC3, 0x28], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xFF]])
    func invalidUTF8(_ bad: [UInt8]) {
        let bytes = Array(#"{"clientOrderId":""#.utf8) + bad + Array(#""}"#.utf8)
        #expect(problems(ClientOrder.decode(json: bytes)) == [Problem("", .notJSON)])
    }

    @Test("Nesting deeper than the limit is not JSON")
    func tooDeep() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(problems(ClientOrder.decode(json: #"{"x":"# + deep + "}")) == [Problem("", .notJSON)])
        let fine = String(repeating: "[", count: 20) + String(repeating: "]", count: 20)
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["x": fine]))).isEmpty)
    }

    @Test("Not an object", arguments: ["[]", #""order""#, "42", "null", "true", #"[{"clientOrderId":"c-1"}]"#])
    func notAnObject(_ text: String) {
        #expect(problems(ClientOrder.decode(json: text)) == [Problem("", .notAnObject)])
    }

    @Test("A syntax error says where", arguments: [(#"{"a":1,}"#, "byte 7"), (#"{"a":"b"#, "not terminated")])
    func syntaxErrorReason(_ text: String, _ fragment: String) throws {
        guard case .failure(let errors) = ClientOrder.decode(json: text) else {
            Issue.record("decoded")
            return
        }
        #expect(errors.description.contains(fragment), "\(errors)")
        #expect(errors.description.hasPrefix("not JSON: "))
    }

    @Test("A missing field", arguments: ["clientOrderId", "userId", "symbol", "side", "quantity", "orderType"])
    func missingField(_ field: String) {
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(removing: [field]))) == [Problem(field, .missingField)])
        #expect(problems(ClientOrder.decode(json: clientOrderJSON([field: "null"]))) == [Problem(field, .missingField)])
    }

    @Test(
        "A field of the wrong type",
        arguments: [
            ("quantity", #""300""#), ("side", "1"), ("clientOrderId", "5"), ("userId", "true"), ("symbol", "[]"),
            ("orderType", "{}"), ("limitPrice", "true"), ("limitPrice", #"{"value":1}"#),
        ])
    func wrongType(_ field: String, _ value: String) {
        #expect(problems(ClientOrder.decode(json: clientOrderJSON([field: value]))) == [Problem(field, .wrongType)])
    }

    @Test("A quantity that is not greater than 0", arguments: ["0", "-5", "-0", "-99999999999999999999"])
    func nonPositiveQuantity(_ value: String) {
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["quantity": value]))) == [Problem("quantity", .notPositive)])
    }

    @Test("A quantity that is not a whole number", arguments: ["1.5", "3e2", "300.0", "1E0"])
    func nonIntegerQuantity(_ value: String) {
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["quantity": value]))) == [Problem("quantity", .notAnInteger)])
    }

    @Test("A quantity above the limit", arguments: ["1000000000001", "99999999999999999999"])
    func quantityTooLarge(_ value: String) {
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["quantity": value]))) == [Problem("quantity", .outOfRange)])
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["quantity": "1000000000000"]))).isEmpty)
    }

    @Test("An unknown side or order type", arguments: [("side", #""hold""#), ("side", #""BUY""#), ("orderType", #""stop""#), ("side", #""""#)])
    func unknownValue(_ field: String, _ value: String) throws {
        let result = ClientOrder.decode(json: clientOrderJSON([field: value]))
        #expect(problems(result) == [Problem(field, .unknownValue)])
        guard case .failure(let errors) = result else { return }
        #expect(errors.errors[0].reason.contains("expected"))
    }

    @Test("A limit order without limitPrice, or with null")
    func limitWithoutPrice() {
        #expect(
            problems(ClientOrder.decode(json: clientOrderJSON(removing: ["limitPrice"])))
                == [Problem("limitPrice", .missingLimitPrice)])
        #expect(
            problems(ClientOrder.decode(json: clientOrderJSON(["limitPrice": "null"])))
                == [Problem("limitPrice", .missingLimitPrice)])
    }

    @Test("A limit order with a zero limitPrice")
    func limitWithZeroPrice() {
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["limitPrice": "0"]))) == [Problem("limitPrice", .notPositive)])
    }

    @Test("A market order with a limitPrice is refused; without one (or null) it is fine")
    func marketWithPrice() throws {
        #expect(
            problems(ClientOrder.decode(json: clientOrderJSON(["orderType": #""market""#])))
                == [Problem("limitPrice", .notAllowed)])
        let market = try ClientOrder(json: clientOrderJSON(["orderType": #""market""#], removing: ["limitPrice"]))
        #expect(market.orderType == .market && market.limitPrice == nil)
        let withNull = try ClientOrder(json: clientOrderJSON(["orderType": #""market""#, "limitPrice": "null"]))
        #expect(withNull == market)
    }

    @Test("A price with more than 4 decimals", arguments: ["189.25001", #""189.25001""#, "0.00001"])
    func tooManyDecimals(_ value: String) {
        #expect(
            problems(ClientOrder.decode(json: clientOrderJSON(["limitPrice": value]))) == [Problem("limitPrice", .tooManyDecimals)])
    }

    @Test(
        "An empty, over-long or ill-formed symbol",
        arguments: [
            (#""""#, ValidationError.Code.empty), ("\"\(String(repeating: "A", count: 33))\"", .tooLong),
            (#""AA PL""#, .invalidCharacters), (#""AAPL\n""#, .invalidCharacters), (#""ÄPL""#, .invalidCharacters),
        ])
    func badSymbol(_ value: String, _ code: ValidationError.Code) {
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["symbol": value]))) == [Problem("symbol", code)])
    }

    @Test("Symbols of the allowed characters and length pass", arguments: ["BRK.B", "BTC-USD", "EUR/USD", "X", String(repeating: "Z", count: 32)])
    func goodSymbol(_ symbol: String) {
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["symbol": "\"\(symbol)\""]))).isEmpty)
    }

    @Test(
        "Empty or over-long ids",
        arguments: [
            ("clientOrderId", #""""#, ValidationError.Code.empty), ("userId", #""""#, .empty),
            ("clientOrderId", "\"\(String(repeating: "x", count: 129))\"", .tooLong),
            ("userId", #""al\u0000ice""#, .invalidCharacters),
        ])
    func badIds(_ field: String, _ value: String, _ code: ValidationError.Code) {
        #expect(problems(ClientOrder.decode(json: clientOrderJSON([field: value]))) == [Problem(field, code)])
    }

    @Test("A field that appears twice")
    func duplicateField() {
        let text = #"{"clientOrderId":"c-1","userId":"alice","symbol":"AAPL","side":"buy","side":"sell","quantity":1,"orderType":"market"}"#
        #expect(problems(ClientOrder.decode(json: text)) == [Problem("side", .duplicateField)])
        let escaped = #"{"clientOrderId":"c-1","userId":"alice","symbol":"AAPL","side":"buy","\u0073ide":"sell","quantity":1,"orderType":"market"}"#
        #expect(problems(ClientOrder.decode(json: escaped)) == [Problem("side", .duplicateField)])
    }

    @Test("Objects with many fields: past the stack storage, and past 64 fields", arguments: [10, 30, 100])
    func manyFields(_ extra: Int) throws {
        var overrides: [String: String] = [:]
        for index in 0..<extra { overrides["x\(index)"] = "\(index)" }
        #expect(try ClientOrder(json: clientOrderJSON(overrides)) == ClientOrder(json: clientOrderJSON()))
        // The known fields come last here, so every look-up scans the unknown ones first.
        let known = clientOrderJSON().dropFirst()
        let text = "{" + (0..<extra).map { "\"y\($0)\":\($0)" }.joined(separator: ",") + "," + known
        #expect(try ClientOrder(json: text) == ClientOrder(json: clientOrderJSON()))
        let repeated = "{" + (0..<extra).map { "\"y\($0)\":\($0)" }.joined(separator: ",") + ",\"quantity\":5," + known
        #expect(problems(ClientOrder.decode(json: repeated)) == [Problem("quantity", .duplicateField)])
    }

    @Test("A key written with escapes is the same key")
    func escapedKey() throws {
        let text = clientOrderJSON().replacing(#""side""#, with: #""\u0073id\u0065""#)
        #expect(text.contains("u0073"))
        #expect(try ClientOrder(json: text) == ClientOrder(json: clientOrderJSON()))
    }

    @Test("All problems are reported at once, in field order")
    func allProblemsAtOnce() throws {
        let text = """
            {"clientOrderId":"","userId":5,"symbol":"THIS-SYMBOL-IS-FAR-TOO-LONG-FOR-THE-KEY","side":"hold",
             "quantity":-5,"orderType":"limit","limitPrice":1.23456,"extra":{"ignored":[1,2,3]}}
            """
        let result = ClientOrder.decode(json: text)
        #expect(
            problems(result) == [
                Problem("clientOrderId", .empty), Problem("userId", .wrongType), Problem("symbol", .tooLong),
                Problem("side", .unknownValue), Problem("quantity", .notPositive), Problem("limitPrice", .tooManyDecimals),
            ])
        guard case .failure(let errors) = result else { return }
        #expect(errors.fields == ["clientOrderId", "userId", "symbol", "side", "quantity", "limitPrice"])
        #expect(errors.errors(for: "quantity").map(\.reason) == ["must be greater than 0, got -5"])
        #expect(errors.description.contains("side: unknown value \"hold\"; expected buy or sell"))
    }

    @Test("The dead-letter example of topics/ reports its three problems")
    func deadLetterExample() {
        let text = #"{"clientOrderId":"c-1002","userId":"alice","symbol":"AAPL","side":"hold","quantity":-5}"#
        #expect(
            problems(ClientOrder.decode(json: text)) == [
                Problem("side", .unknownValue), Problem("quantity", .notPositive), Problem("orderType", .missingField),
            ])
    }

    @Test("Unknown fields are ignored, whatever their type")
    func unknownFieldsIgnored() throws {
        let text = clientOrderJSON([
            "note": #""hi \"there\"""#, "tags": #"[{"a":[null,true,false,1.5e3]},"x"]"#, "meta": #"{"nested":{"deep":-0.5}}"#,
        ])
        #expect(try ClientOrder(json: text) == ClientOrder(json: clientOrderJSON()))
    }

    @Test("Whitespace around tokens is allowed; escapes in values are decoded")
    func whitespaceAndEscapes() throws {
        let text = "\n { \"clientOrderId\" : \"c-\\u00e9\\\"1\\\\\" ,\t\"userId\":\"\\ud83d\\ude00 bob\", \"symbol\":\"AAPL\",\r\n"
            + "\"side\":\"sell\",\"quantity\": 7 ,\"orderType\":\"market\" } \n"
        let order = try ClientOrder(json: text)
        #expect(order.clientOrderId == "c-é\"1\\")
        #expect(order.userId == "😀 bob")
        #expect(order.side == .sell && order.quantity == 7 && order.limitPrice == nil)
    }

    @Test("Validation of an order built in code matches decoding")
    func validationErrorsInCode() {
        let order = ClientOrder(clientOrderId: "", userId: "alice", symbol: "AAPL", side: .buy, quantity: 0, orderType: .market, limitPrice: .p("1"))
        #expect(order.validationErrors().map { Problem($0.field, $0.code) } == [
            Problem("clientOrderId", .empty), Problem("quantity", .notPositive), Problem("limitPrice", .notAllowed),
        ])
    }

    @Test("ValidationError reads as field: reason")
    func errorDescription() {
        #expect(ValidationError(field: "quantity", code: .notPositive, reason: "must be greater than 0, got -5").description
            == "quantity: must be greater than 0, got -5")
        #expect(ValidationError(field: "", code: .notJSON, reason: "not JSON: empty input").description == "not JSON: empty input")
    }

    @Test("Throwing form carries the same problems")
    func throwingForm() {
        #expect(throws: ValidationErrors([ValidationError(field: "", code: .notJSON, reason: "not JSON: empty input")])) {
            try ClientOrder(json: "")
        }
    }
}
