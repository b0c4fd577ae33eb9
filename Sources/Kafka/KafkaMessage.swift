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

    public init(
        topic: String, partition: Int32, offset: Int64, timestampMilliseconds: Int64? = nil,
        key: [UInt8]?, value: [UInt8], headers: KafkaHeaders = KafkaHeaders()
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMilliseconds = timestampMilliseconds
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// The key decoded as UTF-8 (every key in this project is a UTF-8 string).
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
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
