import OrderModel

/// The most recent client orders seen, by (userId, clientOrderId), so a duplicate (a client's
/// retry, or Kafka delivering a record again) is not batched twice. Bounded: the oldest key is
/// forgotten first.
public struct SeenOrders: Sendable {
    public let capacity: Int
    private var keys: Set<OrderKey> = []
    private var ring: [OrderKey] = []
    private var next = 0

    public init(capacity: Int = 1_000_000) {
        self.capacity = max(1, capacity)
    }

    /// Records `key`; returns false when it was already there.
    public mutating func insert(_ key: OrderKey) -> Bool {
        guard keys.insert(key).inserted else { return false }
        if ring.count < capacity {
            ring.append(key)
        } else {
            keys.remove(ring[next])
            ring[next] = key
            next = (next + 1) % capacity
        }
        return true
    }

    public func contains(_ key: OrderKey) -> Bool { keys.contains(key) }

    public var count: Int { keys.count }
}
