import OrderModel
import WireJSON

/// Why an order was refused, with what could be read of it, as the JSON reply a client gets.
struct OrderRejection: Error, Sendable {
    var problems: [ValidationError]
    var userId: String
    var clientOrderId: String?
    var symbol: String?
    var side: String?
    var quantity: Int64?

    /// Every problem, `field: reason`, separated by `; `.
    var reason: String { problems.map(\.description).joined(separator: "; ") }

    /// `{"clientOrderId":..,"userId":..,"symbol":..,"side":..,"status":"rejected",...,"reason":..,"errors":[...]}`:
    /// an order update (pipeline.md fields, as far as they are known) plus the list of problems.
    func json() -> String {
        let json = JSONWriter.object(escapes: .unicode) { writer in
            writer.field("clientOrderId", clientOrderId)
            writer.field("userId", userId)
            writer.field("symbol", symbol)
            writer.field("side", side)
            writer.field("status", OrderStatus.rejected.rawValue)
            writer.field("lastQuantity", Int64(0))
            writer.field("lastPrice", Int64(0))
            writer.field("cumulativeQuantity", Int64(0))
            writer.field("leavesQuantity", quantity)
            writer.field("averagePrice", Int64(0))
            writer.field("reason", reason)
            writer.key("errors")
            writer.beginArray()
            for problem in problems {
                writer.beginObject()
                writer.field("field", problem.field)
                writer.field("reason", problem.reason)
                writer.endObject()
            }
            writer.endArray()
        }
        return String(decoding: json, as: UTF8.self)
    }

    /// A rejection of an order that decoded (Kafka refused it, say).
    init(order: ClientOrder, problems: [ValidationError]) {
        self.problems = problems
        self.userId = order.userId
        self.clientOrderId = order.clientOrderId
        self.symbol = order.symbol
        self.side = order.side.rawValue
        self.quantity = order.quantity
    }

    /// A rejection of raw input: echoes the fields that can be read (short enough to be ids).
    init(problems: [ValidationError], userId: String, input: UnsafeRawBufferPointer) {
        self.problems = problems
        self.userId = userId
        let fields = JSONFieldPeek.topLevelFields(input, wanted: ["clientOrderId", "symbol", "side", "quantity"])
        func short(_ value: String?, _ limit: Int) -> String? {
            guard let value, !value.isEmpty, value.utf8.count <= limit else { return nil }
            return value
        }
        clientOrderId = short(fields["clientOrderId"], MessageLimits.maxIdentifierLength)
        symbol = short(fields["symbol"], MessageLimits.maxSymbolLength)
        side = short(fields["side"], 16)
        quantity = fields["quantity"].flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil }
    }
}

/// Turns the bytes a client sent into a client order owned by the authenticated user.
///
/// The client sends no `userId`: the gateway writes the token's user into the object (right after
/// its `{`) and decodes that with `ClientOrder`'s strict decoder, one pass on the common path. A
/// payload that carries a `userId` anyway is accepted only when it names the same user.
enum OrderIntake {
    static let userIdFromToken = "userId comes from the token"

    static func decode(_ bytes: UnsafeRawBufferPointer, userId: String) -> Result<ClientOrder, OrderRejection> {
        var start = 0
        while start < bytes.count, bytes[start] == 0x20 || bytes[start] == 0x0A || bytes[start] == 0x0D || bytes[start] == 0x09 { start += 1 }
        guard start < bytes.count, bytes[start] == UInt8(ascii: "{") else {
            return .failure(rejectOriginal(bytes, userId: userId))
        }
        var next = start + 1
        while next < bytes.count, bytes[next] == 0x20 || bytes[next] == 0x0A || bytes[next] == 0x0D || bytes[next] == 0x09 { next += 1 }
        let isEmptyObject = next < bytes.count && bytes[next] == UInt8(ascii: "}")
        var injected: [UInt8] = []
        injected.reserveCapacity(bytes.count + userId.utf8.count + 16)
        JSONWriter.write(into: &injected, escapes: .unicode) { writer in  // `{"userId":"…"`, left open
            writer.beginObject()
            writer.field("userId", userId)
        }
        if !isEmptyObject { injected.append(UInt8(ascii: ",")) }
        injected.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[(start + 1)...]))

        switch ClientOrder.decode(json: injected) {
        case .success(let order):
            return .success(order)
        case .failure(let errors):
            let payloadHasUserId = errors.errors.contains { $0.field == "userId" && $0.code == .duplicateField }
            let isSyntaxError = errors.errors.contains { $0.field.isEmpty }
            if !payloadHasUserId && !isSyntaxError {
                return .failure(OrderRejection(problems: errors.errors, userId: userId, input: bytes))
            }
            // Decode what the client really sent: positions in syntax errors are then right, and
            // its own userId can be checked.
            switch ClientOrder.decode(json: bytes) {
            case .success(let order):
                if order.userId == userId { return .success(order) }
                return .failure(OrderRejection(problems: [mismatch(order.userId)], userId: userId, input: bytes))
            case .failure:
                return .failure(rejectOriginal(bytes, userId: userId))
            }
        }
    }

    /// The problems of the bytes as sent, without the missing `userId` (which is expected), and
    /// with a mismatching `userId` named.
    private static func rejectOriginal(_ bytes: UnsafeRawBufferPointer, userId: String) -> OrderRejection {
        var problems: [ValidationError] = []
        if case .failure(let errors) = ClientOrder.decode(json: bytes) {
            problems = errors.errors.filter { !($0.field == "userId" && $0.code == .missingField) }
        }
        let sent = JSONFieldPeek.topLevelFields(bytes, wanted: ["userId"])["userId"]
        if let sent, sent != userId, !problems.contains(where: { $0.field == "userId" }) {
            problems.append(mismatch(sent))
        }
        if problems.isEmpty {
            problems = [ValidationError(field: "", code: .notJSON, reason: "not a valid order")]
        }
        return OrderRejection(problems: problems, userId: userId, input: bytes)
    }

    private static func mismatch(_ sent: String) -> ValidationError {
        ValidationError(field: "userId", code: .inconsistent, reason: "\(userIdFromToken); leave it out (the payload named another user)")
    }
}
