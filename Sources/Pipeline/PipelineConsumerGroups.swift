/// The consumer groups of the pipeline's components, and the topics each reads. `ordertrace lag`
/// covers them when the cluster cannot list its groups (the embedded broker).
public enum PipelineConsumerGroups {
    public static let orderManager = "order-manager"
    public static let algo = "algo"
    public static let exchangeGateway = "exchange-gateway"
    public static let allocator = "allocator"
    /// Every gateway instance reads `order-updates` in a group of its own, this prefix and a
    /// random suffix: such groups can be found only by listing them.
    public static let gatewayPrefix = "gateway-"

    /// The components' fixed groups with the topics each consumes.
    public static func all(_ topics: PipelineTopics = PipelineTopics()) -> [(group: String, topics: [String])] {
        [
            (orderManager, [topics.clientOrders]),
            (algo, [topics.batches]),
            (exchangeGateway, [topics.exchangeOrders]),
            (allocator, [topics.batches, topics.fills]),
        ]
    }
}
