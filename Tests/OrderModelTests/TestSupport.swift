import OrderModel
import TestSupport

/// The problems of a decode as (field, code) pairs, for compact comparisons.
func problems<Message: JSONMessage>(_ result: Result<Message, ValidationErrors>) -> [Problem] {
    guard case .failure(let errors) = result else { return [] }
    return errors.errors.map { Problem($0.field, $0.code) }
}

/// A (field, code) pair.
struct Problem: Hashable, CustomStringConvertible {
    var field: String
    var code: ValidationError.Code

    init(_ field: String, _ code: ValidationError.Code) {
        self.field = field
        self.code = code
    }

    var description: String { "\(field.isEmpty ? "<message>" : field): \(code)" }
}

extension Price {
    /// A price from a literal known to be valid, for tests.
    static func p(_ text: String) -> Price { Price(text)! }
}

/// A valid client order's JSON with some fields replaced by raw JSON values, some removed, some added.
func clientOrderJSON(_ overrides: [String: String] = [:], removing removed: [String] = []) -> String {
    let fields: [(String, String)] = [
        ("clientOrderId", #""c-1001""#), ("userId", #""alice""#), ("symbol", #""AAPL""#), ("side", #""buy""#),
        ("quantity", "300"), ("orderType", #""limit""#), ("limitPrice", "189.25"),
    ]
    var parts: [String] = []
    for (name, value) in fields where !removed.contains(name) {
        parts.append("\"\(name)\":\(overrides[name] ?? value)")
    }
    for (name, value) in overrides.sorted(by: { $0.key < $1.key }) where !fields.contains(where: { $0.0 == name }) {
        parts.append("\"\(name)\":\(value)")
    }
    return "{" + parts.joined(separator: ",") + "}"
}

/// A batch of members with the given quantities, in arrival order.
func makeBatch(_ quantities: [Int64], id: String = "b-AAPL-buy-1", symbol: String = "AAPL", side: Side = .buy) -> Batch {
    Batch(
        batchId: id, symbol: symbol, side: side,
        members: quantities.enumerated().map { index, quantity in
            Batch.Member(
                clientOrderId: "c-\(index + 1)", userId: "u\(index % 3)", quantity: quantity,
                traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        },
        closeReason: .size, openedAt: "2026-11-30T09:30:00.000Z", closedAt: "2026-11-30T09:30:00.050Z")
}

/// An execution of a batch.
func makeFill(
    _ id: String, _ quantity: Int64, at price: String, batch: String = "b-AAPL-buy-1", status: FillStatus = .partiallyFilled
) -> Fill {
    Fill(
        fillId: id, exchangeOrderId: "x-\(batch)-0", batchId: batch, symbol: "AAPL", side: .buy, quantity: quantity,
        price: Price.p(price), cumulativeQuantity: quantity, leavesQuantity: 0, status: status)
}

/// A rejected or canceled fill that ends `leaves` units of a batch.
func makeCancel(_ id: String, leaves: Int64, batch: String = "b-AAPL-buy-1", status: FillStatus = .canceled) -> Fill {
    Fill(
        fillId: id, exchangeOrderId: "x-\(batch)-0", batchId: batch, symbol: "AAPL", side: .buy, quantity: 0,
        price: .zero, cumulativeQuantity: 0, leavesQuantity: leaves, status: status)
}
