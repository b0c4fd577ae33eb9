import Baggage
import OTLPWire
import OrderModel
import Pipeline
import TraceContext
import Tracing

/// The spans of the trace model that the order manager starts, and their attributes.
enum OrderManagerSpans {
    /// The root of an order's trace when its record carried no trace context (kcat).
    static let clientOrderReceived = "client_order_received"
    static let orderManagerProcessing = "order_manager_processing"
    static let orderBatching = "order_batching"
    static let clientOrderBatched = "client_order_batched"

    /// Attribute keys of the order manager's own spans, beyond the business ids.
    enum Key {
        static let memberCount = "batch.member_count"
        static let closeReason = "batch.close_reason"
    }

    /// `order_manager_processing` (INTERNAL), child of the record's process span.
    static func startProcessing(parent: MessagingParent, tracer: any MessagingTracer) -> any MessagingSpan {
        tracer.startMessagingSpan(orderManagerProcessing, parent: parent, ofKind: .internal)
    }

    /// `order_batching` (INTERNAL), the root of the batch's trace, with `batch.id` in its baggage
    /// and a link to every member's order span (link attributes `client.order_id`, `user.id`,
    /// `order.quantity`; past the link limit, see `LinkLimit`).
    static func startBatching(_ batch: Batch, members: [(order: ClientOrder, parent: MessagingParent)]) -> any Span {
        var context = ServiceContext.topLevel
        var baggage = Baggage()
        baggage[BusinessAttribute.batchID] = batch.batchId
        context.baggage = baggage
        let span = MessagingTracing.current.startMessagingSpan(orderBatching, context: context, ofKind: .internal)
        guard span.isRecording else { return span }
        span.setAttributes([
            Attribute(BusinessAttribute.batchID, .string(batch.batchId)),
            Attribute(BusinessAttribute.symbol, .string(batch.symbol)),
            Attribute(BusinessAttribute.side, .string(batch.side.rawValue)),
            Attribute(BusinessAttribute.quantity, .int(batch.quantity)),
            Attribute(Key.memberCount, .int(Int64(members.count))),
            Attribute(Key.closeReason, .string(batch.closeReason.rawValue)),
        ])
        // In key order, as a `SpanAttributes` link's would be exported.
        LinkLimit.addLinks(
            members.map { member in
                (parent: member.parent, attributes: [
                    Attribute(BusinessAttribute.clientOrderID, .string(member.order.clientOrderId)),
                    Attribute(BusinessAttribute.quantity, .int(member.order.quantity)),
                    Attribute(BusinessAttribute.userID, .string(member.order.userId)),
                ])
            }, to: span)
        return span
    }

    /// `client_order_batched` (INTERNAL) in the order's trace (`parent`: its processing span with
    /// its baggage), linked to the batch's `order_batching` span; ended at once.
    static func recordBatched(_ order: ClientOrder, batchID: String, parent: MessagingParent, batchSpan: any Span, tracer: any MessagingTracer) {
        let span = tracer.startMessagingSpan(clientOrderBatched, parent: parent, ofKind: .internal)
        defer { span.end() }
        guard span.isRecording else { return }
        span.addLink(SpanLink(context: batchSpan.context, attributes: [:]))
        span.setAttributes(
            orderAttributes(userId: order.userId, clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side) + [
                Attribute(BusinessAttribute.batchID, .string(batchID)),
                Attribute(BusinessAttribute.status, .string(OrderStatus.batched.rawValue)),
            ])
    }

    /// The ids of an order on a span: user, client order, symbol and side.
    static func orderAttributes(userId: String, clientOrderId: String, symbol: String, side: Side) -> [Attribute] {
        [
            Attribute(BusinessAttribute.userID, .string(userId)),
            Attribute(BusinessAttribute.clientOrderID, .string(clientOrderId)),
            Attribute(BusinessAttribute.symbol, .string(symbol)),
            Attribute(BusinessAttribute.side, .string(side.rawValue)),
        ]
    }

    /// Marks a span as about a record seen before (not acted on again).
    static func markDuplicate(_ span: any Span) {
        span.attributes[BusinessAttribute.duplicate] = true
    }
}
