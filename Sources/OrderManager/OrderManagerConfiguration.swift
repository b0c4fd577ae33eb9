import Pipeline
import Settings

/// How the order manager pools orders. Every value has a default; `fromEnvironment` reads
/// `BATCH_MAX_ORDERS`, `BATCH_MAX_QUANTITY`, `BATCH_LINGER_MS` and `ORDERTRACE_TOPIC_PREFIX`.
public struct OrderManagerConfiguration: Sendable, Hashable {
    public var topics = PipelineTopics()
    public var limits = BatchLimits()
    /// Starts every batch id; unique per process by default (the start time and a random part),
    /// so ids never repeat across restarts, nor across replicas started in the same millisecond.
    public var batchIDPrefix = "b\(String(WallClock.nowMilliseconds(), radix: 36))\(String(UInt32.random(in: 0..<(36 * 36 * 36 * 36)), radix: 36))"
    /// How many (userId, clientOrderId) keys are remembered to refuse duplicates.
    public var duplicateMemory = 1_000_000
    /// How long a revoke (or the close at shutdown) may wait for the open batches holding orders
    /// of the revoked partitions to be delivered before their offsets are committed anyway.
    public var revokeTimeout: Duration = .seconds(60)
    /// How far before the first record read again of a partition the batches topic is read to
    /// learn which of its records are already batched: covers the clocks of the producers of
    /// client orders running behind this process's clock.
    public var memoryMargin: Duration = .seconds(300)
    /// How often open batches are checked for a closed window.
    public var tick: Duration = .milliseconds(5)

    public init() {}

    /// - Throws: `ConfigurationError` naming a value that is not a positive whole number.
    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> OrderManagerConfiguration {
        let reader = EnvironmentReader(environment)
        var configuration = OrderManagerConfiguration()
        configuration.topics = .fromEnvironment(environment)
        if let value = try reader.positiveInteger("BATCH_MAX_ORDERS") { configuration.limits.maxOrders = value }
        if let value = try reader.positiveInteger("BATCH_MAX_QUANTITY", as: Int64.self) { configuration.limits.maxQuantity = value }
        if let value = try reader.milliseconds("BATCH_LINGER_MS") { configuration.limits.linger = value }
        return configuration
    }
}
