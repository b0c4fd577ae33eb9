import Kafka

/// Which consumed records are done, per partition, so that offsets are stored only up to the
/// first record that is not: a record that waits in an open batch must be read again after a
/// crash, not skipped.
///
/// Work is tied to the record's identity, `KafkaRecordID` (partition, offset and the assignment
/// generation it was read under), not to its offset alone. When a partition is revoked and
/// assigned again, its records are read again from the committed offset: the first record of
/// the new generation starts the partition afresh, so a re-read record is new work (not a
/// duplicate of its first copy), and records still pending from the old generation can no longer
/// move the offset (finishing them is ignored). Within one generation records are added in
/// offset order and may finish in any order; the offset returned never passes a record that is
/// still pending.
public struct OffsetTracker: Sendable {
    private struct Pending: Sendable {
        var generation: UInt64
        var offsets: [Int64] = []
        var done: Set<Int64> = []
        var head = 0

        /// Whether `offset` is tracked and not yet done (`offsets` is sorted).
        func isPending(_ offset: Int64) -> Bool {
            var low = head
            var high = offsets.count
            while low < high {
                let middle = (low + high) / 2
                if offsets[middle] < offset { low = middle + 1 } else { high = middle }
            }
            return low < offsets.count && offsets[low] == offset && !done.contains(offset)
        }
    }

    private var partitions: [KafkaTopicPartition: Pending] = [:]

    public init() {}

    /// Starts tracking a record; returns its identity, which `finish` takes. A record of a newer
    /// assignment generation than the partition's starts the partition afresh; one of an older
    /// generation, or at or before the last offset tracked in its generation, is not tracked.
    @discardableResult
    public mutating func add(_ message: KafkaMessage) -> KafkaRecordID {
        let id = KafkaRecordID(message)
        if let pending = partitions[id.partition], pending.generation >= id.generation {
            guard pending.generation == id.generation, pending.offsets.last.map({ id.offset > $0 }) ?? true else { return id }
            partitions[id.partition]!.offsets.append(id.offset)
        } else {
            partitions[id.partition] = Pending(generation: id.generation, offsets: [id.offset])
        }
        return id
    }

    /// Marks records done. Returns, per partition whose safe point moved, the last record that
    /// is done along with everything before it (store the offset after it), ordered by partition.
    /// Records of an older generation than their partition's, and records not pending, are
    /// ignored.
    public mutating func finish(_ records: some Sequence<KafkaRecordID>) -> [KafkaRecordID] {
        var touched: Set<KafkaTopicPartition> = []
        for record in records {
            guard let pending = partitions[record.partition], pending.generation == record.generation, pending.isPending(record.offset)
            else { continue }
            partitions[record.partition]!.done.insert(record.offset)
            touched.insert(record.partition)
        }
        var safe: [KafkaRecordID] = []
        for partition in touched.sorted() {
            var pending = partitions[partition]!
            var last: Int64?
            while pending.head < pending.offsets.count, pending.done.remove(pending.offsets[pending.head]) != nil {
                last = pending.offsets[pending.head]
                pending.head += 1
            }
            if pending.head > 1_024, pending.head * 2 > pending.offsets.count {
                pending.offsets.removeFirst(pending.head)
                pending.head = 0
            }
            partitions[partition] = pending
            if let last { safe.append(KafkaRecordID(partition: partition, offset: last, generation: pending.generation)) }
        }
        return safe
    }

    /// Stops tracking partitions (revoked): what was pending of them is read again by their next
    /// owner, and finishing it later is ignored.
    public mutating func forget(_ revoked: some Sequence<KafkaTopicPartition>) {
        for partition in revoked { partitions[partition] = nil }
    }

    /// How many records of a partition's current generation are tracked and not yet done.
    public func pendingCount(of partition: KafkaTopicPartition) -> Int {
        partitions[partition].map { $0.offsets.count - $0.head - $0.done.count } ?? 0
    }

    /// How many records of the partitions' current generations are tracked and not yet done.
    public var pendingCount: Int {
        partitions.values.reduce(0) { $0 + $1.offsets.count - $1.head - $1.done.count }
    }
}
