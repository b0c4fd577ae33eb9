/// A message from a client to the exchange.
///
/// Decode one from bytes with ``decode(_:)``; encode one with ``encoded()`` (clients and tests use that).
/// Messages carry no trace headers: like a real exchange, the simulator knows nothing of the client's tracing.
public enum ExchangeClientMessage: Hashable, Sendable {
    /// `new_order`: place an order.
    case newOrder(ExchangeNewOrder)
    /// `cancel`: cancel the rest of an open order.
    case cancel(orderId: String)

    /// The wire name of the message, the value of its `type` field.
    public var typeName: String {
        switch self {
        case .newOrder: "new_order"
        case .cancel: "cancel"
        }
    }
}
