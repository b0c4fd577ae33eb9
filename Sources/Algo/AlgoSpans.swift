import Baggage
import OrderModel
import Pipeline
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
    static func startProcessing(context: ServiceContext) -> any Span {
        startSpan(algorithmProcessing, context: context, ofKind: .internal)
    }

    /// The batch's ids and the slice count on the `algorithm_processing` span.
    static func setBatchAttributes(_ span: any Span, batch: Batch, slices: Int) {
        span.updateAttributes { attributes in
            attributes[BusinessAttribute.batchID] = batch.batchId
            attributes[BusinessAttribute.symbol] = batch.symbol
            attributes[BusinessAttribute.side] = batch.side.rawValue
            attributes[BusinessAttribute.quantity] = batch.quantity
            attributes[Key.slices] = slices
        }
    }

    /// `exchange_order_send` (INTERNAL), child of `algorithm_processing`, with `batch.id` and
    /// `exchange.order_id` set in the batch's baggage (the rest kept intact); the exchange order
    /// record is sent with its context.
    static func startSend(_ order: ExchangeOrder, context: ServiceContext) -> any Span {
        let context = context.settingBaggage([
            BusinessAttribute.batchID: order.batchId, BusinessAttribute.exchangeOrderID: order.exchangeOrderId,
        ])
        let span = startSpan(exchangeOrderSend, context: context, ofKind: .internal)
        span.updateAttributes { attributes in
            attributes[BusinessAttribute.batchID] = order.batchId
            attributes[BusinessAttribute.exchangeOrderID] = order.exchangeOrderId
            attributes[BusinessAttribute.symbol] = order.symbol
            attributes[BusinessAttribute.side] = order.side.rawValue
            attributes[BusinessAttribute.quantity] = order.quantity
            attributes[BusinessAttribute.orderType] = order.orderType.rawValue
            attributes[Key.slice] = order.slice
        }
        return span
    }
}
