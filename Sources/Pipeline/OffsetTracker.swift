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
    /// A partition's records of one generation, in offset order, each done or not. Records before
    /// `head` are done and stored; `done` runs alongside `offsets` (no set: a record is found by
    /// its offset's position).
    private struct Pending: Sendable {
        var generation: UInt64
        var offsets: [Int64] = []
        var done: [Bool] = []
        var head = 0
        /// Records at or after `head` that are done.
        var doneAhead = 0
        /// Where the next record to finish probably is: after the last one finished.
        var hint = 0

        init(generation: UInt64) {
            self.generation = generation
        }

        var pendingCount: Int { offsets.count - head - doneAhead }

        mutating func append(_ offset: Int64) {
            offsets.append(offset)
            done.append(false)
        }

        /// Marks `offset` done; false when it is not tracked or done already.
        mutating func markDone(_ offset: Int64) -> Bool {
            // Records finished in offset order (the usual case) are found at once.
            var low = max(hint, head)
            if !(low < offsets.count && offsets[low] == offset) {
                low = head
                var high = offsets.count
                while low < high {
                    let middle = (low + high) / 2
                    if offsets[middle] < offset { low = middle + 1 } else { high = middle }
                }
            }
            guard low < offsets.count, offsets[low] == offset, !done[low] else { return false }
            done[low] = true
            doneAhead += 1
            hint = low + 1
            return true
        }

        /// Moves `head` past the records done; returns the last one it passed.
        mutating func advance() -> Int64? {
            var last: Int64?
            while head < offsets.count, done[head] {
                last = offsets[head]
                head += 1
                doneAhead -= 1
            }
            if head > 1_024, head * 2 > offsets.count {
                offsets.removeFirst(head)
                done.removeFirst(head)
                hint = max(0, hint - head)
                head = 0
            }
            return last
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
        add(id, to: &partitions[id.partition])
        return id
    }

    /// Starts tracking records, as `add(_:)` one at a time does; the partition of a run of records
    /// is looked up once.
    public mutating func add(contentsOf messages: [KafkaMessage]) -> [KafkaRecordID] {
        var ids: [KafkaRecordID] = []
        ids.reserveCapacity(messages.count)
        var index = messages.startIndex
        while index < messages.endIndex {
            let partition = KafkaTopicPartition(topic: messages[index].topic, partition: messages[index].partition)
            var pending = partitions.removeValue(forKey: partition)
            while index < messages.endIndex, messages[index].partition == partition.partition, messages[index].topic == partition.topic {
                let id = KafkaRecordID(partition: partition, offset: messages[index].offset, generation: messages[index].assignmentGeneration)
                add(id, to: &pending)
                ids.append(id)
                index += 1
            }
            partitions[partition] = pending
        }
        return ids
    }

    private func add(_ id: KafkaRecordID, to pending: inout Pending?) {
        if pending != nil, pending!.generation >= id.generation {
            guard pending!.generation == id.generation, pending!.offsets.last.map({ id.offset > $0 }) ?? true else { return }
            pending!.append(id.offset)
        } else {
            var fresh = Pending(generation: id.generation)
            fresh.append(id.offset)
            pending = fresh
        }
    }

    /// Marks records done. Returns, per partition whose safe point moved, the last record that
    /// is done along with everything before it (store the offset after it), ordered by partition.
    /// Records of an older generation than their partition's, and records not pending, are
    /// ignored. The partition of a run of records is looked up once.
    public mutating func finish(_ records: some Sequence<KafkaRecordID>) -> [KafkaRecordID] {
        var touched: [KafkaTopicPartition] = []
        var current: (partition: KafkaTopicPartition, pending: Pending?)?
        for record in records {
            if current?.partition != record.partition {
                if let (partition, pending) = current { partitions[partition] = pending }
                current = (record.partition, partitions.removeValue(forKey: record.partition))
            }
            guard current!.pending?.generation == record.generation, current!.pending!.markDone(record.offset) else { continue }
            if touched.last != record.partition { touched.append(record.partition) }
        }
        if let (partition, pending) = current { partitions[partition] = pending }
        var safe: [KafkaRecordID] = []
        for partition in Set(touched).sorted() {
            guard let last = partitions[partition]!.advance() else { continue }
            safe.append(KafkaRecordID(partition: partition, offset: last, generation: partitions[partition]!.generation))
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
        partitions[partition]?.pendingCount ?? 0
    }

    /// How many records of the partitions' current generations are tracked and not yet done.
    public var pendingCount: Int {
        partitions.values.reduce(0) { $0 + $1.pendingCount }
    }
}
