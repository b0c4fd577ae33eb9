/// The topic names of the pipeline (see `topics/`). They are a contract with outside tools; the
/// only reason to change one is to run two pipelines side by side on one cluster.
public struct PipelineTopics: Sendable, Hashable {
    public var clientOrders = "client-orders"
    public var batches = "batches"
    public var exchangeOrders = "exchange-orders"
    public var fills = "fills"
    public var orderUpdates = "order-updates"
    public var deadLetters = "dead-letters"
    /// The allocator's own compacted changelog (internal: not in `all`, not a contract).
    public var allocatorChangelog = "allocator-changelog"

    public init() {}

    /// The default names, each with `prefix` in front (`""` gives the contract's names).
    public init(prefix: String) {
        clientOrders = prefix + clientOrders
        batches = prefix + batches
        exchangeOrders = prefix + exchangeOrders
        fills = prefix + fills
        orderUpdates = prefix + orderUpdates
        deadLetters = prefix + deadLetters
        allocatorChangelog = prefix + allocatorChangelog
    }

    /// Reads `ORDERTRACE_TOPIC_PREFIX` (default none).
    public static func fromEnvironment(_ environment: [String: String]) -> PipelineTopics {
        PipelineTopics(prefix: environment["ORDERTRACE_TOPIC_PREFIX"] ?? "")
    }

    public var all: [String] { [clientOrders, batches, exchangeOrders, fills, orderUpdates, deadLetters] }
}
