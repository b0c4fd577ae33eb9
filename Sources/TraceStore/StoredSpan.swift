import OTLPWire

/// A span as the store keeps it: the span and the service that sent it.
public struct StoredSpan: Hashable, Sendable {
    public var span: SpanData
    /// The resource's `service.name`, or `"unknown"`.
    public var service: String
    /// The resource's attributes (`service.name`, `host.name`, ...).
    public var resource: [Attribute]

    public init(span: SpanData, service: String, resource: [Attribute] = []) {
        self.span = span
        self.service = service
        self.resource = resource
    }
}

/// The business ids the store indexes: a search by any of them finds the traces whose spans
/// carry it as an attribute.
public enum BusinessKey: Int, CaseIterable, Hashable, Sendable {
    case clientOrderID = 1
    case batchID = 2
    case exchangeOrderID = 3
    case fillID = 4
    case userID = 5

    /// The span attribute, as `trace-model.md` names it.
    public var attribute: String {
        switch self {
        case .clientOrderID: "client.order_id"
        case .batchID: "batch.id"
        case .exchangeOrderID: "exchange.order_id"
        case .fillID: "fill.id"
        case .userID: "user.id"
        }
    }
}

/// What an id was found as, and in which trace.
public struct IDMatch: Hashable, Sendable {
    /// `trace.id`, `span.id`, or a ``BusinessKey``'s attribute (`client.order_id`, ...).
    public var key: String
    public var value: String
    public var traceID: TraceID

    public init(key: String, value: String, traceID: TraceID) {
        self.key = key
        self.value = value
        self.traceID = traceID
    }
}

/// One client order as the store summarizes it while ingesting: enough for a list of recent
/// orders without reading their spans.
public struct OrderSummary: Hashable, Sendable {
    public var clientOrderID: String
    public var userID: String
    /// The order trace (the trace of its `client_order_received` span, once seen).
    public var traceID: TraceID
    /// Microseconds since 1970: when the order was received (its earliest span).
    public var received: Int64
    /// The last `order.status` seen on its spans, or "".
    public var status: String
    /// Whether its `order_completed` span has arrived.
    public var completed: Bool
    /// How many of its spans (with its `client.order_id`) are stored.
    public var spanCount: Int

    public init(clientOrderID: String, userID: String, traceID: TraceID, received: Int64, status: String, completed: Bool, spanCount: Int) {
        self.clientOrderID = clientOrderID
        self.userID = userID
        self.traceID = traceID
        self.received = received
        self.status = status
        self.completed = completed
        self.spanCount = spanCount
    }
}

/// Which orders ``TraceStore/recentOrders(filter:user:limit:)`` lists.
public enum OrderFilter: String, Sendable, CaseIterable {
    case all, incomplete, complete
}

/// Counts over the whole store.
public struct StoreStatistics: Hashable, Sendable {
    public var spans: Int
    public var traces: Int
    public var orders: Int
    /// Bytes of the database in use (pages not on the free list).
    public var bytes: Int64
    /// Microseconds since 1970 when the oldest stored chunk arrived, 0 when empty.
    public var oldest: Int64
    /// Spans accepted since the store was opened.
    public var ingestedSpans: Int
    /// Spans waiting to be written.
    public var pendingSpans: Int
}

extension TraceID {
    /// The id as 32 lowercase hex digits.
    public var hex: String { hexDigits(high) + hexDigits(low) }

    /// Parses 32 hex digits (either case).
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 32, let high = parseHex(utf8[0..<16]), let low = parseHex(utf8[16..<32]) else { return nil }
        self.init(high: high, low: low)
    }
}

/// A span id as 16 lowercase hex digits.
public func spanIDHex(_ id: UInt64) -> String { hexDigits(id) }

/// Parses a span id of 16 hex digits (either case).
public func parseSpanID(_ text: some StringProtocol) -> UInt64? {
    let utf8 = Array(text.utf8)
    guard utf8.count == 16 else { return nil }
    return parseHex(utf8[...])
}

func hexDigits(_ value: UInt64) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    return String(unsafeUninitializedCapacity: 16) { buffer in
        for index in 0..<16 {
            buffer[index] = digits[Int((value >> UInt64(60 - index * 4)) & 0xF)]
        }
        return 16
    }
}

func parseHex(_ bytes: ArraySlice<UInt8>) -> UInt64? {
    var value: UInt64 = 0
    for byte in bytes {
        let digit: UInt8
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
        default: return nil
        }
        value = value << 4 | UInt64(digit)
    }
    return value
}
