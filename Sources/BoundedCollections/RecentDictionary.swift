/// A dictionary that holds at most ``capacity`` entries: a bounded memory of values by key (when
/// each order was received, until its terminal update).
///
/// An entry is held until it is removed or until ``capacity`` later insertions have happened,
/// whichever comes first; so entries that are removed soon never crowd out the rest. (A key
/// removed and inserted again counts from its first insertion.) Memory is bounded by ``capacity``.
public struct RecentDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// The most entries held at once.
    public let capacity: Int
    private var entries: [Key: Value] = [:]
    private var ring: [Key] = []
    private var oldest = 0

    /// Creates an empty dictionary that holds at most `capacity` entries (a negative capacity counts as 0).
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// How many entries are held; never more than ``capacity``.
    public var count: Int { entries.count }

    public subscript(key: Key) -> Value? { entries[key] }

    /// Holds `value` for `key` (replacing a held value in place), forgetting the oldest insertion
    /// when full.
    public mutating func insert(_ value: Value, for key: Key) {
        guard capacity > 0 else { return }
        if entries.updateValue(value, forKey: key) != nil { return }
        if ring.count < capacity {
            ring.append(key)
        } else {
            let evicted = ring[oldest]
            if evicted != key { entries.removeValue(forKey: evicted) }
            ring[oldest] = key
            oldest = (oldest + 1) % capacity
        }
    }

    /// Forgets `key`; returns its value if it was held.
    @discardableResult
    public mutating func removeValue(for key: Key) -> Value? {
        entries.removeValue(forKey: key)
    }
}
