/// The baggage keys whose values may be copied into span attributes and log metadata.
///
/// Baggage crosses every service a message reaches, and anyone upstream can put anything in it; a trace
/// backend or log store must only receive what was chosen for it. Code that turns baggage into attributes
/// goes through an allow-list, so a key that is not on it, a token or a customer's e-mail say, never leaves
/// the process that way.
///
/// ```swift
/// for (key, value) in BaggageAllowList.businessIDs.allowedEntries(Baggage.current) {
///     span.attributes[key] = value
/// }
/// ```
public struct BaggageAllowList: Sendable, Hashable {
    /// The identifiers of the order pipeline: `user.id`, `client.order_id`, `batch.id`, `exchange.order_id`
    /// and `fill.id`.
    public static let businessIDs: BaggageAllowList = [
        "user.id",
        "client.order_id",
        "batch.id",
        "exchange.order_id",
        "fill.id",
    ]

    /// The allowed keys, in the order ``allowedEntries(_:)`` returns them; each key appears once.
    public let keys: [String]

    /// Creates an allow-list of `keys`; a repeated key is kept once, at its first place.
    public init(keys: some Sequence<String>) {
        var seen = Set<String>()
        self.keys = keys.filter { seen.insert($0).inserted }
    }

    /// Whether `key` is allowed.
    public func allows(_ key: String) -> Bool {
        keys.contains(key)
    }

    /// The allowed keys present in `baggage` with their values, one pair per key, in the allow-list's order.
    ///
    /// When the baggage holds a key several times, the pair carries the value a lookup returns: the last.
    /// Keys match exactly (case-sensitively). Nothing else of the baggage is returned.
    public func allowedEntries(_ baggage: Baggage) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        forEachAllowedEntry(baggage) { result.append((key: $0, value: $1)) }
        return result
    }

    /// Calls `body` with each allowed key present in `baggage` and its value (the last), in the
    /// allow-list's order, without building an array: the hot path of span attributes.
    @inlinable
    public func forEachAllowedEntry(_ baggage: Baggage, _ body: (String, String) -> Void) {
        guard !baggage.isEmpty else { return }
        for key in keys {
            if let value = baggage[key] { body(key, value) }
        }
    }

    /// A new allow-list with `keys` added after this one's.
    public func adding(_ keys: some Sequence<String>) -> BaggageAllowList {
        BaggageAllowList(keys: self.keys + Array(keys))
    }
}

extension BaggageAllowList: ExpressibleByArrayLiteral {
    /// Creates an allow-list from a literal list of keys.
    public init(arrayLiteral keys: String...) {
        self.init(keys: keys)
    }
}
