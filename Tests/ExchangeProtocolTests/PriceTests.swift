import Testing

@testable import ExchangeProtocol

@Suite("ExchangePrice: exact ticks of 0.0001")
struct PriceTests {
    @Test(
        "Decimal text parses to exact ticks",
        arguments: [
            ("189.25", 1_892_500), ("190", 1_900_000), ("0.0001", 1), ("-3.5", -35_000), ("0", 0),
            ("189.2500", 1_892_500), ("922337203685477.5807", Int64.max), ("-922337203685477.5808", Int64.min),
        ] as [(String, Int64)]
    )
    func parses(_ text: String, _ ticks: Int64) {
        #expect(ExchangePrice(text)?.ticks == ticks)
    }

    @Test(
        "Anything else is refused",
        arguments: ["", "abc", "1.00001", "1e2", "+1", " 1", "1 ", "01", "1.", ".5", "-", "1,5", "922337203685477.5808"]
    )
    func refuses(_ text: String) {
        #expect(ExchangePrice(text) == nil)
    }

    @Test("Description is the shortest decimal, and it parses back")
    func descriptionRoundTrips() {
        #expect(ExchangePrice(ticks: 1_892_500).description == "189.25")
        #expect(ExchangePrice(ticks: 1_900_000).description == "190")
        #expect(ExchangePrice(ticks: 1).description == "0.0001")
        #expect(ExchangePrice(ticks: 10).description == "0.001")
        #expect(ExchangePrice(ticks: -35_000).description == "-3.5")
        #expect(ExchangePrice(ticks: 1_000_001).description == "100.0001")
        for ticks in [Int64.min, Int64.max, 0, -1] + (0..<2_000).map({ _ in Int64.random(in: .min ... .max) >> Int64.random(in: 0...60) }) {
            #expect(ExchangePrice(ExchangePrice(ticks: ticks).description)?.ticks == ticks)
        }
    }

    @Test("Prices order by ticks")
    func ordering() {
        #expect(price("189.25") < price("189.2501"))
        #expect(price("-1") < price("0"))
        #expect([price("3"), price("1.5"), price("2")].sorted() == [price("1.5"), price("2"), price("3")])
    }
}
