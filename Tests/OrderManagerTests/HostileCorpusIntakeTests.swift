import OrderManager
import OrderModel
import Testing
import TestSupport

/// The hostile corpus (`Tests/Corpus/hostile`) through the order manager's intake, without a broker:
/// each client-orders record is dead-lettered, rejected or accepted as the corpus expects, with the
/// reason it names. The end-to-end suite writes the same records into the running pipeline.
@Suite("Hostile corpus at the order manager's intake", .timeLimit(.minutes(2)))
struct HostileCorpusIntakeTests {
    @Test("every Kafka case is classified as the corpus expects")
    func everyCase() throws {
        let cases = try HostileCase.load()
        var tried = 0
        for hostile in cases {
            guard let outcome = hostile.expect[.kafka] else { continue }
            let door = HostileCase.Door.kafka
            let intake = OrderIntake.classify(hostile.payload(at: door))
            tried += 1
            switch (outcome, intake) {
            case (.deadLetter(let expected), .malformed(let errorType, let reason)):
                #expect(!errorType.isEmpty)
                #expect(reason.contains(expected), "\(hostile.name): \(reason)")
            case (.rejected(let expected), .rejected(let update, let reason)):
                #expect(reason.contains(expected), "\(hostile.name): \(reason)")
                #expect(update.status == .rejected && update.userId == door.user && update.clientOrderId == hostile.clientOrderId(at: door), "\(hostile.name)")
                #expect(update.cumulativeQuantity == 0)
            case (.processed, .accepted(let order)):
                #expect(order.userId == door.user && order.clientOrderId == hostile.clientOrderId(at: door), "\(hostile.name)")
            default:
                Issue.record("\(hostile.name): expected \(outcome), got \(intake)")
            }
        }
        #expect(tried >= 30)
    }
}
