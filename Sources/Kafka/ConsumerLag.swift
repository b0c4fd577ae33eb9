#if canImport(Glibc)
import Glibc
#endif

/// How far a consumer group is behind, per partition, per topic and in total.

/// One partition of one group.
public struct PartitionLag: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    /// The group's committed offset (the next record it will read), `nil` when it never committed.
    public var committed: Int64?
    /// The oldest offset still there.
    public var low: Int64
    /// The log-end offset (the next offset to be written).
    public var high: Int64
    /// Records not yet consumed: `high - committed`, or `high - low` when nothing was committed
    /// (`isCountedFromLowWatermark`). Never negative.
    public var lag: Int64
    /// Seconds since the oldest unconsumed record was written: 0 when caught up, `nil` when its
    /// timestamp could not be read.
    public var lagSeconds: Double?
    /// The member that holds the partition, when the group could be described and the
    /// partition is assigned.
    public var owner: PartitionOwner?

    public var isCountedFromLowWatermark: Bool { committed == nil }

    public init(topic: String, partition: Int32, committed: Int64?, low: Int64, high: Int64, lagSeconds: Double?, owner: PartitionOwner?) {
        self.topic = topic
        self.partition = partition
        self.committed = committed
        self.low = low
        self.high = high
        self.lag = max(0, high - (committed ?? low))
        self.lagSeconds = lagSeconds
        self.owner = owner
    }
}

/// The member of a group that holds a partition, as the broker describes it.
public struct PartitionOwner: Sendable, Hashable, CustomStringConvertible {
    /// The id the group coordinator gave the member (changes each time it joins anew).
    public var memberID: String
    /// The member's `client.id`.
    public var clientID: String
    /// The member's address as the broker sees it (Kafka writes `/` before it).
    public var host: String

    public init(memberID: String, clientID: String, host: String) {
        self.memberID = memberID
        self.clientID = clientID
        self.host = host
    }

    /// `client-id@host`, as the lag report names a partition's owner.
    public var description: String {
        let address = host.hasPrefix("/") ? String(host.dropFirst()) : host
        return address.isEmpty ? clientID : "\(clientID)@\(address)"
    }
}

/// One topic of one group.
public struct TopicLag: Sendable, Hashable {
    public var topic: String
    public var partitions: [PartitionLag]

    public init(topic: String, partitions: [PartitionLag]) {
        self.topic = topic
        self.partitions = partitions
    }

    public var lag: Int64 { partitions.reduce(0) { $0 + $1.lag } }
    /// The oldest unconsumed record's age over the topic's partitions.
    public var lagSeconds: Double? { partitions.compactMap(\.lagSeconds).max() }
}

/// One consumer group.
public struct ConsumerGroupLag: Sendable, Hashable {
    /// Where the group's topics came from.
    public enum TopicSource: String, Sendable, Hashable {
        /// The members' assignments (DescribeConsumerGroups), with topics committed to besides.
        case assignments
        /// The topics asked for.
        case requested = "named"
        /// Every topic of the cluster where the group committed an offset for some partition.
        case committedOffsets = "committed offsets"
    }

    public var group: String
    /// The broker's state for the group (`Stable`, `Empty`, ...), `nil` when it cannot be
    /// described (see `describeError`).
    public var state: String?
    public var describeError: String?
    /// The members the broker described, each with the partitions it holds; `nil` when the
    /// group could not be described (the members are then unknown, not absent).
    public var members: [KafkaConsumerGroupDescription.Member]?
    public var topicSource: TopicSource
    public var topics: [TopicLag]

    public init(
        group: String, state: String?, describeError: String?, members: [KafkaConsumerGroupDescription.Member]? = nil, topicSource: TopicSource,
        topics: [TopicLag]
    ) {
        self.group = group
        self.state = state
        self.describeError = describeError
        self.members = members
        self.topicSource = topicSource
        self.topics = topics
    }

    public var lag: Int64 { topics.reduce(0) { $0 + $1.lag } }
    public var lagSeconds: Double? { topics.compactMap(\.lagSeconds).max() }
    public var partitions: [PartitionLag] { topics.flatMap(\.partitions) }
}

/// The lag of several groups, read at one time.
public struct ConsumerLagReport: Sendable, Hashable {
    /// The groups the cluster listed (none on librdkafka's mock).
    public var listedGroups: [String]
    /// Why listing failed, when it did.
    public var listError: String?
    public var groups: [ConsumerGroupLag]
    /// When it was read, milliseconds since the epoch.
    public var timeMilliseconds: Int64

    public init(listedGroups: [String], listError: String?, groups: [ConsumerGroupLag], timeMilliseconds: Int64) {
        self.listedGroups = listedGroups
        self.listError = listError
        self.groups = groups
        self.timeMilliseconds = timeMilliseconds
    }

