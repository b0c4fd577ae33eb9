import Baggage
import OTLPWire
import OrderModel
import Pipeline
import TraceContext
import Tracing

/// The spans of the trace model that the gateway starts, and their attributes.
enum OrderGatewaySpans {
    static let clientOrderReceived = "client_order_received"
    static let clientOrderUpdateDelivered = "client_order_update_delivered"

    /// Attribute keys of the gateway's own spans, beyond the business ids.
    enum Key {
        /// On `client_order_update_delivered`: how many sockets the update was queued on.
        static let sockets = "ordertrace.sockets"
    }

    /// `client_order_received` (SERVER), the root of the order's trace, with the business ids;
    /// its context carries the client's baggage without the business ids (``clientBaggage(_:)``)
    /// and with `user.id` and `client.order_id` set by the gateway (the rest kept intact).
    static func startReceived(_ order: ClientOrder, baggage incoming: Baggage) -> any MessagingSpan {
        var baggage = clientBaggage(incoming)
        baggage[BusinessAttribute.userID] = order.userId
        baggage[BusinessAttribute.clientOrderID] = order.clientOrderId
        var context = ServiceContext.topLevel
        context.baggage = baggage
        let span = MessagingTracing.current.startMessagingSpan(clientOrderReceived, context: context, ofKind: .server)
        guard span.isRecording else { return span }
        // In key order, as `SpanAttributes` would be exported.
        span.setAttributes([
            Attribute(BusinessAttribute.clientOrderID, .string(order.clientOrderId)),
            Attribute(BusinessAttribute.quantity, .int(order.quantity)),
            Attribute(BusinessAttribute.side, .string(order.side.rawValue)),
            Attribute(BusinessAttribute.symbol, .string(order.symbol)),
            Attribute(BusinessAttribute.orderType, .string(order.orderType.rawValue)),
            Attribute(BusinessAttribute.userID, .string(order.userId)),
        ])
        return span
    }

    /// The baggage a client may pass on: its own, without any business id (`user.id`,
    /// `client.order_id`, `batch.id`, `exchange.order_id`, `fill.id`). Those are the pipeline's to
    /// set; spans copy them into attributes and components read them from the context, so a
    /// client that could set them could put its order under another user's or another batch's id.
    static func clientBaggage(_ incoming: Baggage) -> Baggage {
        var baggage = incoming
        for key in BaggageAllowList.businessIDs.keys { baggage.removeAll(key: key) }
        return baggage
    }

    /// `client_order_update_delivered` (INTERNAL), child of `parent` (the record's process
    /// span), around `deliver`, which returns on how many sockets the update was queued.
    static func withDelivered(_ update: OrderUpdate, parent: MessagingParent, tracer: any MessagingTracer, _ deliver: () -> Int) {
        let span = tracer.startMessagingSpan(clientOrderUpdateDelivered, parent: parent, ofKind: .internal)
        defer { span.end() }
        let sockets = deliver()
        guard span.isRecording else { return }
        // In key order, as `SpanAttributes` would be exported.
        var attributes: [Attribute] = []
        attributes.reserveCapacity(7)
        if let batchId = update.batchId { attributes.append(Attribute(BusinessAttribute.batchID, .string(batchId))) }
        attributes.append(Attribute(BusinessAttribute.clientOrderID, .string(update.clientOrderId)))
        if let fillId = update.fillId { attributes.append(Attribute(BusinessAttribute.fillID, .string(fillId))) }
        attributes.append(Attribute(BusinessAttribute.status, .string(update.status.rawValue)))
        attributes.append(Attribute(BusinessAttribute.symbol, .string(update.symbol)))
        attributes.append(Attribute(Key.sockets, .int(Int64(sockets))))
        attributes.append(Attribute(BusinessAttribute.userID, .string(update.userId)))
        span.setAttributes(attributes)
    }
}
