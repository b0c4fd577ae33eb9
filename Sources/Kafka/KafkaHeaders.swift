/// Kafka record headers with *set* semantics: one value per key.
///
/// Setting a key that is already present replaces its value in place, so a header that is set
/// again on a retry never appears twice on the wire. A value may be `nil` (a header with no value)
/// or empty.
public struct KafkaHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header: a key and its raw value bytes.
    public struct Header: Sendable, Hashable {
        public var key: String
        public var value: [UInt8]?
        public init(key: String, value: [UInt8]?) {
            self.key = key
            self.value = value
        }
    }

    @usableFromInline var storage: [Header]

    public init() { storage = [] }

    /// Builds headers from pairs; a key given more than once keeps its last value.
    public init(_ pairs: some Sequence<(String, [UInt8]?)>) {
        storage = []
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, [UInt8]?)...) {
        self.init(elements)
    }

    /// The raw value of `key`, or `nil` when absent. Setting `nil` removes the header; use
    /// `set(_:bytes:)` with `nil` to send a header without a value.
    ///
    /// Records written by other clients may repeat a key; reading takes the *last* value, as
    /// Kafka's Java client (`lastHeader`) and the OpenTelemetry instrumentations built on it do.
    @inlinable
    public subscript(key: String) -> [UInt8]? {
        get {
            for header in storage.reversed() where header.key == key { return header.value }
            return nil
        }
        set {
            if let newValue { set(key, bytes: newValue) } else { remove(key) }
        }
    }

    /// The value of `key` decoded as UTF-8, or `nil` when absent or empty.
    public func string(_ key: String) -> String? {
        guard let bytes = self[key] else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sets `key` to `bytes` (which may be `nil`: a header without a value), replacing any value.
    @inlinable
    public mutating func set(_ key: String, bytes: [UInt8]?) {
        if let index = storage.firstIndex(where: { $0.key == key }) {
            storage[index].value = bytes
        } else {
            storage.append(Header(key: key, value: bytes))
        }
    }

    /// Sets `key` to the UTF-8 bytes of `value`, replacing any value.
    @inlinable
    public mutating func set(_ key: String, _ value: String) {
        set(key, bytes: Array(value.utf8))
    }

    /// Tells whether `key` is present (with or without a value).
    public func contains(_ key: String) -> Bool {
        storage.contains { $0.key == key }
    }

    /// Removes `key` if present.
    public mutating func remove(_ key: String) {
        storage.removeAll { $0.key == key }
    }

    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }
    public func makeIterator() -> IndexingIterator<[Header]> { storage.makeIterator() }

    /// Makes room for `count` headers in one allocation (received records know their count; a
    /// traced producer adds its few).
    public mutating func reserveCapacity(_ count: Int) {
        storage.reserveCapacity(count)
    }

    /// Takes a record's headers as read off the wire, in their order, repeated keys kept.
    mutating func replaceReceived(_ headers: [Header]) {
        storage = headers
    }
}
