import Baggage
import OTLPWire
import OrderModel
import Pipeline
import TraceContext
import Tracing

/// The spans of the trace model that the allocator starts, and their attributes.
enum AllocatorSpans {
    static let fillMatching = "fill_matching"
    static let clientOrderUpdate = "client_order_update"
    static let orderCompleted = "order_completed"

    /// Attribute keys of the allocator's own spans, beyond the business ids.
    enum Key {
        static let fillStatus = "fill.status"
        static let fillPrice = "fill.price"
        static let lastQuantity = "order.last_quantity"
        static let cumulativeQuantity = "order.cumulative_quantity"
        static let averagePrice = "order.average_price"
        /// On a fill's process span: the fill waits for its batch, which has not arrived yet.
        static let waitingForBatch = "ordertrace.waiting_for_batch"
    }

    /// `fill_matching` (INTERNAL), child of `parent` (the fill's process span, or the stored
    /// context of a fill that waited for its batch), linked to the fill's producer span when
    /// known and to every client order the fill was allocated to (link attributes
    /// `client.order_id`, `user.id`, `allocated.quantity`; one place is kept for the fill's own
    /// link under the link limit).
    static func startMatching(
        _ fill: Fill, parent: ServiceContext, fillLink: ServiceContext?, members: [(Batch.Member, parent: MessagingParent, quantity: Int64)],
        tracer: any MessagingTracer
    ) -> any MessagingSpan {
        let span = tracer.startMessagingSpan(fillMatching, context: parent, ofKind: .internal)
        // Not recording (tracing off, or not sampled): no attribute, link or id is built.
        guard span.isRecording else { return span }
        span.setAttributes([
            Attribute(BusinessAttribute.fillID, .string(fill.fillId)),
            Attribute(BusinessAttribute.batchID, .string(fill.batchId)),
            Attribute(BusinessAttribute.exchangeOrderID, .string(fill.exchangeOrderId)),
            Attribute(BusinessAttribute.symbol, .string(fill.symbol)),
            Attribute(BusinessAttribute.side, .string(fill.side.rawValue)),
            Attribute(BusinessAttribute.quantity, .int(fill.quantity)),
            Attribute(Key.fillStatus, .string(fill.status.rawValue)),
            Attribute(Key.fillPrice, .string(fill.price.description)),
        ])
        if let fillLink { span.addLink(SpanLink(context: fillLink, attributes: [:])) }
        // In key order, as a `SpanAttributes` link's would be exported.
        let links = members.map { member, memberParent, quantity in
            (parent: memberParent, attributes: [
                Attribute(BusinessAttribute.allocatedQuantity, .int(quantity)),
                Attribute(BusinessAttribute.clientOrderID, .string(member.clientOrderId)),
                Attribute(BusinessAttribute.userID, .string(member.userId)),
            ])
        }
        LinkLimit.addLinks(links, to: span, limit: LinkLimit.maxLinks - 1)
        return span
    }

    /// `client_order_update` (INTERNAL) in the order's trace (`parent`: the member's order
    /// context; `baggage`: the order's, with the update's ids set). An update a fill caused
    /// carries `fill.id` and links to its `fill_matching` span (`matching`: that span); the
    /// `batched` update, sent when the batch arrives, has neither.
    static func startUpdate(
        _ update: OrderUpdate, batchID: String, fillID: String?, matching: MessagingParent?, parent: MessagingParent, baggage: Baggage,
        tracer: any MessagingTracer
    ) -> any MessagingSpan {
        let span = tracer.startMessagingSpan(clientOrderUpdate, parent: parent.replacingBaggage(baggage), ofKind: .internal)
        guard span.isRecording else { return span }
        if let matching { span.addLink(to: matching, attributes: []) }
        var attributes = [
            Attribute(BusinessAttribute.userID, .string(update.userId)),
            Attribute(BusinessAttribute.clientOrderID, .string(update.clientOrderId)),
            Attribute(BusinessAttribute.batchID, .string(batchID)),
            Attribute(BusinessAttribute.symbol, .string(update.symbol)),
            Attribute(BusinessAttribute.side, .string(update.side.rawValue)),
            Attribute(BusinessAttribute.status, .string(update.status.rawValue)),
            Attribute(Key.cumulativeQuantity, .int(update.cumulativeQuantity)),
        ]
        if let fillID {
            attributes.append(Attribute(BusinessAttribute.fillID, .string(fillID)))
            attributes.append(Attribute(Key.lastQuantity, .int(update.lastQuantity)))
        }
        span.setAttributes(attributes)
        return span
    }

    /// `order_completed` (INTERNAL) in the order's trace, linked to the last `fill_matching`
    /// span; ended at once.
    static func recordCompleted(
        _ update: OrderUpdate, batchID: String, parent: MessagingParent, baggage: Baggage, matching: MessagingParent, tracer: any MessagingTracer
    ) {
        let span = tracer.startMessagingSpan(orderCompleted, parent: parent.replacingBaggage(baggage), ofKind: .internal)
        defer { span.end() }
        guard span.isRecording else { return }
        span.addLink(to: matching, attributes: [])
        span.setAttributes([
            Attribute(BusinessAttribute.userID, .string(update.userId)),
            Attribute(BusinessAttribute.clientOrderID, .string(update.clientOrderId)),
            Attribute(BusinessAttribute.batchID, .string(batchID)),
            Attribute(BusinessAttribute.status, .string(update.status.rawValue)),
            Attribute(Key.cumulativeQuantity, .int(update.cumulativeQuantity)),
            Attribute(Key.averagePrice, .string(update.averagePrice.description)),
        ])
    }
}
