/// A message from the exchange to a client.
///
/// The simulator returns these in the order a client must see them; ``encoded()`` turns one into the JSON
/// bytes of one WebSocket text frame, and ``decode(_:)`` reads one back (clients and tests use that).
public enum ExchangeMessage: Hashable, Sendable {
    /// `ack`: the order was accepted. Comes before any execution or cancel of the order.
    case ack(ExchangeAck)
    /// `execution`: part or all of an order traded.
    case execution(ExchangeExecution)
    /// `reject`: the order was refused and is done; nothing else follows for it.
    case reject(ExchangeReject)
    /// `canceled`: the rest of the order was canceled, on request or because a market order ran out of
    /// liquidity; the order is done.
    case canceled(ExchangeCanceled)
    /// `cancel_reject`: a `cancel` could not be carried out (the order is not open). The order itself is
    /// unaffected.
    case cancelReject(ExchangeCancelReject)
    /// `error`: a client message could not be read. No order was created or changed.
    case error(ExchangeProtocolError)
    /// `order_status`: the answer to a `new_order` whose id the session already knows; the order is not
    /// placed again. Its current state and its executions so far.
    case orderStatus(ExchangeOrderStatus)

    /// The wire name of the message, the value of its `type` field.
    public var typeName: String {
        switch self {
        case .ack: "ack"
        case .execution: "execution"
        case .reject: "reject"
        case .canceled: "canceled"
        case .cancelReject: "cancel_reject"
        case .error: "error"
        case .orderStatus: "order_status"
        }
    }

    /// The order the message is about, when there is one (an `error` has one only if it could be read).
    public var orderId: String? {
        switch self {
        case .ack(let ack): ack.orderId
        case .execution(let execution): execution.orderId
        case .reject(let reject): reject.orderId
        case .canceled(let canceled): canceled.orderId
        case .cancelReject(let cancelReject): cancelReject.orderId
        case .error(let error): error.orderId
        case .orderStatus(let status): status.orderId
        }
    }
}
