import TestSupport
import Testing

@testable import OrderModel

@Suite("Price: parsing and formatting")
struct PriceTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        let text: String
        let ticks: Int64
        var testDescription: String { "\(text.debugDescription) = \(ticks) ticks" }
    }

    static let valid: [Valid] = [
        Valid(text: "0", ticks: 0),
        Valid(text: "1", ticks: 10_000),
        Valid(text: "10", ticks: 100_000),
        Valid(text: "189.25", ticks: 1_892_500),
        Valid(text: "189.2500", ticks: 1_892_500),
        Valid(text: "189.25000", ticks: 1_892_500),
        Valid(text: "0.0001", ticks: 1),
        Valid(text: "0.5", ticks: 5_000),
        Valid(text: "100.1", ticks: 1_001_000),
        Valid(text: "0.0", ticks: 0),
        Valid(text: "922337203685477.5807", ticks: Int64.max),
    ]

    @Test("Valid decimal texts parse to exact ticks", arguments: valid)
    func parsesValid(_ vector: Valid) throws {
        let price = try Price(parsing: vector.text)
        #expect(price.ticks == vector.ticks)
        #expect(Price(vector.text) == price)
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        let text: String
        let code: Price.ParseError.Code
        var testDescription: String { "\(text.debugDescription) is \(code)" }
    }

    static let invalid: [Invalid] = [
        Invalid(text: "", code: .empty),
        Invalid(text: "-1", code: .negative),
        Invalid(text: "-0.5", code: .negative),
        Invalid(text: "1e2", code: .exponent),
        Invalid(text: "1.5E-3", code: .exponent),
        Invalid(text: "1.23456e2", code: .exponent),
        Invalid(text: "NaN", code: .notANumber),
        Invalid(text: "nan", code: .notANumber),
        Invalid(text: "Infinity", code: .notANumber),
        Invalid(text: "-inf", code: .notANumber),
        Invalid(text: "1.00001", code: .tooManyDecimals),
        Invalid(text: "0.12345", code: .tooManyDecimals),
        Invalid(text: "189.250001", code: .tooManyDecimals),
        Invalid(text: "922337203685477.5808", code: .tooLarge),
        Invalid(text: "99999999999999999999999", code: .tooLarge),
        Invalid(text: "+1", code: .malformed),
        Invalid(text: ".5", code: .malformed),
        Invalid(text: "5.", code: .malformed),
        Invalid(text: "01", code: .malformed),
        Invalid(text: " 1", code: .malformed),
        Invalid(text: "1 ", code: .malformed),
        Invalid(text: "1,5", code: .malformed),
        Invalid(text: "abc", code: .malformed),
        Invalid(text: "0x10", code: .malformed),
        Invalid(text: "1.2.3", code: .malformed),
    ]

    @Test("Invalid texts are rejected with the right reason", arguments: invalid)
    func rejectsInvalid(_ vector: Invalid) {
        let result = Price.parse(vector.text)
        guard case .failure(let error) = result else {
            Issue.record("\(vector.text.debugDescription) parsed as \(result)")
            return
        }
        #expect(error.code == vector.code, "\(error.reason)")
        #expect(!error.reason.isEmpty)
        #expect(Price(vector.text) == nil)
    }

    @Test("Too many decimals says how many", arguments: [("1.00001", 5), ("0.123456", 6)])
    func tooManyDecimalsReason(_ text: String, _ decimals: Int) {
        guard case .failure(let error) = Price.parse(text) else {
            Issue.record("\(text) parsed")
            return
        }
        #expect(error.reason == "has \(decimals) decimals; at most 4 are allowed")
    }

    @Test(
        "Formatting gives the shortest decimal text",
        arguments: [
            (Int64(0), "0"), (1, "0.0001"), (10, "0.001"), (5_000, "0.5"), (1_892_500, "189.25"),
            (1_890_000, "189"), (1_892_501, "189.2501"), (100_000, "10"), (Int64.max, "922337203685477.5807"),
        ])
    func formats(_ ticks: Int64, _ text: String) {
        #expect(Price(ticks: ticks).description == text)
    }

    @Test("Formatting and parsing round-trip for random prices")
    func roundTripsRandom() throws {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            let magnitude = Int64.random(in: 0...18, using: &generator)
            var bound: Int64 = 1
            for _ in 0..<magnitude { bound = bound.multipliedReportingOverflow(by: 10).overflow ? Int64.max : bound * 10 }
            let ticks = Int64.random(in: 0...max(bound, 1), using: &generator)
            let price = Price(ticks: ticks)
            #expect(try Price(parsing: price.description) == price)
        }
    }

    @Test("Units, comparison and notional")
    func arithmetic() {
        #expect(Price(units: 189) == Price(ticks: 1_890_000))
        #expect(Price(units: Int64.max) == nil)
        #expect(Price(units: -1) == nil)
        #expect(Price.p("189.24") < Price.p("189.25"))
        #expect(Price.p("189.25").notional(quantity: 300) == 567_750_000)
        #expect(Price(ticks: .max).notional(quantity: .max) == Int128(Int64.max) * Int128(Int64.max))
    }

    @Test("The JSON edge: a number and a decimal string give the same price; exponents and negatives do not parse")
    func jsonEdge() throws {
        let number = try ClientOrder(json: clientOrderJSON(["limitPrice": "189.25"]))
        let string = try ClientOrder(json: clientOrderJSON(["limitPrice": #""189.25""#]))
        #expect(number.limitPrice == Price(ticks: 1_892_500))
        #expect(string.limitPrice == number.limitPrice)
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["limitPrice": "1.8925e2"]))) == [Problem("limitPrice", .invalidPrice)])
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["limitPrice": "-189.25"]))) == [Problem("limitPrice", .invalidPrice)])
        #expect(problems(ClientOrder.decode(json: clientOrderJSON(["limitPrice": #""NaN""#]))) == [Problem("limitPrice", .invalidPrice)])
    }
}
