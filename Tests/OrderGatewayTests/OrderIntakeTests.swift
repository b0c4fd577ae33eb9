import OrderModel
@testable import OrderGateway
import Testing
import WireJSON

private func decode(_ text: String, user: String = "alice") -> Result<ClientOrder, OrderRejection> {
    Array(text.utf8).withUnsafeBytes { OrderIntake.decode($0, userId: user) }
}

@Suite("Order intake: the user comes from the token; every problem is named", .timeLimit(.minutes(2)))
struct OrderIntakeTests {
    @Test("an order without userId gets the token's user")
    func userFromToken() throws {
        let order = try decode(#"  {"clientOrderId":"c-1","symbol":"AAPL","side":"buy","quantity":300,"orderType":"limit","limitPrice":189.25}"#).get()
        #expect(order.userId == "alice")
        #expect(order.clientOrderId == "c-1")
        #expect(order.quantity == 300)
        #expect(String(decoding: order.encodeJSON(), as: UTF8.self).contains(#""userId":"alice""#))
    }

    @Test("a payload userId is accepted only when it is the token's user")
    func payloadUserId() throws {
        let same = try decode(#"{"clientOrderId":"c-1","userId":"alice","symbol":"AAPL","side":"buy","quantity":1,"orderType":"market"}"#).get()
        #expect(same.userId == "alice")
        guard case .failure(let other) = decode(#"{"clientOrderId":"c-2","userId":"bob","symbol":"AAPL","side":"buy","quantity":1,"orderType":"market"}"#) else {
            Issue.record("bob's userId under alice's token was accepted")
            return
        }
        #expect(other.reason.contains("userId comes from the token"))
        #expect(other.clientOrderId == "c-2")
        #expect(other.userId == "alice")
        // Other problems and the mismatch are both named.
        guard case .failure(let both) = decode(#"{"clientOrderId":"c-3","userId":"bob","symbol":"AAPL","side":"hold","quantity":1,"orderType":"market"}"#) else {
            Issue.record("accepted")
            return
        }
        #expect(both.problems.map(\.field).contains("side"))
        #expect(both.problems.map(\.field).contains("userId"))
    }

    @Test("every problem is reported with its field; what can be read is echoed")
    func invalidOrder() throws {
        guard case .failure(let rejection) = decode(#"{"clientOrderId":"c-9","symbol":"AAPL","side":"hold","quantity":-5,"orderType":"limit"}"#) else {
            Issue.record("accepted")
            return
        }
        let fields = rejection.problems.map(\.field)
        #expect(fields.contains("side"))
        #expect(fields.contains("quantity"))
        #expect(fields.contains("limitPrice"))
        #expect(!fields.contains("userId"))
        let json = rejection.json()
        #expect(json.contains(#""status":"rejected""#))
        #expect(json.contains(#""clientOrderId":"c-9""#))
        #expect(json.contains(#""symbol":"AAPL""#))
        #expect(json.contains(#""userId":"alice""#))
        #expect(json.contains(#""errors":[{"field":"side""#))
        #expect(rejection.reason.contains("quantity: "))
    }

    @Test("input that is not an object is rejected without a userId complaint", arguments: ["", "not json", "[1,2]", "{", #"{"clientOrderId":"c-1",}"#, "{}"])
    func notAnOrder(_ text: String) throws {
        guard case .failure(let rejection) = decode(text) else {
            Issue.record("accepted '\(text)'")
            return
        }
        #expect(!rejection.problems.isEmpty)
        #expect(!rejection.problems.contains { $0.field == "userId" })
    }

    @Test("the peek reads top-level strings through escapes and skips nested values")
    func peek() {
        let text = #"{"nested":{"clientOrderId":"no"},"list":[1,"]",{}],"clientOrderId":"c-\"1\u00e9","quantity":12,"side":"buy""#
        let fields = Array(text.utf8).withUnsafeBytes { JSONFieldPeek.topLevelFields($0, wanted: ["clientOrderId", "quantity", "side"]) }
        #expect(fields["clientOrderId"] == "c-\"1é")
        #expect(fields["quantity"] == "12")
        #expect(fields["side"] == "buy")
    }

    @Test("replies escape what they echo")
    func escaping() {
        let reply = JSONWriter.object(escapes: .unicode) { $0.field("reason", "a \"quoted\"\nline\u{01}\u{08}") }
        #expect(String(decoding: reply, as: UTF8.self) == #"{"reason":"a \"quoted\"\nline\u0001\u0008"}"#)
    }
}
