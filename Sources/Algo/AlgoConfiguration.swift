import Pipeline
import Settings

/// How the algorithm slices batches. Every value has a default; `fromEnvironment` reads
/// `ALGO_SLICES`, `ALGO_MIN_SLICE_QUANTITY` and `ORDERTRACE_TOPIC_PREFIX`.
public struct AlgoConfiguration: Sendable, Hashable {
    public var topics = PipelineTopics()
    public var slicing = SlicingPolicy()

    public init() {}

    /// Reads `ALGO_SLICES` (at most 1,000 are used), `ALGO_MIN_SLICE_QUANTITY` and
    /// `ORDERTRACE_TOPIC_PREFIX` over the defaults.
    /// - Throws: `ConfigurationError` naming a value that is not a positive whole number.
    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> AlgoConfiguration {
        let reader = EnvironmentReader(environment)
        var configuration = AlgoConfiguration()
        configuration.topics = .fromEnvironment(environment)
        if let value = try reader.positiveInteger("ALGO_SLICES") { configuration.slicing.slices = min(value, 1_000) }
        if let value = try reader.positiveInteger("ALGO_MIN_SLICE_QUANTITY", as: Int64.self) {
            configuration.slicing.minSliceQuantity = value
        }
        return configuration
    }
}
