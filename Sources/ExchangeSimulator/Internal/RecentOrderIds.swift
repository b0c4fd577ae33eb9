/// The ids of the most recent orders, for duplicate detection with bounded memory: a set for lookups and a
/// ring that forgets the oldest id once ``capacity`` are held.
struct RecentOrderIds: Sendable {
    let capacity: Int
    private var members: Set<String> = []
    private var ring: [String] = []
    private var next = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { members.count }

    func contains(_ id: String) -> Bool {
        members.contains(id)
    }

    mutating func insert(_ id: String) {
        guard capacity > 0, !members.contains(id) else { return }
        if ring.count < capacity {
            ring.append(id)
        } else {
            members.remove(ring[next])
            ring[next] = id
            next = (next + 1) % capacity
        }
        members.insert(id)
    }
}
