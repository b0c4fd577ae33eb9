import Testing

@testable import OrderModel

@Suite("An order update at a glance: its user, client order and status without a full decode")
struct OrderUpdateGlanceTests {
    @Test("reads what a full decode reads, for every status")
    func agreesWithDecode() throws {
        for status in OrderStatus.allCases {
            let update = OrderUpdate(
                clientOrderId: "c-\(status.rawValue)", userId: "u-7", symbol: "AAPL", side: .buy, status: status,
                cumulativeQuantity: 0, leavesQuantity: 100, batchId: "b-1")
            let json = update.encodeJSON()
            let decoded = try OrderUpdate.decode(json: json).get()
            #expect(OrderUpdate.glance(json: json) == OrderUpdate.Glance(userId: decoded.userId, clientOrderId: decoded.clientOrderId, status: decoded.status))
        }
    }

    @Test("finds top-level strings by their keys, escaped keys included, never nested ones")
    func keys() {
        let text = #"{"nested":{"status":"filled"},"userId":"u\u0031","clie\u006etOrderId":"c-\"1\"","status":"canceled","status":"filled"}"#
        #expect(OrderUpdate.glance(json: Array(text.utf8)) == OrderUpdate.Glance(userId: "u1", clientOrderId: #"c-"1""#, status: .canceled))
    }

    @Test("is nil when a field is missing, not a string or not a status", arguments: [
        #"{"userId":"a","status":"accepted"}"#,
        #"{"userId":"a","clientOrderId":"c","status":7,"status":"filled"}"#,
        #"{"userId":"a","clientOrderId":"c","status":"shipped"}"#,
        #"{"userId":"a","clientOrderId":"c","status":"#,
        "not json",
    ])
    func incomplete(_ text: String) {
        #expect(OrderUpdate.glance(json: Array(text.utf8)) == nil)
    }

    @Test("finds the three wherever they are, not only among the first five fields where updates have them")
    func anyOrder() {
        let text = #"{"symbol":"A","side":"buy","lastQuantity":1,"lastPrice":2,"cumulativeQuantity":3,"status":"filled","userId":"u","clientOrderId":"c"}"#
        #expect(OrderUpdate.glance(json: Array(text.utf8)) == OrderUpdate.Glance(userId: "u", clientOrderId: "c", status: .filled))
    }

    @Test("keeps what it read before a syntax error")
    func beforeAnError() {
        let text = #"{"userId":"a","clientOrderId":"c","status":"accepted","symbol":"#
        #expect(OrderUpdate.glance(json: Array(text.utf8)) == OrderUpdate.Glance(userId: "a", clientOrderId: "c", status: .accepted))
    }
}
