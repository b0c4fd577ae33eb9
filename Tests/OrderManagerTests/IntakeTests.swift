import BoundedCollections
import Kafka
import OrderManager
import OrderModel
import Pipeline
import Testing

@Suite("Order intake: accepted, rejected with a reason, or dead-lettered; duplicates; offsets")
struct IntakeTests {
    func classify(_ json: String) -> OrderIntake { OrderIntake.classify(Array(json.utf8)) }

    @Test func validOrderIsAccepted() {
        guard case .accepted(let order) = classify(#"{"clientOrderId":"c-1","userId":"alice","symbol":"AAPL","side":"buy","quantity":300,"orderType":"limit","limitPrice":189.25}"#) else {
            Issue.record("not accepted")
            return
        }
        #expect(order.quantity == 300)
        #expect(order.limitPrice?.description == "189.25")
    }

    @Test func readableButUnacceptableOrderIsRejectedWithEveryReason() {
        let intake = classify(#"{"clientOrderId":"c-2","userId":"bob","symbol":"AAPL","side":"sell","quantity":-5,"orderType":"limit"}"#)
        guard case .rejected(let update, let reason) = intake else {
            Issue.record("expected a rejection, got \(intake)")
            return
        }
        #expect(update.status == .rejected)
        #expect(update.clientOrderId == "c-2" && update.userId == "bob" && update.side == .sell)
        #expect(update.cumulativeQuantity == 0 && update.leavesQuantity == 0)
        #expect(reason.contains("quantity"))
        #expect(reason.contains("limitPrice"))
        #expect(update.reason == reason)
    }

    @Test func rejectionKeepsAValidQuantity() {
        let intake = classify(#"{"clientOrderId":"c-3","userId":"bob","symbol":"AAPL","side":"buy","quantity":10,"orderType":"limit","limitPrice":1.23456}"#)
        guard case .rejected(let update, let reason) = intake else {
            Issue.record("expected a rejection, got \(intake)")
            return
        }
        #expect(update.leavesQuantity == 10)
        #expect(reason.contains("decimals"))
    }

    @Test("a refused order is answered whatever else its JSON holds (a number no Double holds, an escaped NUL, deep nesting)", arguments: [
        #"{"clientOrderId":"c-8","userId":"dan","symbol":"AAPL","side":"buy","quantity":7,"orderType":"stop","extra":1e400}"#,
        #"{"clientOrderId":"c-8","userId":"dan","symbol":"AAPL","side":"buy","quantity":7,"orderType":"stop","note":"a\u0000b"}"#,
        #"{"clientOrderId":"c-8","userId":"dan","symbol":"AAPL","side":"buy","quantity":7,"orderType":"stop","deep":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]}"#,
    ])
    func refusedOrderIsAnsweredWhateverElseItHolds(json: String) {
        guard case .rejected(let update, let reason) = classify(json) else {
            Issue.record("expected a rejection: \(json)")
            return
        }
        #expect(update.clientOrderId == "c-8" && update.userId == "dan" && update.symbol == "AAPL" && update.side == .buy)
        #expect(update.leavesQuantity == 7)
        #expect(reason.contains("orderType"))
    }

    @Test(arguments: [
        "not json at all",
        #"["an","array"]"#,
        #"{"clientOrderId":"c-4","symbol":"AAPL","side":"buy","quantity":1,"orderType":"market"}"#,
        #"{"clientOrderId":"c-5","userId":"alice","symbol":"AAPL","side":"hold","quantity":1,"orderType":"market"}"#,
        #"{"clientOrderId":"c-6","userId":"alice","symbol":"","side":"buy","quantity":1,"orderType":"market"}"#,
        #"{"clientOrderId":7,"userId":"alice","symbol":"AAPL","side":"buy","quantity":1,"orderType":"market"}"#,
    ])
    func unidentifiableRecordsAreMalformed(json: String) {
        guard case .malformed(let errorType, let reason) = classify(json) else {
            Issue.record("expected malformed: \(json)")
            return
        }
        #expect(!errorType.isEmpty)
        #expect(!reason.isEmpty)
    }

    @Test func seenOrdersRefuseDuplicatesAndStayBounded() {
        var seen = RecentSet<OrderKey>(capacity: 3)
        let keys = (0..<5).map { OrderKey(userId: "u", clientOrderId: "c\($0)") }
        var inserted: [Bool] = []
        for key in [keys[0], keys[0], keys[1], keys[2], keys[3]] { inserted.append(seen.insert(key)) }
        #expect(inserted == [true, false, true, true, true])
        #expect(seen.count == 3)
        // The oldest is forgotten first.
        #expect(!seen.contains(keys[0]))
        #expect(seen.contains(keys[3]))
        let again = seen.insert(keys[2])
        #expect(!again)
        // Same client order id, other user: another order.
        let otherUser = seen.insert(OrderKey(userId: "v", clientOrderId: "c2"))
        #expect(otherUser)
    }

    @Test func offsetsMoveOnlyPastFinishedRecords() {
        var tracker = OffsetTracker()
        let partition = KafkaTopicPartition(topic: "t", partition: 0)
        for offset in 10..<15 {
            tracker.add(KafkaMessage(topic: "t", partition: 0, offset: Int64(offset), key: nil, value: [], assignmentGeneration: 1))
        }
        func done(_ offsets: Int64...) -> [KafkaRecordID] { offsets.map { KafkaRecordID(partition: partition, offset: $0, generation: 1) } }
        // 11 and 12 are done, 10 is not: nothing can be stored yet.
        var stored = tracker.finish(done(11, 12))
        #expect(stored.isEmpty)
        stored = tracker.finish(done(10))
        #expect(stored.map(\.offset) == [12])
        stored = tracker.finish(done(14))
        #expect(stored.isEmpty)
        stored = tracker.finish(done(13))
        #expect(stored.map(\.offset) == [14])
        #expect(tracker.pendingCount == 0)
    }

    @Test func deadLetterKeepsBytesAndHeadersAndSaysWhy() {
        var headers = KafkaHeaders()
        headers.set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        let message = KafkaMessage(topic: "client-orders", partition: 2, offset: 41, key: Array("AAPL".utf8), value: [0xFF, 0x00, 0x7B], headers: headers)
        let record = DeadLetter.record(for: message, errorType: "validation", errorMessage: String(repeating: "é", count: 5_000), topic: "dead-letters")
        #expect(record.topic == "dead-letters")
        #expect(record.key == Array("AAPL".utf8))
        #expect(record.value == [0xFF, 0x00, 0x7B])
        #expect(record.headers.string("traceparent") == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(record.headers.string("error.type") == "validation")
        #expect(record.headers.string("source.topic") == "client-orders")
        #expect(record.headers.string("source.partition") == "2")
        #expect(record.headers.string("source.offset") == "41")
        let text = record.headers.string("error.message") ?? ""
        #expect(text.utf8.count <= DeadLetter.maxMessageBytes)
        #expect(text.hasSuffix("..."))
    }
}
