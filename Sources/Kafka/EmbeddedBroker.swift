import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A Kafka cluster inside this process: librdkafka's mock cluster, reachable at a fixed address.
///
/// For development and tests, not production: it keeps everything in memory (about 5 MB per
/// partition, older records are deleted), implements a subset of the protocol (no CreateTopics,
/// ListGroups or DescribeGroups), and is gone when the process ends. Topics are created from
/// their definitions when it starts, since clients cannot create them over the protocol.
public final class EmbeddedBroker: Service, Sendable {
    private let owner: RDKafkaClient
    private nonisolated(unsafe) let cluster: OpaquePointer
    private let forwarder: TCPForwarder?
    /// Turns Nagle's algorithm off on the cluster's connections (see `NoDelaySweeper`).
    private let noDelay = NoDelaySweeper()
    private let logger: Logger
    private let stopped = Mutex(false)
    /// The brokers' own addresses (random ports), comma-separated.
    public let directBootstrapServers: String
    /// The address clients should bootstrap from: the fixed forwarder address when there is one.
    public let bootstrapServers: String
    public let configuration: EmbeddedBrokerConfiguration

    /// Starts the cluster, creates the topics and binds the bootstrap address.
    /// - Throws: `KafkaError.broker` when the cluster cannot start, a topic cannot be created, or
    ///   the address is taken.
    public static func start(_ configuration: EmbeddedBrokerConfiguration = .init(), logger: Logger = Logger(label: "ordertrace.broker")) async throws -> EmbeddedBroker {
        guard configuration.brokerCount >= 1 else {
            throw KafkaError(code: .broker, message: "the embedded broker needs at least 1 broker, not \(configuration.brokerCount)")
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let owner = try RDKafkaClient(kind: .producer, properties: ["log.connection.close": "false"], callbacks: .init(logger: quiet))
        let cluster = try owner.makeMockCluster(brokers: configuration.brokerCount)
        let direct = owner.mockBootstraps(cluster)
        do {
            for topic in configuration.topics {
                try owner.mockCreateTopic(
                    cluster, name: topic.name, partitions: topic.partitions,
                    replicationFactor: min(topic.replicationFactor, configuration.brokerCount))
            }
            var forwarder: TCPForwarder?
            if let port = configuration.port {
                let first = String(direct.split(separator: ",")[0])
                let target = try SocketAddress.makeAddressResolvingHost(
                    String(first.split(separator: ":").dropLast().joined(separator: ":")),
                    port: Int(first.split(separator: ":").last!)!)
                forwarder = try await TCPForwarder.start(host: configuration.host, port: port, target: target, logger: logger)
            }
            return EmbeddedBroker(owner: owner, cluster: cluster, forwarder: forwarder, direct: direct, configuration: configuration, logger: logger)
        } catch {
            owner.destroyMockCluster(cluster)
            throw error
        }
    }

    private init(owner: RDKafkaClient, cluster: OpaquePointer, forwarder: TCPForwarder?, direct: String, configuration: EmbeddedBrokerConfiguration, logger: Logger) {
        self.owner = owner
        self.cluster = cluster
        self.forwarder = forwarder
        self.directBootstrapServers = direct
        self.bootstrapServers = forwarder.map { "\(configuration.host == "::1" ? "[::1]" : configuration.host):\($0.port)" } ?? direct
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        if !stopped.withLock({ $0 }) { owner.destroyMockCluster(cluster) }
    }

    /// Creates a topic (for tests and tools; the configured ones exist already).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        try owner.mockCreateTopic(cluster, name: name, partitions: partitions, replicationFactor: replicationFactor)
    }

    /// Takes a broker down (its connections close, it refuses new ones) or brings it back.
    public func setBroker(_ id: Int32, up: Bool) {
        owner.mockSetBroker(cluster, id: id, up: up)
    }

    /// Makes the next `count` produce requests fail with a broker error number (e.g. 10,
    /// MESSAGE_TOO_LARGE), to test how failures reach senders.
    public func failNextProduceRequests(_ count: Int, brokerErrorCode: Int32) {
        owner.mockFailProduceRequests(cluster, count: count, errorCode: brokerErrorCode)
    }

    /// Makes the next `count` requests with protocol ApiKey `apiKey` fail with `errorCode`.
    public func failNextRequests(apiKey: Int16, count: Int, errorCode: Int32) {
        owner.mockFailRequests(cluster, apiKey: apiKey, count: count, errorCode: errorCode)
    }

    /// Moves a partition's leader to another broker.
    public func setLeader(topic: String, partition: Int32, broker: Int32) throws {
        try owner.mockSetLeader(cluster, topic: topic, partition: partition, broker: broker)
    }

    /// Delays every answer of a broker by `milliseconds` (0 ends it).
    public func setLatency(broker: Int32, milliseconds: Int) throws {
        try owner.mockSetRTT(cluster, broker: broker, milliseconds: milliseconds)
    }

    /// Closes the bootstrap address and destroys the cluster.
    public func stop() async {
        let wasStopped = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        if wasStopped { return }
        await forwarder?.stop()
        await noDelay.stop()
        owner.destroyMockCluster(cluster)
    }

    /// Runs until graceful shutdown or cancellation, then stops.
    public func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }
}