    /// Total lag per topic over all groups.
    public var lagByTopic: [(topic: String, lag: Int64)] {
        var totals: [String: Int64] = [:]
        for group in groups {
            for topic in group.topics { totals[topic.topic, default: 0] += topic.lag }
        }
        return totals.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

extension KafkaAdmin {
    /// Reads the lag of the listed groups (unless `includeListedGroups` is false) plus `groups`.
    ///
    /// A group's topics are `topics` when given; otherwise those of its members' assignments
    /// (where the broker can describe groups) together with every topic where it committed an
    /// offset for some partition. Lag in seconds is the age of the record at the committed
    /// offset (the low watermark when nothing was committed).
    public func lag(
        groups named: [String] = [], topics requested: [String] = [], includeListedGroups: Bool = true,
        timeout: Duration = .seconds(10)
    ) async throws -> ConsumerLagReport {
        var listed: [String] = []
        var listError: String?
        if includeListedGroups {
            do {
                listed = try await consumerGroups(timeout: timeout)
            } catch let error as KafkaError {
                listError = error.message
            }
        }
        var seen = Set<String>()
        let groupIDs = (listed + named).filter { seen.insert($0).inserted }
        guard !groupIDs.isEmpty else {
            return ConsumerLagReport(listedGroups: listed, listError: listError, groups: [], timeMilliseconds: Self.nowMilliseconds())
        }

        var descriptions: [String: Result<KafkaConsumerGroupDescription, KafkaError>] = [:]
        do {
            descriptions = try await describeConsumerGroups(groupIDs, timeout: timeout)
        } catch let error as KafkaError {
            for group in groupIDs { descriptions[group] = .failure(error) }
        }

        let cluster = try await self.topics(timeout: timeout)
        let partitionCounts = Dictionary(cluster.map { ($0.name, $0.partitionCount) }, uniquingKeysWith: { $1 })
        func partitions(of topics: some Sequence<String>) -> [KafkaTopicPartition] {
            topics.flatMap { topic in (0..<Int32(partitionCounts[topic] ?? 0)).map { KafkaTopicPartition(topic: topic, partition: $0) } }
        }
        let allPartitions = partitions(of: cluster.map(\.name))

        // Per group: its partitions, committed offsets and owners.
        struct GroupPlan {
            var group: String
            var state: String?
            var describeError: String?
            var source: ConsumerGroupLag.TopicSource
            var partitions: [KafkaTopicPartition]
            var committed: [KafkaTopicPartition: Int64]
            var members: [KafkaConsumerGroupDescription.Member]?
            var owners: [KafkaTopicPartition: PartitionOwner]
        }
        // Every group's committed offsets: one batch of requests for all groups.
        let requestedPartitions = partitions(of: requested)
        let committedByGroup = try await committedOffsets(
            groups: groupIDs.map { ($0, requested.isEmpty ? allPartitions : requestedPartitions) }, timeout: timeout)
        var plans: [GroupPlan] = []
        for group in groupIDs {
            var state: String?
            var describeError: String?
            var owners: [KafkaTopicPartition: PartitionOwner] = [:]
            var members: [KafkaConsumerGroupDescription.Member]?
            switch descriptions[group] {
            case .success(let description):
                state = description.state
                members = description.members
                for member in description.members {
                    for partition in member.partitions { owners[partition] = member.partitionOwner }
                }
            case .failure(let error):
                describeError = error.message
            case nil:
                describeError = "the broker did not describe the group"
            }
            let source: ConsumerGroupLag.TopicSource
            let groupPartitions: [KafkaTopicPartition]
            let committed = committedByGroup[group] ?? [:]
            if !requested.isEmpty {
                source = .requested
                groupPartitions = requestedPartitions
            } else {
                let topics = Set(committed.keys.map(\.topic)).union(owners.keys.map(\.topic))
                source = owners.isEmpty ? .committedOffsets : .assignments
                groupPartitions = partitions(of: topics.sorted())
            }
            plans.append(GroupPlan(group: group, state: state, describeError: describeError, source: source, partitions: groupPartitions, committed: committed, members: members, owners: owners))
        }

        let marks = try await watermarks(of: plans.flatMap(\.partitions), timeout: timeout)
        // The record each group reads next, per partition that is behind: one batch of reads for all.
        var wanted: [KafkaTopicPartition: Set<Int64>] = [:]
        for plan in plans {
            for partition in plan.partitions {
                guard let mark = marks[partition] else { continue }
                let next = max(plan.committed[partition] ?? mark.low, mark.low)
                if next < mark.high { wanted[partition, default: []].insert(next) }
            }
        }
        // A record's timestamp never changes: those the last round read and this one wants again
        // (groups that did not move) are not read again.
        var times: [KafkaTopicPartition: [Int64: Int64]] = [:]
        let known = recordTimes.withLock { $0 }
        for (partition, offsets) in wanted {
            guard let cached = known[partition] else { continue }
            for offset in offsets {
                if let time = cached[offset] {
                    times[partition, default: [:]][offset] = time
                    wanted[partition]!.remove(offset)
                }
            }
        }
        // The rest in one forward read per partition (more only for offsets far apart).
        wanted = wanted.filter { !$0.value.isEmpty }
        for (partition, read) in try await timestamps(of: wanted, timeout: timeout) {
            times[partition, default: [:]].merge(read) { $1 }
        }
        recordTimes.withLock { $0 = times }

        let now = Self.nowMilliseconds()
        let groups = plans.map { plan -> ConsumerGroupLag in
            var byTopic: [String: [PartitionLag]] = [:]
            for partition in plan.partitions.sorted() {
                guard let mark = marks[partition] else { continue }
                let committed = plan.committed[partition]
                let next = max(committed ?? mark.low, mark.low)
                var seconds: Double?
                if next >= mark.high {
                    seconds = 0
                } else if let time = times[partition]?[next] {
                    seconds = max(0, Double(now - time) / 1_000)
                }
                byTopic[partition.topic, default: []].append(
                    PartitionLag(
                        topic: partition.topic, partition: partition.partition, committed: committed, low: mark.low, high: mark.high,
                        lagSeconds: seconds, owner: plan.owners[partition]))
            }
            return ConsumerGroupLag(
                group: plan.group, state: plan.state, describeError: plan.describeError, members: plan.members, topicSource: plan.source,
                topics: byTopic.sorted { $0.key < $1.key }.map { TopicLag(topic: $0.key, partitions: $0.value) })
        }
        return ConsumerLagReport(listedGroups: listed, listError: listError, groups: groups, timeMilliseconds: now)
    }

    static func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000 + Int64(time.tv_nsec) / 1_000_000
    }
}
