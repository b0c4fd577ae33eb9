import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A Kafka broker inside this process, in one of two engines (`EmbeddedBrokerEngine`):
///
/// - `.native` (the default): a single broker of our own that speaks the Kafka protocol on a
///   socket (`NativeBrokerServer`): produce, fetch (held until records arrive), offsets, consumer
///   groups and idempotent producers. It finds a fetch offset by binary search and answers with
///   every batch that fits.
/// - `.mock`: librdkafka's mock cluster, for tests that need several brokers or injected faults
///   (brokers down, request errors, leader moves, latency), which only it can show.
///
/// For development and tests, not production: both keep everything in memory (older records are
/// deleted past a size per partition), implement a subset of the protocol (no transactions on the
/// native engine; no CreateTopics, ListGroups or DescribeGroups on the mock), and are gone when the
/// process ends. Topics are created from their definitions when it starts.
public final class EmbeddedBroker: Service, Sendable {
    /// The engine that runs, with what it needs.
    private enum Running: Sendable {
        case native(NativeBrokerServer)
        case mock(MockCluster)
    }

    private let running: Running
    private let stopped = Mutex(false)
    /// The brokers' own addresses, comma-separated (the mock's have random ports).
    public let directBootstrapServers: String
    /// The address clients should bootstrap from: the fixed address when there is one.
    public let bootstrapServers: String
    public let configuration: EmbeddedBrokerConfiguration

    /// Starts the broker, creates the topics and binds the bootstrap address.
    /// - Throws: `KafkaError.broker` when the broker cannot start, a topic cannot be created, or
    ///   the address is taken; `.configuration` for several brokers on the native engine.
    public static func start(_ configuration: EmbeddedBrokerConfiguration = .init(), logger: Logger = Logger(label: "ordertrace.broker")) async throws -> EmbeddedBroker {
        guard configuration.brokerCount >= 1 else {
            throw KafkaError(code: .broker, message: "the embedded broker needs at least 1 broker, not \(configuration.brokerCount)")
        }
        let host = configuration.host == "::1" ? "[::1]" : configuration.host
        switch configuration.engine {
        case .native:
            guard configuration.brokerCount == 1 else {
                throw KafkaError(code: .configuration, message: "the native embedded broker is a single broker; \(configuration.brokerCount) brokers need the mock engine (--engine mock)")
            }
            let server = try await NativeBrokerServer.start(
                host: configuration.host, port: configuration.port ?? 0, topics: configuration.topics,
                retainedBytesPerPartition: configuration.retainedBytesPerPartition, logger: logger)
            let address = "\(host):\(server.port)"
            return EmbeddedBroker(.native(server), direct: address, bootstrap: address, configuration: configuration)
        case .mock:
            let mock = try await MockCluster.start(configuration, logger: logger)
            let bootstrap = mock.forwarder.map { "\(host):\($0.port)" } ?? mock.direct
            return EmbeddedBroker(.mock(mock), direct: mock.direct, bootstrap: bootstrap, configuration: configuration)
        }
    }

    private init(_ running: Running, direct: String, bootstrap: String, configuration: EmbeddedBrokerConfiguration) {
        self.running = running
        self.directBootstrapServers = direct
        self.bootstrapServers = bootstrap
        self.configuration = configuration
    }

    /// The mock cluster, for what only it can do.
    private func faultable() throws -> MockCluster {
        guard case .mock(let mock) = running else {
            throw KafkaError(code: .configuration, message: "faults are shown by the mock engine only (EmbeddedBrokerConfiguration.engine = .mock, or --engine mock)")
        }
        return mock
    }

    /// Creates a topic (for tests and tools; the configured ones exist already).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        switch running {
        case .native(let server): try server.createTopic(name, partitions: partitions)
        case .mock(let mock): try mock.owner.mockCreateTopic(mock.cluster, name: name, partitions: partitions, replicationFactor: replicationFactor)
        }
    }

    /// Takes a broker down (its connections close, it refuses new ones) or brings it back.
    /// - Throws: on the native engine, which cannot.
    public func setBroker(_ id: Int32, up: Bool) throws {
        let mock = try faultable()
        mock.owner.mockSetBroker(mock.cluster, id: id, up: up)
    }

    /// Makes the next `count` produce requests fail with a broker error number (e.g. 10,
    /// MESSAGE_TOO_LARGE), to test how failures reach senders.
    public func failNextProduceRequests(_ count: Int, brokerErrorCode: Int32) throws {
        let mock = try faultable()
        mock.owner.mockFailProduceRequests(mock.cluster, count: count, errorCode: brokerErrorCode)
    }

    /// Makes the next `count` requests with protocol ApiKey `apiKey` fail with `errorCode`.
    public func failNextRequests(apiKey: Int16, count: Int, errorCode: Int32) throws {
        let mock = try faultable()
        mock.owner.mockFailRequests(mock.cluster, apiKey: apiKey, count: count, errorCode: errorCode)
    }

    /// Moves a partition's leader to another broker.
    public func setLeader(topic: String, partition: Int32, broker: Int32) throws {
        let mock = try faultable()
        try mock.owner.mockSetLeader(mock.cluster, topic: topic, partition: partition, broker: broker)
    }

    /// Delays every answer of a broker by `milliseconds` (0 ends it).
    public func setLatency(broker: Int32, milliseconds: Int) throws {
        let mock = try faultable()
        try mock.owner.mockSetRTT(mock.cluster, broker: broker, milliseconds: milliseconds)
    }

    /// Closes the bootstrap address and stops the broker; its records are gone.
    public func stop() async {
        let wasStopped = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        if wasStopped { return }
        switch running {
        case .native(let server): await server.stop()
        case .mock(let mock): await mock.stop()
        }
    }

    /// Runs until graceful shutdown or cancellation, then stops.
    public func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }
}

/// librdkafka's mock cluster, and the forwarder that gives it a fixed address.
private final class MockCluster: Sendable {
    let owner: RDKafkaClient
    nonisolated(unsafe) let cluster: OpaquePointer
    let forwarder: TCPForwarder?
    /// Turns Nagle's algorithm off on the cluster's connections (see `NoDelaySweeper`).
    let noDelay = NoDelaySweeper()
    let direct: String
    private let stopped = Mutex(false)

    static func start(_ configuration: EmbeddedBrokerConfiguration, logger: Logger) async throws -> MockCluster {
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
            return MockCluster(owner: owner, cluster: cluster, forwarder: forwarder, direct: direct)
        } catch {
            owner.destroyMockCluster(cluster)
            throw error
        }
    }

    private init(owner: RDKafkaClient, cluster: OpaquePointer, forwarder: TCPForwarder?, direct: String) {
        self.owner = owner
        self.cluster = cluster
        self.forwarder = forwarder
        self.direct = direct
    }

    deinit {
        if !stopped.withLock({ $0 }) { owner.destroyMockCluster(cluster) }
    }

    func stop() async {
        let wasStopped = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        if wasStopped { return }
        await forwarder?.stop()
        await noDelay.stop()
        owner.destroyMockCluster(cluster)
    }
}
