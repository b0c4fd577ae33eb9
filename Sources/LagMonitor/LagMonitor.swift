import Kafka
import LagStatus
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Samples the lag of consumer groups every ``Configuration/interval``, judges each partition
/// and group by ``LagRules`` over a window of samples, keeps the metrics current and logs each
/// status change with its reason (`ordertrace up` runs one; `ordertrace lag --serve` alone).
///
/// Metrics (Prometheus form, kafka-lag-exporter's names for lag), written by
/// ``prometheusText()`` from the last round for the process's `/metrics` to append:
/// `kafka_consumergroup_group_lag{group,topic,partition}` (records),
/// `kafka_consumergroup_group_lag_seconds{group,topic,partition}`,
/// `kafka_consumergroup_group_max_lag{group}`,
/// `ordertrace_consumergroup_status{group,topic,partition,status}` (one series per partition, at
/// 1, labelled with its current status) and `ordertrace_consumergroup_group_status{group,status}`
/// (1 for the current status, 0 for the others); from the broker's description of each group,
/// `kafka_consumergroup_members{group}`, `kafka_consumergroup_partition_owner{group,topic,partition,
/// member,client_id,host}` (1 per assigned partition) and the counter
/// `kafka_consumergroup_rebalances_observed_total{group}` (rounds in which a partition had changed
/// owner since the round before; each change is logged); and through swift-metrics
/// `ordertrace_lag_samples_total`.
///
/// Besides the window the rules need, it keeps each partition's last ``Configuration/historyLimit``
/// samples (``recentSamples(of:)``, ``lagOverview()``) for charts such as the explorer's lag page.
public final class LagMonitor: Service, Sendable {
    public struct Configuration: Sendable {
        /// Time between samples.
        public var interval: Duration = .seconds(5)
        public var rules = LagRules(window: 60, minimumSamples: 3)
        /// Groups to cover besides those the cluster lists.
        public var groups: [String] = []
        /// Only these topics, when not empty.
        public var topics: [String] = []
        /// Whether to cover every group the cluster lists.
        public var includeListedGroups = true
        /// How many recent samples (time, lag, lag seconds) each partition keeps for charts.
        public var historyLimit = 120

        public init() {}
    }

    /// A partition of a group.
    public struct PartitionKey: Hashable, Sendable, CustomStringConvertible {
        public var group: String
        public var topic: String
        public var partition: Int32
        public var description: String { "\(topic)/\(partition)" }

        public init(group: String, topic: String, partition: Int32) {
            self.group = group
            self.topic = topic
            self.partition = partition
        }
    }

    /// One round: the lag read, each partition's and each group's status.
    public struct Snapshot: Sendable {
        public var report: ConsumerLagReport
        public var partitions: [PartitionKey: LagEvaluation]
        public var groups: [String: LagEvaluation]
    }

    let admin: KafkaAdmin
    public let configuration: Configuration
    let logger: Logger
    let state = Mutex(State())
    private let clockStart = ContinuousClock.now

    struct PartitionHistory {
        var samples: [PartitionSample] = []
        var status: LagState?

        /// Adds a sample, keeping the window and the sample before it (to tell how long an
        /// offset stood), and judges the partition; returns the judgement and the status before.
        mutating func add(_ sample: PartitionSample, rules: LagRules) -> (LagEvaluation, LagState?) {
            samples.append(sample)
            if let firstKept = samples.lastIndex(where: { $0.time < sample.time - rules.window * 2 }) {
                samples.removeFirst(firstKept)
            }
            let evaluation = rules.evaluate(samples)
            defer { status = evaluation.state }
            return (evaluation, status)
        }
    }

    struct State {
        /// Per partition: its samples (the window and the one before it) and its status.
        var partitions: [PartitionKey: PartitionHistory] = [:]
        var groupStatus: [String: LagState] = [:]
        var latest: Snapshot?
        /// Per partition of the latest round: its last `historyLimit` samples, oldest first.
        var recent: [PartitionKey: [LagPoint]] = [:]
        /// Why the latest attempt to sample failed, `nil` after a round that succeeded.
        var failure: LagOverview.Failure?
        /// Per group the broker last described: which member (id) held which partition.
        var assignments: [String: [KafkaTopicPartition: String]] = [:]
        /// Per group: the rounds in which some partition had changed owner since the round before.
        var rebalancesObserved: [String: Int] = [:]
    }

    /// A partition that changed owner between two rounds.
    struct OwnerChange {
        var partition: KafkaTopicPartition
        var before: String?
        var after: String?
    }

    /// How many times a partition of `group` was seen with another owner than the round before
    /// (counted once per round, however many partitions moved).
    public func rebalancesObserved(group: String) -> Int {
        state.withLock { $0.rebalancesObserved[group] ?? 0 }
    }

    public init(admin: KafkaAdmin, configuration: Configuration = Configuration(), logger: Logger) {
        self.admin = admin
        self.configuration = configuration
        self.logger = logger
    }

    /// The last round, if any.
    public var latest: Snapshot? { state.withLock { $0.latest } }

