import Baggage
import OTLPWire
import OrderModel
import Pipeline
import TraceContext
import Tracing

/// The spans of the trace model that the algorithm starts, and their attributes.
enum AlgoSpans {
    static let algorithmProcessing = "algorithm_processing"
    static let exchangeOrderSend = "exchange_order_send"

    /// Attribute keys of the algorithm's own spans, beyond the business ids.
    enum Key {
        /// How many exchange orders the batch is worked as.
        static let slices = "algo.slices"
        /// Which of them an exchange order is (0-based).
        static let slice = "algo.slice"
    }

    /// `algorithm_processing` (INTERNAL), child of the batch record's process span.
    static func startProcessing(parent: MessagingParent, tracer: any MessagingTracer) -> any MessagingSpan {
        tracer.startMessagingSpan(algorithmProcessing, parent: parent, ofKind: .internal)
    }

    /// The batch's ids and the slice count on the `algorithm_processing` span (in key order, as
    /// `SpanAttributes` would be exported).
    static func setBatchAttributes(_ span: any MessagingSpan, batch: Batch, slices: Int) {
        guard span.isRecording else { return }
        span.setAttributes([
            Attribute(Key.slices, .int(Int64(slices))),
            Attribute(BusinessAttribute.batchID, .string(batch.batchId)),
            Attribute(BusinessAttribute.quantity, .int(batch.quantity)),
            Attribute(BusinessAttribute.side, .string(batch.side.rawValue)),
            Attribute(BusinessAttribute.symbol, .string(batch.symbol)),
        ])
    }

    /// `exchange_order_send` (INTERNAL), child of `algorithm_processing`, with `batch.id` and
    /// `exchange.order_id` set in the batch's baggage (the rest kept intact); the exchange order
    /// record is sent with its context.
    static func startSend(_ order: ExchangeOrder, context: ServiceContext, tracer: any MessagingTracer) -> any Span {
        let context = context.settingBaggage([
            BusinessAttribute.batchID: order.batchId, BusinessAttribute.exchangeOrderID: order.exchangeOrderId,
        ])
        let span = tracer.startMessagingSpan(exchangeOrderSend, context: context, ofKind: .internal)
        guard span.isRecording else { return span }
        span.setAttributes([
            Attribute(Key.slice, .int(Int64(order.slice))),
            Attribute(BusinessAttribute.batchID, .string(order.batchId)),
            Attribute(BusinessAttribute.exchangeOrderID, .string(order.exchangeOrderId)),
            Attribute(BusinessAttribute.quantity, .int(order.quantity)),
            Attribute(BusinessAttribute.side, .string(order.side.rawValue)),
            Attribute(BusinessAttribute.symbol, .string(order.symbol)),
            Attribute(BusinessAttribute.orderType, .string(order.orderType.rawValue)),
        ])
        return span
    }
}
