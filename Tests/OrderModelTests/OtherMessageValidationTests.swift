import Testing

@testable import OrderModel

@Suite("Batches, exchange orders, fills and updates: validation")
struct OtherMessageValidationTests {
    static let batchJSON = RoundTripTests.batch.encodeJSONString()

    @Test("A batch's quantity must be the sum of its members")
    func batchQuantityMismatch() {
        let text = Self.batchJSON.replacing(#""quantity":500"#, with: #""quantity":501"#)
        #expect(problems(Batch.decode(json: text)) == [Problem("quantity", .inconsistent)])
    }

    @Test("A member's problems are named by their path")
    func memberPaths() {
        let text = Self.batchJSON
            .replacing(#""quantity":200"#, with: #""quantity":-200"#)
            .replacing(#""userId":"alice""#, with: #""userId":"""#)
            .replacing(#""limitPrice":189.3,"#, with: #""limitPrice":189.30001,"#)
        #expect(
            problems(Batch.decode(json: text)) == [
                Problem("members[0].userId", .empty), Problem("members[1].quantity", .notPositive),
                Problem("members[1].limitPrice", .tooManyDecimals),
            ])
    }

    @Test("Members must be objects, at least one, each order once")
    func memberList() {
        let notObjects = Self.batchJSON.replacing(#/"members":\[.*\],"closeReason"/#, with: #""members":[1,"x"],"closeReason""#)
        #expect(problems(Batch.decode(json: notObjects)) == [Problem("members[0]", .wrongType), Problem("members[1]", .wrongType)])
        let empty = Self.batchJSON.replacing(#/"members":\[.*\],"closeReason"/#, with: #""members":[],"closeReason""#)
        #expect(problems(Batch.decode(json: empty)).contains(Problem("members", .empty)))
        let repeated = Self.batchJSON
            .replacing(#""clientOrderId":"c-2001","userId":"bob""#, with: #""clientOrderId":"c-1001","userId":"alice""#)
        #expect(problems(Batch.decode(json: repeated)) == [Problem("members[1]", .inconsistent)])
        let sameIdOtherUser = Self.batchJSON.replacing(#""clientOrderId":"c-2001""#, with: #""clientOrderId":"c-1001""#)
        #expect(problems(Batch.decode(json: sameIdOtherUser)).isEmpty)
    }

    @Test("A batch's times must be RFC 3339, its close reason known", arguments: ["2026-11-30 09:30", "yesterday", "2026-13-30T09:30:00Z", "2026-11-30T09:30:00+0100"])
    func batchTimes(_ bad: String) {
        let text = Self.batchJSON.replacing(#""openedAt":"2026-11-30T09:30:00.000Z""#, with: "\"openedAt\":\"\(bad)\"")
            .replacing(#""closeReason":"linger""#, with: #""closeReason":"full""#)
        #expect(problems(Batch.decode(json: text)) == [Problem("closeReason", .unknownValue), Problem("openedAt", .invalidCharacters)])
    }

    @Test("RFC 3339 variants are accepted", arguments: ["2026-11-30T09:30:00Z", "2026-11-30t09:30:00.123456789z", "2026-11-30 09:30:00+01:00", "2026-11-30T23:59:60-05:30"])
    func batchTimesAccepted(_ good: String) {
        let text = Self.batchJSON.replacing(#""openedAt":"2026-11-30T09:30:00.000Z""#, with: "\"openedAt\":\"\(good)\"")
        #expect(problems(Batch.decode(json: text)).isEmpty)
    }

    @Test("An exchange order's slice must be below its slice count; the limit price rules apply")
    func exchangeOrderRules() {
        let base = RoundTripTests.exchangeOrder
        var order = base
        order.slice = 2
        #expect(problems(ExchangeOrder.decode(json: order.encodeJSON())) == [Problem("slice", .inconsistent)])
        order = base
        order.slices = 0
        order.slice = 0
        #expect(problems(ExchangeOrder.decode(json: order.encodeJSON())) == [Problem("slices", .notPositive)])
        order = base
        order.orderType = .market
        #expect(problems(ExchangeOrder.decode(json: order.encodeJSON())) == [Problem("limitPrice", .notAllowed)])
        #expect(order.validationErrors().map { Problem($0.field, $0.code) } == [Problem("limitPrice", .notAllowed)])
    }

    @Test("An execution needs units and a price; a rejected or canceled fill executes nothing")
    func fillRules() {
        var fill = RoundTripTests.fill
        fill.quantity = 0
        #expect(problems(Fill.decode(json: fill.encodeJSON())) == [Problem("quantity", .notPositive)])
        fill = RoundTripTests.fill
        fill.price = .zero
        #expect(problems(Fill.decode(json: fill.encodeJSON())) == [Problem("price", .notPositive)])
        fill = RoundTripTests.fill
        fill.status = .rejected
        #expect(problems(Fill.decode(json: fill.encodeJSON())) == [Problem("quantity", .notAllowed)])
        #expect(fill.validationErrors().map { Problem($0.field, $0.code) } == [Problem("quantity", .notAllowed)])
        let noPrice = RoundTripTests.fill.encodeJSONString().replacing(#""price":189.24,"#, with: "")
        #expect(problems(Fill.decode(json: noPrice)) == [Problem("price", .missingField)])
        let unknownStatus = RoundTripTests.fill.encodeJSONString().replacing(#""partially_filled""#, with: #""done""#)
        #expect(problems(Fill.decode(json: unknownStatus)) == [Problem("status", .unknownValue)])
    }

    @Test("An update's quantities may not be negative; its optional ids may not be empty")
    func updateRules() {
        let text = RoundTripTests.update.encodeJSONString()
            .replacing(#""leavesQuantity":240"#, with: #""leavesQuantity":-1"#)
            .replacing(#""fillId":"f-9001""#, with: #""fillId":"""#)
            .replacing(#""notional":11354.4"#, with: #""notional":1e5"#)
        #expect(
            problems(OrderUpdate.decode(json: text)) == [
                Problem("leavesQuantity", .outOfRange), Problem("notional", .invalidPrice), Problem("fillId", .empty),
            ])
    }

    @Test("Terminal statuses")
    func terminalStatuses() {
        #expect(OrderStatus.allCases.filter(\.isTerminal) == [.filled, .rejected, .canceled])
        #expect(FillStatus.allCases.filter(\.isTerminal) == [.filled, .rejected, .canceled])
        #expect(FillStatus.allCases.filter(\.isExecution) == [.partiallyFilled, .filled])
        #expect(OrderStatus.partiallyFilled.rawValue == "partially_filled")
    }
}
