import Logging
import Synchronization

/// Cluster metadata and topic creation. Its blocking librdkafka calls run on their own thread.
public final class KafkaAdmin: Sendable {
    let client: RDKafkaClient
    /// The properties of `client`, for the handles that group look-ups need (see `KafkaAdmin+Groups`).
    let properties: [String: String]
    let logger: Logger
    /// A consumer without a group that reads single records (record timestamps), made on first use.
    /// Its lock also keeps two reads from sharing it at once.
    let recordReader = Mutex<RDKafkaClient?>(nil)
    /// The timestamps of the records the last lag reading needed (per partition, by offset): a
    /// record's timestamp never changes, so the next reading reads only those of groups that moved.
    let recordTimes = Mutex<[KafkaTopicPartition: [Int64: Int64]]>([:])
    /// Whether the cluster supports the group admin requests (ListGroups, DescribeGroups); `nil`
    /// until a listing told. librdkafka 2.0.2 can crash on a DescribeConsumerGroups the broker
    /// does not support, so describing waits for a listing to say it is supported.
    let supportsGroupRequests = Mutex<Bool?>(nil)

    /// - Throws: `KafkaError.configuration` naming a property librdkafka rejects.
    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "ordertrace.kafka.admin")) throws {
        var properties = ["bootstrap.servers": configuration.brokers.joined(separator: ","), "client.id": configuration.clientID]
        properties.merge(configuration.properties) { $1 }
        client = try RDKafkaClient(kind: .producer, properties: properties, callbacks: .init(logger: logger))
        self.properties = properties
        self.logger = logger
    }

    /// Every topic of the cluster with its partition count, sorted by name.
    public func topics(timeout: Duration = .seconds(10)) async throws -> [KafkaTopicMetadata] {
        let client = self.client
        return try await offThePool { try client.topicMetadata(timeoutMilliseconds: Int32(clamping: timeout.milliseconds)) }
    }

    /// The oldest and the next offset of a partition (low and high watermarks).
    public func watermarks(topic: String, partition: Int32, timeout: Duration = .seconds(10)) async throws -> (low: Int64, high: Int64) {
        let client = self.client
        let topicPartition = KafkaTopicPartition(topic: topic, partition: partition)
        return try await offThePool {
            guard let marks = client.watermarks(topicPartition, timeoutMilliseconds: Int32(clamping: timeout.milliseconds)) else {
                throw KafkaError(code: .admin, message: "cannot read the watermarks of \(topicPartition)", isRetriable: true)
            }
            return marks
        }
    }

    /// Creates topics; returns the error of each topic that could not be created.
    public func createTopics(_ definitions: [KafkaTopicDefinition], timeout: Duration = .seconds(10)) async throws -> [String: KafkaError] {
        let client = self.client
        return try await offThePool { try client.createTopics(definitions, timeoutMilliseconds: Int32(clamping: timeout.milliseconds)) }
    }

    /// What `apply` did with one topic.
    public enum ApplyOutcome: Sendable, Hashable, CustomStringConvertible {
        case created
        case unchanged
        /// The topic exists with another partition count (Kafka cannot shrink it; growing it
        /// would move keys between partitions, so this is left to a person).
        case mismatch(defined: Int, actual: Int)
        case failed(String)

        public var isProblem: Bool {
            switch self {
            case .created, .unchanged: false
            case .mismatch, .failed: true
            }
        }

        public var description: String {
            switch self {
            case .created: "created"
            case .unchanged: "exists, up to date"
            case .mismatch(let defined, let actual): "MISMATCH: defined with \(defined) partitions, the cluster has \(actual)"
            case .failed(let reason): "FAILED: \(reason)"
            }
        }
    }

    /// Creates the topics that are missing and reports those that differ. Running it twice
    /// changes nothing the second time.
    public func apply(_ definitions: [KafkaTopicDefinition], timeout: Duration = .seconds(10)) async throws -> [(String, ApplyOutcome)] {
        let existing = Dictionary(try await topics(timeout: timeout).map { ($0.name, $0.partitionCount) }, uniquingKeysWith: { $1 })
        let missing = definitions.filter { existing[$0.name] == nil }
        let failures = try await createTopics(missing, timeout: timeout)
        return definitions.map { definition in
            if let actual = existing[definition.name] {
                return (definition.name, actual == definition.partitions ? .unchanged : .mismatch(defined: definition.partitions, actual: actual))
            }
            if let failure = failures[definition.name], failure.brokerCode != RDKafkaClient.topicAlreadyExistsCode {
                return (definition.name, .failed(failure.message))
            }
            return (definition.name, .created)
        }
    }
}

/// Runs a blocking call on a dedicated thread and waits for it without blocking the pool.
/// A cancelled task stops waiting at once (`CancellationError`): the call runs to its own timeout
/// on its thread, and its result is dropped, so a call to a broker that is gone never holds up a
/// shutdown.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let result = Mutex<Result<T, Error>?>(nil)
    let thread = BlockingThread(name: "kafka-blocking-call") {
        let outcome = Result { try body() }
        result.withLock { $0 = outcome }
    }
    try await thread.joinUnlessCancelled()
    return try result.withLock { $0! }.get()
}
