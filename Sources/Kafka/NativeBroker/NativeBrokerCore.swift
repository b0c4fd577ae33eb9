import NIOCore

/// The state of the native embedded broker and the requests it serves: topics and their logs,
/// consumer groups, producer ids, and fetches waiting for records.
///
/// Everything runs on one event loop (the broker's), so nothing here takes a lock.
final class NativeBrokerCore {
    let eventLoop: EventLoop
    let nodeID: Int32 = 1
    let advertisedHost: String
    var advertisedPort = 0
    let retainedBytesPerPartition: Int
    /// Partitions of a topic a client creates by asking for it (as Apache Kafka's `num.partitions`).
    let defaultPartitions: Int
    let clusterID = "ordertrace-embedded"
    private(set) var topics: [String: [PartitionLog]] = [:]
    private var groups: [String: ConsumerGroup] = [:]
    private var nextProducerID: Int64 = 1000
    private var waitingFetches: [Int: WaitingFetch] = [:]
    /// Waiting fetches by the partitions they read (ids into `waitingFetches`).
    private var fetchesByPartition: [PartitionKey: [Int]] = [:]
    private var nextFetchID = 0
    /// Called with a message for the log (a topic a client created).
    var log: (String) -> Void = { _ in }

    struct PartitionKey: Hashable {
        let topic: String
        let partition: Int32
    }

    private struct WaitingFetch {
        let keys: [PartitionKey]
        /// Called once, with whether the wait ended (rather than records arriving).
        let wake: (_ timedOut: Bool) -> Void
    }

    /// The waiting fetches' deadlines, earliest first; an entry whose fetch was answered stays
    /// until its deadline (answering does not look for it).
    private var deadlines = DeadlineHeap()
    /// The one timer for all waits, at the earliest deadline: a fetch answered early cancels no
    /// timer of its own.
    private var timer: (deadline: NIODeadline, task: Scheduled<Void>)?

    init(eventLoop: EventLoop, advertisedHost: String, retainedBytesPerPartition: Int, defaultPartitions: Int) {
        self.eventLoop = eventLoop
        self.advertisedHost = advertisedHost
        self.retainedBytesPerPartition = retainedBytesPerPartition
        self.defaultPartitions = defaultPartitions
    }

    // MARK: Topics

    enum TopicCreation { case created, exists, invalid }

    @discardableResult
    func createTopic(_ name: String, partitions: Int) -> TopicCreation {
        guard KafkaTopicDefinition.isLegalName(name), partitions >= 1 else { return .invalid }
        guard topics[name] == nil else { return .exists }
        topics[name] = (0..<partitions).map { _ in PartitionLog(retainedBytes: retainedBytesPerPartition) }
        return .created
    }

    func partition(_ topic: String, _ partition: Int32) -> PartitionLog? {
        guard let logs = topics[topic], partition >= 0, Int(partition) < logs.count else { return nil }
        return logs[Int(partition)]
    }

    // MARK: Groups

    func group(_ id: String, create: Bool) -> ConsumerGroup? {
        if let group = groups[id] { return group }
        guard create else { return nil }
        let group = ConsumerGroup(id: id)
        groups[id] = group
        return group
    }

    /// The groups' ids, sorted.
    var groupIDs: [String] { groups.keys.sorted() }

    /// Expires members and rebalances that ran out of time; the broker calls it periodically.
    func tick() {
        let now = NIODeadline.now()
        for group in groups.values { group.expire(now: now) }
    }

    func newProducerID() -> Int64 {
        nextProducerID += 1
        return nextProducerID
    }

    // MARK: Waiting fetches

    /// Parks a fetch until one of its partitions gets records or `deadline` passes; `wake` runs
    /// once, told which.
    func park(keys: [PartitionKey], until deadline: NIODeadline, wake: @escaping (_ timedOut: Bool) -> Void) {
        nextFetchID += 1
        let id = nextFetchID
        waitingFetches[id] = WaitingFetch(keys: keys, wake: wake)
        for key in keys { fetchesByPartition[key, default: []].append(id) }
        deadlines.insert(deadline, id)
        setTimer(deadline)
    }

    /// Moves the timer to `deadline` when that is earlier than where it is (or there is none).
    private func setTimer(_ deadline: NIODeadline) {
        if let timer, timer.deadline <= deadline { return }
        timer?.task.cancel()
        let task = eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(deadline: deadline) { [self] in
            self.timer = nil
            self.expireWaits()
        }
        timer = (deadline, task)
    }

    /// Answers the fetches whose wait is over, and sets the timer for the next live deadline.
    private func expireWaits() {
        let now = NIODeadline.now()
        while let (deadline, id) = deadlines.first {
            if waitingFetches[id] == nil {
                deadlines.removeFirst()  // answered already
            } else if deadline <= now {
                deadlines.removeFirst()
                fire(id, timedOut: true)
            } else {
                setTimer(deadline)
                return
            }
        }
    }

    /// Wakes the fetches waiting on partitions that just got records.
    func appended(to keys: some Sequence<PartitionKey>) {
        var ids: [Int] = []
        for key in keys {
            if let waiting = fetchesByPartition.removeValue(forKey: key) { ids.append(contentsOf: waiting) }
        }
        for id in ids { fire(id, timedOut: false) }
    }

    private func fire(_ id: Int, timedOut: Bool) {
        guard let fetch = waitingFetches.removeValue(forKey: id) else { return }
        for key in fetch.keys {
            fetchesByPartition[key]?.removeAll { $0 == id }
            if fetchesByPartition[key]?.isEmpty == true { fetchesByPartition[key] = nil }
        }
        fetch.wake(timedOut)
    }
}

/// A binary min-heap of (deadline, fetch id).
struct DeadlineHeap {
    private var entries: [(deadline: NIODeadline, id: Int)] = []

    var first: (NIODeadline, Int)? { entries.first.map { ($0.deadline, $0.id) } }
    var count: Int { entries.count }

    mutating func insert(_ deadline: NIODeadline, _ id: Int) {
        entries.append((deadline, id))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() {
        guard !entries.isEmpty else { return }
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
