/// What identifies a client order across the pipeline: `clientOrderId` is unique per user only.
public struct OrderKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The owner of the order.
    public var userId: String
    /// The client's id for the order.
    public var clientOrderId: String

    /// Creates a key.
    public init(userId: String, clientOrderId: String) {
        self.userId = userId
        self.clientOrderId = clientOrderId
    }

    /// Orders keys by user, then by client order id.
    public static func < (lhs: OrderKey, rhs: OrderKey) -> Bool {
        (lhs.userId, lhs.clientOrderId) < (rhs.userId, rhs.clientOrderId)
    }

    /// `userId/clientOrderId`.
    public var description: String { "\(userId)/\(clientOrderId)" }
}

extension ClientOrder {
    /// The order's key: (`userId`, `clientOrderId`).
    public var orderKey: OrderKey { OrderKey(userId: userId, clientOrderId: clientOrderId) }
}
