/// A record read from Kafka.
public struct KafkaMessage: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the epoch, as the producer or broker set it; `nil` when unavailable.
    public var timestampMilliseconds: Int64?
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: KafkaHeaders
    /// Which assignment of its partition to this consumer the record was read under: it grows
    /// each time the partition is assigned again, so a record read again after a revoke and a
    /// reassignment is told apart from its first copy (see `KafkaRecordID`).
    public var assignmentGeneration: UInt64

    public init(
        topic: String, partition: Int32, offset: Int64, timestampMilliseconds: Int64? = nil,
        key: [UInt8]?, value: [UInt8], headers: KafkaHeaders = KafkaHeaders(), assignmentGeneration: UInt64 = 0
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMilliseconds = timestampMilliseconds
        self.key = key
        self.value = value
        self.headers = headers
        self.assignmentGeneration = assignmentGeneration
    }

    /// The key decoded as UTF-8 (every key in this project is a UTF-8 string).
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
}

/// One read of a record: its partition, its offset, and the assignment generation it was read
/// under. Two reads of the same offset in different assignments are different work: what the
/// first one left unfinished must not move the offset the second one stores.
public struct KafkaRecordID: Sendable, Hashable {
    public var partition: KafkaTopicPartition
    public var offset: Int64
    public var generation: UInt64

    public init(partition: KafkaTopicPartition, offset: Int64, generation: UInt64) {
        self.partition = partition
        self.offset = offset
        self.generation = generation
    }

    public init(_ message: KafkaMessage) {
        self.init(partition: KafkaTopicPartition(topic: message.topic, partition: message.partition), offset: message.offset, generation: message.assignmentGeneration)
    }

    /// The partition's number, the offset and the generation, not the topic's name: records held
    /// in a set are nearly all of one or two topics, and hashing the name was most of the cost
    /// (ids equal but for the topic are told apart by `==`).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(partition.partition)
        hasher.combine(offset)
        hasher.combine(generation)
    }
}

/// A record to send to Kafka.
public struct KafkaProducerRecord: Sendable, Hashable {
    public var topic: String
    /// The partition, or `nil` to let the partitioner pick one from the key.
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: KafkaHeaders
    /// The record's create time in milliseconds since the epoch, or `nil` for the time it is sent.
    public var timestampMilliseconds: Int64? = nil
    /// Sends no value at all (a null value, not an empty one): on a compacted topic, a tombstone
    /// that deletes its key. `value` is ignored. A consumer reads it as an empty value.
    public var isTombstone = false

    public init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8], headers: KafkaHeaders = KafkaHeaders()) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }

    public init(topic: String, partition: Int32? = nil, key: String?, value: [UInt8], headers: KafkaHeaders = KafkaHeaders()) {
        self.init(topic: topic, partition: partition, key: key.map { Array($0.utf8) }, value: value, headers: headers)
    }
}

/// Where a record was stored.
public struct KafkaDeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    /// The offset the broker assigned; `nil` when the broker did not tell (idempotent retries).
    public var offset: Int64?
}

/// A topic partition.
public struct KafkaTopicPartition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
    public var description: String { "\(topic)[\(partition)]" }
}
