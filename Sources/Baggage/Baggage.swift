/// W3C Baggage: an ordered list of key-value entries propagated with a request or message.
///
/// `Baggage` models the `baggage` header of the W3C Baggage specification (<https://www.w3.org/TR/baggage/>).
/// It carries application-defined key-value pairs, such as an order or user identifier, across service
/// boundaries; in this project it travels in a Kafka record header named `baggage`.
///
/// Entries are kept in wire order, and the specification allows duplicate keys, so a parsed header may hold
/// several entries with one key. Lookups through ``subscript(_:)`` return the **last** of them (later entries
/// win, as with repeated headers), while writes through the subscript replace all of them.
///
/// ```swift
/// var baggage = Baggage(headerValue: "user.id=alice, client.order_id=42;ttl=60")
/// baggage["user.id"]             // "alice"
/// baggage["batch.id"] = "b-7"
/// baggage.headerValue            // "user.id=alice,client.order_id=42;ttl=60,batch.id=b-7"
/// ```
///
/// Parsing and serializing work on UTF-8 bytes and never use Foundation.
public struct Baggage: Sendable, Hashable {
    /// One list-member of the baggage.
    public struct Entry: Sendable, Hashable {
        /// The key, an RFC 7230 `token` when the entry came from a header.
        ///
        /// Entries built in code may hold any string; an entry whose key is not a valid token is left out when
        /// serializing (see ``Baggage/serialized()``).
        public var key: String

        /// The value, percent-decoded.
        public var value: String

        /// The raw property text that followed the first `;` of the list-member, for example
        /// `"property1;property2"` or `"propertyKey=propertyValue"`, or `nil` when the member had none.
        ///
        /// The specification leaves the meaning of properties to producers and consumers, so this text is kept
        /// as received: it is neither split nor percent-decoded, only the optional whitespace around it is
        /// trimmed. It is re-emitted after a `;` when serializing.
        public var properties: String?

        /// Creates an entry.
        /// - Parameters:
        ///   - key: The key; it should be an RFC 7230 `token` to be serializable.
        ///   - value: The decoded value; any string is allowed, it is percent-encoded when serializing.
        ///   - properties: Raw property text without the leading `;`, or `nil`.
        public init(key: String, value: String, properties: String? = nil) {
            self.key = key
            self.value = value
            self.properties = properties
        }
    }

    /// The most list-members this implementation keeps when parsing and emits when serializing.
    ///
    /// The specification requires propagating at least 64; 180 is the cap of its earlier
    /// `list-member 0*179( OWS "," OWS list-member )` grammar.
    public static let maxEntries = 180

    /// The most bytes of a serialized `baggage` header value (the whole baggage-string, commas included).
    ///
    /// The specification requires propagating at least 8192 bytes.
    public static let maxBytes = 8192

    /// The entries, in order.
    public private(set) var entries: [Entry]

    /// Creates empty baggage.
    public init() {
        self.entries = []
    }

    /// Creates baggage from key-value pairs, kept in order; repeated keys are kept as separate entries.
    ///
    /// Keys are not validated here; see ``serialized()`` for what happens to an invalid key.
    public init(_ entries: [(String, String)]) {
        self.entries = entries.map { Entry(key: $0.0, value: $0.1) }
    }

    /// Creates baggage from entries, kept in order.
    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// The number of entries, duplicates included.
    public var count: Int { entries.count }

    /// Whether there are no entries.
    public var isEmpty: Bool { entries.isEmpty }

    /// The value for `key`, with set semantics.
    ///
    /// - Getting returns the value of the **last** entry with this key, or `nil` when there is none.
    /// - Setting a value replaces every entry with this key by one entry, at the position of the first of
    ///   them (or appended at the end when there was none). The new entry has no properties: properties
    ///   describe the value they came with.
    /// - Setting `nil` removes every entry with this key.
    public subscript(key: String) -> String? {
        get {
            entries.last { $0.key == key }?.value
        }
        set {
            guard let newValue else {
                entries.removeAll { $0.key == key }
                return
            }
            guard let first = entries.firstIndex(where: { $0.key == key }) else {
                entries.append(Entry(key: key, value: newValue))
                return
            }
            // Setting an entry to the value it has (the pipeline sets each order's ids again at
            // every hop) changes nothing; later duplicates, rare, are looked for before removing.
            if entries[first].value != newValue || entries[first].properties != nil {
                entries[first] = Entry(key: key, value: newValue)
            }
            if entries[(first + 1)...].contains(where: { $0.key == key }) {
                entries[(first + 1)...].removeAll { $0.key == key }
            }
        }
    }

    /// All values for `key`, in order (the specification allows duplicate keys).
    public func values(forKey key: String) -> [String] {
        entries.compactMap { $0.key == key ? $0.value : nil }
    }

    /// Appends an entry, keeping any existing entries with the same key.
    public mutating func append(_ entry: Entry) {
        entries.append(entry)
    }

    /// Removes every entry with `key`; the same as setting the subscript to `nil`.
    public mutating func removeAll(key: String) {
        self[key] = nil
    }

    /// Applies `other` on top of this baggage with set semantics: for each distinct key of `other`, every
    /// entry with that key here is replaced by `other`'s value for it (its last).
    public mutating func merge(_ other: Baggage) {
        for entry in other.entries {
            self[entry.key] = other[entry.key]
        }
    }
}

extension Baggage: Sequence {
    /// Iterates over the entries in order.
    public func makeIterator() -> IndexingIterator<[Entry]> {
        entries.makeIterator()
    }

    /// The number of entries.
    public var underestimatedCount: Int { entries.count }
}

extension Baggage: ExpressibleByDictionaryLiteral {
    /// Creates baggage from a literal; entries keep the literal's order, and repeated keys are kept.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }
}

extension Baggage: CustomStringConvertible {
    /// The keys only, never the values, so that printing baggage cannot leak what it carries.
    public var description: String {
        "Baggage(\(entries.map(\.key).joined(separator: ", ")))"
    }
}
