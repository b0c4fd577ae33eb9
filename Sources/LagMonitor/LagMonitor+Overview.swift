#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Kafka
import LagStatus

extension LagMonitor: LagOverviewSource {
    /// A partition's recent samples (time, lag, lag seconds), oldest first: at most
    /// ``Configuration/historyLimit``, none when the latest round did not cover it.
    public func recentSamples(of key: PartitionKey) -> [LagPoint] {
        state.withLock { $0.recent[key] ?? [] }
    }

    /// The latest round as plain values, with each partition's recent samples; groups in the
    /// order they were read, partitions by topic and number.
    public func lagOverview() -> LagOverview {
        let (latest, recent, failure, observed) = state.withLock { ($0.latest, $0.recent, $0.failure, $0.rebalancesObserved) }
        var groups: [LagOverview.Group] = []
        for group in latest?.report.groups ?? [] {
            var partitions: [LagOverview.Partition] = []
            for lag in group.partitions {
                let key = PartitionKey(group: group.group, topic: lag.topic, partition: lag.partition)
                partitions.append(
                    LagOverview.Partition(
                        topic: lag.topic, partition: lag.partition, committed: lag.committed, logStart: lag.low, logEnd: lag.high, lag: lag.lag,
                        lagSeconds: lag.lagSeconds,
                        owner: lag.owner.map { LagOverview.Owner(memberID: $0.memberID, clientID: $0.clientID, host: $0.host) },
                        evaluation: latest?.partitions[key] ?? LagEvaluation(.ok, "no samples yet"),
                        history: recent[key] ?? []))
            }
            partitions.sort { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
            groups.append(
                LagOverview.Group(
                    name: group.group, evaluation: latest?.groups[group.group] ?? LagEvaluation(.ok, "no partitions"),
                    brokerState: group.state, describeError: group.describeError, members: group.members?.count,
                    rebalancesObserved: observed[group.group] ?? 0, partitions: partitions))
        }
        return LagOverview(
            interval: configuration.interval.seconds, window: configuration.rules.window, historyLimit: max(1, configuration.historyLimit),
            sampledAtMilliseconds: latest?.report.timeMilliseconds, failure: failure, groups: groups)
    }

    static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000 + Int64(time.tv_nsec) / 1_000_000
    }
}
