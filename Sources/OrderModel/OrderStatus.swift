/// The state of a client order, as order updates report it.
public enum OrderStatus: String, Hashable, Sendable, CaseIterable {
    /// The order manager validated the order.
    case accepted
    /// The order became a member of a batch.
    case batched
    /// Some of the order executed; more may.
    case partiallyFilled = "partially_filled"
    /// All of the order executed. Terminal.
    case filled
    /// The order was refused (invalid, or its exchange order was rejected). Terminal.
    case rejected
    /// The rest of the order will never execute. Terminal.
    case canceled

    /// Whether the status is final: a client order reaches exactly one terminal status, which never changes.
    public var isTerminal: Bool {
        switch self {
        case .filled, .rejected, .canceled: true
        case .accepted, .batched, .partiallyFilled: false
        }
    }
}
