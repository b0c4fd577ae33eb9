import Baggage
import ExchangeProtocol
import OTLPWire
import OrderModel
import Pipeline
import TraceContext
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
        let span = MessagingTracing.current.startMessagingSpan(wsSend, context: context, ofKind: .client)
        guard span.isRecording else { return span }
        span.setAttributes(
            messageAttributes(order, wireOrderId: wireOrderId, messageType: messageType, quantity: quantity ?? order.quantity, attempt: attempt, note: nil))
        return span
    }

    /// `external_exchange_ws_recv` (CONSUMER) for a reply, child of the order's stored ws_send context.
    static func startReceive(_ receipt: OpenExchangeOrders.Receipt) -> any Span {
        let span = MessagingTracing.current.startMessagingSpan(wsReceive, context: receipt.context, ofKind: .consumer)
        guard span.isRecording else { return span }
        span.setAttributes(
            messageAttributes(
                receipt.order, wireOrderId: receipt.wireOrderId, messageType: receipt.messageType, quantity: receipt.order.quantity, attempt: nil,
                note: receipt.note))
        return span
    }

    /// `exchange_fill_received` (INTERNAL), child of the receive span. Returns the span and the
    /// context to send the fill with: the span's, with `fill.id` added to the baggage.
    static func startFill(_ fill: Fill, order: ExchangeOrder, context: ServiceContext) -> (any Span, ServiceContext) {
        let span = MessagingTracing.current.startMessagingSpan(fillReceived, context: context, ofKind: .internal)
        if span.isRecording {
            var attributes: [Attribute] = []
            attributes.reserveCapacity(8)
            attributes.append(Attribute(BusinessAttribute.batchID, .string(order.batchId)))
            attributes.append(Attribute(BusinessAttribute.exchangeOrderID, .string(order.exchangeOrderId)))
            attributes.append(Attribute(BusinessAttribute.fillID, .string(fill.fillId)))
            attributes.append(Attribute(BusinessAttribute.quantity, .int(fill.quantity)))
            attributes.append(Attribute(BusinessAttribute.side, .string(order.side.rawValue)))
            attributes.append(Attribute(BusinessAttribute.status, .string(fill.status.rawValue)))
            attributes.append(Attribute(BusinessAttribute.symbol, .string(order.symbol)))
            if let reason = fill.reason { attributes.append(Attribute(BusinessAttribute.rejectReason, .string(reason))) }
            span.setAttributes(attributes)
        }
        return (span, span.context.settingBaggage([BusinessAttribute.fillID: fill.fillId]))
    }

    /// `context` with `exchange.order_id` added to its baggage (the rest kept intact).
    static func withExchangeOrderID(_ id: String, _ context: ServiceContext) -> ServiceContext {
        context.settingBaggage([BusinessAttribute.exchangeOrderID: id])
    }

    /// The attributes of a message sent to or received from the exchange about `order`, in key
    /// order (as `SpanAttributes` would be exported).
    private static func messageAttributes(
        _ order: ExchangeOrder, wireOrderId: String, messageType: String, quantity: Int64, attempt: Int?, note: String?
    ) -> [Attribute] {
        var attributes: [Attribute] = []
        attributes.reserveCapacity(9)
        attributes.append(Attribute(BusinessAttribute.batchID, .string(order.batchId)))
        if let attempt { attributes.append(Attribute(ExchangeAttribute.attempt, .int(Int64(attempt)))) }
        attributes.append(Attribute(ExchangeAttribute.messageType, .string(messageType)))
        attributes.append(Attribute(BusinessAttribute.exchangeOrderID, .string(order.exchangeOrderId)))
        attributes.append(Attribute(ExchangeAttribute.wireOrderID, .string(wireOrderId)))
        attributes.append(Attribute(BusinessAttribute.quantity, .int(quantity)))
        attributes.append(Attribute(BusinessAttribute.side, .string(order.side.rawValue)))
        attributes.append(Attribute(BusinessAttribute.symbol, .string(order.symbol)))
        if let note { attributes.append(Attribute(ExchangeAttribute.note, .string(note))) }
        return attributes
    }
}
