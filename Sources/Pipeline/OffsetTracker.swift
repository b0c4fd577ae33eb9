import Kafka

/// Which consumed records are done, per partition, so that offsets are stored only up to the
/// first record that is not: a record that waits in an open batch must be read again after a
/// crash, not skipped. Records of one partition are added in offset order and may finish in any
/// order.
public struct OffsetTracker: Sendable {
    private struct Pending: Sendable {
        var offsets: [Int64] = []
        var done: Set<Int64> = []
        var head = 0
    }

    private var partitions: [KafkaTopicPartition: Pending] = [:]

    public init() {}

    /// Starts tracking a record.
    public mutating func add(_ message: KafkaMessage) {
        partitions[KafkaTopicPartition(topic: message.topic, partition: message.partition), default: Pending()].offsets.append(message.offset)
    }

    /// Marks records done. Returns, per partition whose safe point moved, the last record that
    /// is done along with everything before it: store its offset.
    public mutating func finish(_ records: some Sequence<(KafkaTopicPartition, Int64)>) -> [KafkaTopicPartition: Int64] {
        var touched: Set<KafkaTopicPartition> = []
        for (partition, offset) in records {
            guard partitions[partition] != nil else { continue }
            partitions[partition]!.done.insert(offset)
            touched.insert(partition)
        }
        var safe: [KafkaTopicPartition: Int64] = [:]
        for partition in touched {
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
            if let last { safe[partition] = last }
        }
        return safe
    }

    /// How many records are tracked and not yet done.
    public var pendingCount: Int {
        partitions.values.reduce(0) { $0 + $1.offsets.count - $1.head }
    }
}
