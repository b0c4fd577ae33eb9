/// Which implementation an embedded broker runs (see `EmbeddedBroker`).
public enum EmbeddedBrokerEngine: String, Sendable, CaseIterable {
    /// A single broker of our own: fast fetches, fetches held until records arrive.
    case native
    /// librdkafka's mock cluster: several brokers and injected faults.
    case mock
}

/// The size of an embedded cluster, its bootstrap address and the topics it starts with.
public struct EmbeddedBrokerConfiguration: Sendable {
    /// Brokers in the cluster (more than one needs the mock engine).
    public var brokerCount = 1
    /// The fixed bootstrap address clients use; port 0 picks a free port, `nil` skips the
    /// mock's forwarder (clients then use `directBootstrapServers`; the native broker picks a port).
    public var host = "127.0.0.1"
    public var port: Int? = 9092
    public var topics: [KafkaTopicDefinition] = []
    public var engine: EmbeddedBrokerEngine = .native
    /// What the native broker keeps of a partition before it deletes its oldest batches (the
    /// mock keeps about 5 MB, fixed).
    public var retainedBytesPerPartition = 8 * 1024 * 1024

    public init(brokerCount: Int = 1, host: String = "127.0.0.1", port: Int? = 9092, topics: [KafkaTopicDefinition] = [], engine: EmbeddedBrokerEngine = .native) {
        self.brokerCount = brokerCount
        self.host = host
        self.port = port
        self.topics = topics
        self.engine = engine
    }

    /// Bytes a partition keeps before the oldest are deleted, whichever the engine.
    public var retainedBytes: Int {
        engine == .native ? retainedBytesPerPartition : 5 * 1024 * 1024
    }
}
