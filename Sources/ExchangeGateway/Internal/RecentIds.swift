/// A bounded set of ids that forgets the oldest first: the ids of done exchange orders, so a
/// redelivered record is recognised without remembering every order forever.
struct RecentIds: Sendable {
    let capacity: Int
    private var members: Set<String> = []
    private var ring: [String] = []
    private var oldest = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    func contains(_ id: String) -> Bool { members.contains(id) }

    var count: Int { members.count }

    mutating func insert(_ id: String) {
        guard capacity > 0, members.insert(id).inserted else { return }
        if ring.count < capacity {
            ring.append(id)
        } else {
            members.remove(ring[oldest])
            ring[oldest] = id
            oldest = (oldest + 1) % capacity
        }
    }
}
