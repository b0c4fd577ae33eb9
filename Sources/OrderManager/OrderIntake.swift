import OrderModel

/// What the order manager makes of one client-orders record.
public enum OrderIntake: Sendable, Equatable {
    /// A valid order.
    case accepted(ClientOrder)
    /// Readable enough to answer its owner (clientOrderId, userId, symbol and side are valid),
    /// but not acceptable: the owner gets a `rejected` update with `reason`.
    case rejected(OrderUpdate, reason: String)
    /// Not a client order at all: it goes to dead-letters with `errorType` and `reason`.
    case malformed(errorType: String, reason: String)

    /// Fields without which nobody can be told about the order.
    static let identifyingFields: Set<String> = ["clientOrderId", "userId", "symbol", "side"]
    static let structuralCodes: Set<ValidationError.Code> = [.notJSON, .notAnObject, .duplicateField]

    /// Classifies `bytes`. The identifying fields of an invalid record are read by the same
    /// strict decoder (`ClientOrder.identity(json:)`), so whatever it could validate it can also
    /// answer: a number no `Double` holds (`1e400`) in some other field made Foundation's reader
    /// give up, and the owner of a readable order was never told.
    public static func classify(_ bytes: [UInt8]) -> OrderIntake {
        switch ClientOrder.decode(json: bytes) {
        case .success(let order):
            return .accepted(order)
        case .failure(let errors):
            let reason = errors.description
            if errors.errors.contains(where: { structuralCodes.contains($0.code) }) {
                return .malformed(errorType: "not_a_client_order", reason: reason)
            }
            if errors.errors.contains(where: { identifyingFields.contains($0.field) }) {
                return .malformed(errorType: "validation", reason: reason)
            }
            let quantityIsValid = errors.errors(for: "quantity").isEmpty
            guard let update = rejectedUpdate(bytes, reason: reason, quantityIsValid: quantityIsValid) else {
                return .malformed(errorType: "validation", reason: reason)
            }
            return .rejected(update, reason: reason)
        }
    }

    static func rejectedUpdate(_ bytes: [UInt8], reason: String, quantityIsValid: Bool) -> OrderUpdate? {
        guard let identity = ClientOrder.identity(json: bytes) else { return nil }
        // The quantity that was asked for, when it is a usable one; otherwise the order never had one.
        let quantity = quantityIsValid ? identity.quantity ?? 0 : 0
        return OrderUpdate(
            clientOrderId: identity.clientOrderId, userId: identity.userId, symbol: identity.symbol, side: identity.side, status: .rejected,
            cumulativeQuantity: 0, leavesQuantity: quantity, reason: String(reason.prefix(512)))
    }
}
