import Baggage
import ExchangeProtocol
import OrderModel
import Pipeline
import Tracing

/// Attribute keys of the gateway's own spans, beyond the business ids.
enum ExchangeAttribute {
    /// The id the order has on the wire in this session (`<exchangeOrderId>~2` after a reconnect).
    static let wireOrderID = "exchange.wire_order_id"
    /// The exchange message sent or received (`new_order`, `cancel`, `ack`, `execution`, ...).
    static let messageType = "exchange.message_type"
    /// In which exchange session of the order this send happened (1 for the first).
    static let attempt = "exchange.attempt"
    /// Why the span is odd (a duplicate record, an over-execution, ...).
    static let note = "ordertrace.note"
}

/// Log metadata keys.
enum LogKey {
    static let exchangeOrderID = "exchange.order_id"
    static let wireOrderID = "exchange.wire_order_id"
    static let fillID = "fill.id"
}

/// The spans of the trace model that the gateway starts.
enum ExchangeGatewaySpans {
    static let wsSend = "external_exchange_ws_send"
    static let wsReceive = "external_exchange_ws_recv"
    static let fillReceived = "exchange_fill_received"

    /// `external_exchange_ws_send` (CLIENT) for a message about `order`, child of `context`.
    static func startSend(
        _ order: ExchangeOrder, wireOrderId: String, messageType: String, quantity: Int64?, attempt: Int?, context: ServiceContext
    ) -> any Span {
        let span = startSpan(wsSend, context: context, ofKind: .client)
        var attributes = orderAttributes(order)
        attributes[ExchangeAttribute.wireOrderID] = wireOrderId
        attributes[ExchangeAttribute.messageType] = messageType
        if let quantity { attributes[BusinessAttribute.quantity] = quantity }
        if let attempt { attributes[ExchangeAttribute.attempt] = attempt }
        span.attributes = attributes
        return span
    }

    /// `external_exchange_ws_recv` (CONSUMER) for a reply, child of the order's stored ws_send context.
    static func startReceive(_ receipt: OpenExchangeOrders.Receipt) -> any Span {
        let span = startSpan(wsReceive, context: receipt.context, ofKind: .consumer)
        var attributes = orderAttributes(receipt.order)
        attributes[ExchangeAttribute.wireOrderID] = receipt.wireOrderId
        attributes[ExchangeAttribute.messageType] = receipt.messageType
        if let note = receipt.note { attributes[ExchangeAttribute.note] = note }
        span.attributes = attributes
        return span
    }

    /// `exchange_fill_received` (INTERNAL), child of the receive span. Returns the span and the
    /// context to send the fill with: the span's, with `fill.id` added to the baggage.
    static func startFill(_ fill: Fill, order: ExchangeOrder, context: ServiceContext) -> (any Span, ServiceContext) {
        let span = startSpan(fillReceived, context: context, ofKind: .internal)
        var attributes = orderAttributes(order)
        attributes[BusinessAttribute.fillID] = fill.fillId
        attributes[BusinessAttribute.status] = fill.status.rawValue
        attributes[BusinessAttribute.quantity] = fill.quantity
        if let reason = fill.reason { attributes[BusinessAttribute.rejectReason] = reason }
        span.attributes = attributes
        return (span, span.context.settingBaggage([BusinessAttribute.fillID: fill.fillId]))
    }

    /// `context` with `exchange.order_id` added to its baggage (the rest kept intact).
    static func withExchangeOrderID(_ id: String, _ context: ServiceContext) -> ServiceContext {
        context.settingBaggage([BusinessAttribute.exchangeOrderID: id])
    }

    private static func orderAttributes(_ order: ExchangeOrder) -> SpanAttributes {
        var attributes = SpanAttributes()
        attributes[BusinessAttribute.exchangeOrderID] = order.exchangeOrderId
        attributes[BusinessAttribute.batchID] = order.batchId
        attributes[BusinessAttribute.symbol] = order.symbol
        attributes[BusinessAttribute.side] = order.side.rawValue
        attributes[BusinessAttribute.quantity] = order.quantity
        return attributes
    }
}