    /// Samples every group once and judges it; `time` (seconds on a clock that only moves
    /// forward) defaults to the time since the monitor was made.
    /// - Throws: What reading the lag threw; it is also kept as the overview's `failure` until a
    ///   round succeeds.
    @discardableResult
    public func sample(at time: Double? = nil) async throws -> Snapshot {
        let report: ConsumerLagReport
        do {
            report = try await admin.lag(
                groups: configuration.groups, topics: configuration.topics, includeListedGroups: configuration.includeListedGroups)
        } catch {
            let failure = LagOverview.Failure(atMilliseconds: Self.nowMilliseconds(), message: (error as? KafkaError)?.message ?? "\(error)")
            state.withLock { $0.failure = failure }
            throw error
        }
        let now = time ?? (ContinuousClock.now - clockStart).seconds
        return record(report, at: now)
    }

    /// Judges a report read at `time` against the history (what ``sample(at:)`` does after reading).
    func record(_ report: ConsumerLagReport, at time: Double) -> Snapshot {
        let rules = configuration.rules
        let historyLimit = max(1, configuration.historyLimit)
        var changes: [(String, LagState?, LagEvaluation)] = []
        var moves: [(group: String, changes: [OwnerChange], members: Int)] = []
        // Counted before the round's figures can be scraped: a scrape that shows them shows the
        // sample counted too.
        Counter(label: "ordertrace_lag_samples_total").increment()
        let snapshot = state.withLock { state -> Snapshot in
            var recent: [PartitionKey: [LagPoint]] = [:]
            var partitions: [PartitionKey: LagEvaluation] = [:]
            var groups: [String: LagEvaluation] = [:]
            for group in report.groups {
                var evaluations: [(partition: String, evaluation: LagEvaluation)] = []
                for lag in group.partitions {
                    let key = PartitionKey(group: group.group, topic: lag.topic, partition: lag.partition)
                    // One look-up per partition, its samples changed in place (not copied).
                    let (evaluation, before) = state.partitions[key, default: PartitionHistory()].add(
                        PartitionSample(time: time, committed: lag.committed, logEnd: lag.high, logStart: lag.low), rules: rules)
                    // Taken out of the state so that appending does not copy it.
                    var points = state.recent.removeValue(forKey: key) ?? []
                    points.append(LagPoint(timeMilliseconds: report.timeMilliseconds, lag: lag.lag, lagSeconds: lag.lagSeconds))
                    if points.count > historyLimit { points.removeFirst(points.count - historyLimit) }
                    recent[key] = points
                    partitions[key] = evaluation
                    evaluations.append((key.description, evaluation))
                    if before != evaluation.state {
                        changes.append(("\(group.group) \(key)", before, evaluation))
                    }
                }
                if let members = group.members {
                    // Who holds what, by member id, over every member's partitions (not only those
                    // the round covers); a group first described has nothing to compare with.
                    var assignment: [KafkaTopicPartition: String] = [:]
                    for member in members {
                        for partition in member.partitions { assignment[partition] = member.memberID }
                    }
                    if let before = state.assignments[group.group] {
                        let moved = Set(before.keys).union(assignment.keys).sorted()
                            .filter { before[$0] != assignment[$0] }
                            .map { OwnerChange(partition: $0, before: before[$0], after: assignment[$0]) }
                        if !moved.isEmpty {
                            state.rebalancesObserved[group.group, default: 0] += 1
                            moves.append((group.group, moved, members.count))
                        }
                    } else {
                        state.rebalancesObserved[group.group] = state.rebalancesObserved[group.group] ?? 0
                    }
                    state.assignments[group.group] = assignment
                }
                let groupEvaluation = LagRules.worst(evaluations)
                groups[group.group] = groupEvaluation
                if state.groupStatus[group.group] != groupEvaluation.state {
                    changes.append((group.group, state.groupStatus[group.group], groupEvaluation))
                    state.groupStatus[group.group] = groupEvaluation.state
                }
            }
            let snapshot = Snapshot(report: report, partitions: partitions, groups: groups)
            state.latest = snapshot
            // Partitions the round no longer covers lose their chart history.
            state.recent = recent
            state.failure = nil
            return snapshot
        }
        for (subject, before, after) in changes {
            logger.log(
                level: after.state == .ok ? .info : .warning, "lag status \(before.map(\.description) ?? "new") -> \(after.state): \(subject)",
                metadata: ["lag.subject": "\(subject)", "lag.status": "\(after.state)", "lag.reason": "\(after.reason)"])
        }
        for move in moves {
            let list = move.changes.map { "\($0.partition.topic)/\($0.partition.partition) \($0.before ?? "none") -> \($0.after ?? "none")" }
            logger.info(
                "group \(move.group) rebalanced: \(move.changes.count) partition(s) changed owner, \(move.members) member(s) now",
                metadata: ["lag.group": "\(move.group)", "lag.moved": "\(list.joined(separator: ", "))", "lag.members": "\(move.members)"])
        }
        return snapshot
    }

    /// Samples every ``Configuration/interval`` until graceful shutdown; a failed round is logged
    /// and the next one tried.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await sample()
            } catch {
                logger.warning("could not read consumer lag", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.interval)
        }
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
