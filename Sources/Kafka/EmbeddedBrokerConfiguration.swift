/// The size of an embedded cluster, its bootstrap address and the topics it starts with.
public struct EmbeddedBrokerConfiguration: Sendable {
    /// Brokers in the cluster.
    public var brokerCount = 1
    /// The fixed bootstrap address clients use; port 0 picks a free port, `nil` skips the
    /// forwarder (clients then use `directBootstrapServers`).
    public var host = "127.0.0.1"
    public var port: Int? = 9092
    public var topics: [KafkaTopicDefinition] = []

    public init(brokerCount: Int = 1, host: String = "127.0.0.1", port: Int? = 9092, topics: [KafkaTopicDefinition] = []) {
        self.brokerCount = brokerCount
        self.host = host
        self.port = port
        self.topics = topics
    }
}
