/// Span attribute (and baggage) keys for the business ids of the trace model, so a search by any
/// of them finds every span it applies to.
public enum BusinessAttribute {
    public static let userID = "user.id"
    public static let clientOrderID = "client.order_id"
    public static let batchID = "batch.id"
    public static let exchangeOrderID = "exchange.order_id"
    public static let fillID = "fill.id"
    public static let symbol = "order.symbol"
    public static let side = "order.side"
    public static let quantity = "order.quantity"
    public static let status = "order.status"
    public static let orderType = "order.type"
    /// On a `fill_matching` link: the units of the fill given to the linked client order.
    public static let allocatedQuantity = "allocated.quantity"
    /// On a span about a record seen before, which is not acted on again.
    public static let duplicate = "ordertrace.duplicate"
    /// Why a message was refused (a validation reason, a rejection).
    public static let rejectReason = "ordertrace.reject_reason"
}
