import OrderModel
@testable import OrderGateway
import Testing
import TestSupport

/// The hostile corpus (`Tests/Corpus/hostile`) through the gateway's intake, without a server: what
/// the WebSocket and `POST /v1/orders` refuse is refused here with the same reason, and what they
/// take is taken. The end-to-end suite sends the same cases through the running gateway.
@Suite("Hostile corpus at the gateway's intake", .timeLimit(.minutes(2)))
struct HostileCorpusIntakeTests {
    @Test("every POST case decodes as the corpus expects")
    func everyCase() throws {
        let cases = try HostileCase.load()
        #expect(cases.count >= 30)
        var tried = 0
        for hostile in cases {
            guard let outcome = hostile.expect[.post] else { continue }
            let door = HostileCase.Door.post
            let decoded = hostile.payload(at: door).withUnsafeBytes { OrderIntake.decode($0, userId: door.user) }
            tried += 1
            switch (outcome, decoded) {
            case (.rejected(let reason), .failure(let rejection)):
                #expect(rejection.reason.contains(reason), "\(hostile.name): \(rejection.reason)")
                #expect(rejection.json().contains(#""status":"rejected""#))
            case (.rejected(let reason), .success):
                // The size limit belongs to the transport (the body or message is refused before it is read).
                if reason != "larger than" { Issue.record("\(hostile.name): accepted, expected a rejection naming '\(reason)'") }
            case (.processed, .success(let order)):
                #expect(order.userId == door.user && order.clientOrderId == hostile.clientOrderId(at: door), "\(hostile.name)")
            case (.processed, .failure(let rejection)):
                Issue.record("\(hostile.name): rejected (\(rejection.reason)), expected it to be accepted")
            case (.deadLetter, _):
                Issue.record("\(hostile.name): the gateway has no dead letters")
            }
        }
        #expect(tried >= 30)
    }
}
