/// The bounds every message is validated against, where the contract leaves the number open.
public enum MessageLimits {
    /// The longest symbol, in UTF-8 bytes.
    public static let maxSymbolLength = 32
    /// The longest identifier (`clientOrderId`, `userId`, `batchId`, `fillId`, ...), in UTF-8 bytes.
    public static let maxIdentifierLength = 128
    /// The largest quantity of one order, exchange order or fill: 10^12 units. Bounding it keeps every sum
    /// the pipeline computes (a batch's quantity, a notional) far from overflow.
    public static let maxQuantity: Int64 = 1_000_000_000_000
    /// The most members a batch may have.
    public static let maxBatchMembers = 10_000
    /// The longest `traceparent` of a batch member, in UTF-8 bytes.
    public static let maxTraceparentLength = 512
    /// The longest `tracestate` a batch member carries (W3C Trace Context: 32 entries, 512 characters propagate).
    public static let maxTracestateLength = 512
    /// The longest `baggage` a batch member carries (W3C Baggage: at least 8,192 bytes propagate).
    public static let maxBaggageLength = 8_192
    /// The longest `reason`, in UTF-8 bytes.
    public static let maxReasonLength = 1024
}
