/// The payload of a `cancel_reject`: a `cancel` that could not be carried out. The order is unaffected.
public struct ExchangeCancelReject: Hashable, Sendable {
    /// The order id the `cancel` named.
    public var orderId: String
    /// What went wrong, for people.
    public var reason: String

    /// Creates a cancel-reject payload.
    public init(orderId: String, reason: String) {
        self.orderId = orderId
        self.reason = reason
    }
}
