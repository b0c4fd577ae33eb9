/// The payload of a `reject`: the order was refused and is done.
public struct ExchangeReject: Hashable, Sendable {
    /// The client's order id, as sent.
    public var orderId: String
    /// What rule the order broke, for programs.
    public var code: ExchangeRejectCode
    /// What went wrong and what to do, for people.
    public var reason: String

    /// Creates a reject payload.
    public init(orderId: String, code: ExchangeRejectCode, reason: String) {
        self.orderId = orderId
        self.code = code
        self.reason = reason
    }
}

/// Why an order was rejected: an opaque code, compared with the static members, never by its text.
///
/// ``description`` is the wire spelling (for example `"price_band"`).
public struct ExchangeRejectCode: Hashable, Sendable, CustomStringConvertible {
    private let name: String
    init(_ name: String) { self.name = name }
    /// The wire spelling.
    public var description: String { name }

    /// The symbol is not listed on this exchange.
    public static let unknownSymbol = ExchangeRejectCode("unknown_symbol")
    /// The quantity is zero or negative, or larger than the configured maximum.
    public static let invalidQuantity = ExchangeRejectCode("invalid_quantity")
    /// The limit price is zero or negative.
    public static let invalidPrice = ExchangeRejectCode("invalid_price")
    /// The limit price is too far from the reference price.
    public static let priceBand = ExchangeRejectCode("price_band")
    /// The order id was already used in this session.
    public static let duplicateOrderId = ExchangeRejectCode("duplicate_order_id")
    /// The session has as many open orders as it may hold.
    public static let tooManyOpenOrders = ExchangeRejectCode("too_many_open_orders")
}
