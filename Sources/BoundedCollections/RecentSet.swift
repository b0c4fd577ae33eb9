/// A set that holds at most ``capacity`` elements and forgets the oldest first: a bounded memory of
/// recently seen ids, to recognise a duplicate (a record Kafka delivers again, a client's retry, an
/// order id used twice) without remembering every id forever.
///
/// What it bounds is the number of ids remembered, so its memory: each held element is stored twice,
/// in a hash set for look-ups and in a ring that gives the order to forget them in. An element
/// inserted again while still held does not move; it is forgotten when its first insertion is the
/// oldest. With a capacity of 0 it remembers nothing.
public struct RecentSet<Element: Hashable & Sendable>: Sendable {
    /// The most elements held at once.
    public let capacity: Int
    private var members: Set<Element> = []
    private var ring: [Element] = []
    private var oldest = 0

    /// Creates an empty set that holds at most `capacity` elements (a negative capacity counts as 0).
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Whether `element` is held.
    public func contains(_ element: Element) -> Bool { members.contains(element) }

    /// How many elements are held; never more than ``capacity``.
    public var count: Int { members.count }

    /// Remembers `element`, forgetting the oldest one when the set is full.
    ///
    /// - Returns: `false` when `element` was already held (a duplicate), `true` otherwise.
    @discardableResult
    public mutating func insert(_ element: Element) -> Bool {
        guard capacity > 0 else { return true }
        // One hash for the look-up and the insertion.
        guard members.insert(element).inserted else { return false }
        if ring.count < capacity {
            ring.append(element)
        } else {
            members.remove(ring[oldest])
            ring[oldest] = element
            oldest = (oldest + 1) % capacity
        }
        return true
    }
}
