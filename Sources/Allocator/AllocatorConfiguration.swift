import Foundation
import Pipeline
import Settings

/// Where the allocator keeps its state and how long it remembers. Every value has a default;
/// `fromEnvironment` reads `ALLOCATOR_DB`, `ORDERTRACE_DATA_DIR`, `ALLOCATOR_CHANGELOG`,
/// `ALLOCATOR_MAX_STEP_UPDATES` and `ORDERTRACE_TOPIC_PREFIX`.
public struct AllocatorConfiguration: Sendable, Hashable {
    public var topics = PipelineTopics()
    /// Where the state is kept: one SQLite file per partition, named after this path
    /// (`allocator.sqlite` → `allocator.p3.sqlite`), in a folder every replica reaches.
    public var databasePath = ".ordertrace/allocator.sqlite"

    /// The file of one partition's state.
    public func databasePath(partition: Int32) -> String {
        let path = databasePath as NSString
        let ext = path.pathExtension
        let base = ext.isEmpty ? databasePath : path.deletingPathExtension
        return "\(base).p\(partition)" + (ext.isEmpty ? "" : ".\(ext)")
    }
    /// Whether the state's changes are written to a compacted topic (`topics.allocatorChangelog`),
    /// so that a replica on another machine (or with another folder) rebuilds a partition's state
    /// when it gets the partition. Without it, every replica must reach the same folder. The
    /// topic is created when missing, with as many partitions as the fills topic.
    public var changelog = true

    /// The changelog topic, when there is one.
    public var changelogTopic: String? { changelog ? topics.allocatorChangelog : nil }
    /// How long the id of a finished batch is kept to recognize late duplicates.
    public var doneRetention: Duration = .seconds(7 * 24 * 3_600)
    /// How long a fill waits for its batch before it goes to dead-letters.
    public var pendingTimeout: Duration = .seconds(600)
    /// How often stale pending fills are dead-lettered and finished batches past `doneRetention`
    /// are forgotten (whether records arrive or not).
    public var housekeepingInterval: Duration = .seconds(10)
    /// The most updates one step makes before it is sent and committed; the records read and not
    /// yet handled go into the next steps. A step holds every update it makes (its record, send
    /// span and delivery) until the last is delivered, and one fill makes an update for each
    /// member of its batch: without a bound, a read of 1,000 fills of 100-order batches held
    /// 100,000 updates, about 400 MB.
    public var maxStepUpdates = 20_000

    public init() {}

    /// Reads `ALLOCATOR_DB` (default `$ORDERTRACE_DATA_DIR/allocator.sqlite`, data dir
    /// default `.ordertrace`), `ALLOCATOR_CHANGELOG` (`on`, the default, or `off`),
    /// `ALLOCATOR_MAX_STEP_UPDATES` (a positive integer) and `ORDERTRACE_TOPIC_PREFIX`.
    public static func fromEnvironment(_ environment: [String: String]) throws -> AllocatorConfiguration {
        let reader = EnvironmentReader(environment)
        var configuration = AllocatorConfiguration()
        configuration.topics = .fromEnvironment(environment)
        let directory = reader.string("ORDERTRACE_DATA_DIR") ?? ".ordertrace"
        configuration.databasePath = reader.string("ALLOCATOR_DB") ?? "\(directory)/allocator.sqlite"
        configuration.changelog = !["off", "false", "no", "0"].contains(reader.string("ALLOCATOR_CHANGELOG")?.lowercased() ?? "on")
        if let value = try reader.positiveInteger("ALLOCATOR_MAX_STEP_UPDATES") { configuration.maxStepUpdates = value }
        return configuration
    }
}
