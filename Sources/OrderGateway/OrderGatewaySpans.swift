import Baggage
import OrderModel
import Pipeline
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
    static func startReceived(_ order: ClientOrder, baggage incoming: Baggage) -> any Span {
        var baggage = clientBaggage(incoming)
        baggage[BusinessAttribute.userID] = order.userId
        baggage[BusinessAttribute.clientOrderID] = order.clientOrderId
        var context = ServiceContext.topLevel
        context.baggage = baggage
        let span = startSpan(clientOrderReceived, context: context, ofKind: .server)
        var attributes = SpanAttributes()
        attributes[BusinessAttribute.userID] = order.userId
        attributes[BusinessAttribute.clientOrderID] = order.clientOrderId
        attributes[BusinessAttribute.symbol] = order.symbol
        attributes[BusinessAttribute.side] = order.side.rawValue
        attributes[BusinessAttribute.quantity] = order.quantity
        attributes[BusinessAttribute.orderType] = order.orderType.rawValue
        span.attributes = attributes
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

    /// `client_order_update_delivered` (INTERNAL), child of the current (process) span, around
    /// `deliver`, which returns on how many sockets the update was queued.
    static func withDelivered(_ update: OrderUpdate, _ deliver: () -> Int) {
        withSpan(clientOrderUpdateDelivered, ofKind: .internal) { span in
            let sockets = deliver()
            span.updateAttributes { attributes in
                attributes[BusinessAttribute.userID] = update.userId
                attributes[BusinessAttribute.clientOrderID] = update.clientOrderId
                attributes[BusinessAttribute.symbol] = update.symbol
                attributes[BusinessAttribute.status] = update.status.rawValue
                if let batchId = update.batchId { attributes[BusinessAttribute.batchID] = batchId }
                if let fillId = update.fillId { attributes[BusinessAttribute.fillID] = fillId }
                attributes[Key.sockets] = Int64(sockets)
            }
        }
    }
}
