import Foundation
import Kafka
import KafkaTestSupport
@testable import LagMonitor
import LagStatus
import Logging
import Synchronization
import Testing

/// Messages logged, with their level.
final class LoggedLines: Sendable {
    let lines = Mutex<[(Logger.Level, String)]>([])
}

/// Keeps the messages logged through it (at info and above), to check what a monitor logged.
struct RecordingLogHandler: LogHandler {
    let lines: LoggedLines
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let extra = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.lines.withLock { $0.append((event.level, "\(event.message) \(extra)")) }
    }
}

/// Which member owns which partition, as the lag monitor learns it from the broker's description
/// of each group, and the owner changes it sees between rounds.
@Suite("Lag monitor: partition owners and observed rebalances", .timeLimit(.minutes(5)))
struct LagMonitorOwnershipTests {
    /// A Kafka cluster to run the ownership test on as well (Apache Kafka), `host:port[,...]`;
    /// without it, the native embedded broker, which describes groups too (librdkafka's mock
    /// answers DescribeGroups as unsupported).
    static let describingCluster: String? = ProcessInfo.processInfo.environment["ORDERTRACE_TEST_KAFKA_BROKERS"].flatMap { $0.isEmpty ? nil : $0 }

    /// Two consumers of `group` on `topic`, then `body` while both run; `whileOne` after the
    /// second closed (left the group) while the first still runs.
    func withTwoMembers(
        brokers: String, group: String, topic: String, _ body: () async throws -> Void, whileOne: () async throws -> Void
    ) async throws {
        func consumer(_ clientID: String) throws -> KafkaConsumer {
            var configuration = KafkaConsumerConfiguration(
                kafka: KafkaConfiguration(brokers: [brokers], clientID: clientID), groupID: group, topics: [topic])
            configuration.sessionTimeout = .seconds(6)
            configuration.heartbeatInterval = .milliseconds(500)
            return try KafkaConsumer(configuration: configuration, logger: testLogger)
        }
        let first = try consumer("owner-a")
        let second = try consumer("owner-b")
        try await withRunningConsumer(first) {
            try await withRunningConsumer(second) {
                let split = await eventually(timeout: .seconds(60)) {
                    first.assignment.count + second.assignment.count == 4 && !first.assignment.isEmpty && !second.assignment.isEmpty
                }
                try #require(split, "the two members never shared the 4 partitions: \(first.assignment) \(second.assignment)")
                try await body()
            }
            try await whileOne()
        }
    }

    func monitor(brokers: String, group: String, topic: String, logger: Logger = testLogger) throws -> LagMonitor {
        var configuration = LagMonitor.Configuration()
        configuration.groups = [group]
        configuration.topics = [topic]
        configuration.includeListedGroups = false
        return LagMonitor(admin: try KafkaAdmin(configuration: KafkaConfiguration(brokers: [brokers])), configuration: configuration, logger: logger)
    }

    static func owners(_ snapshot: LagMonitor.Snapshot?, group: String) -> [Int32: PartitionOwner] {
        var owners: [Int32: PartitionOwner] = [:]
        for partition in snapshot?.report.groups.first(where: { $0.group == group })?.partitions ?? [] {
            if let owner = partition.owner { owners[partition.partition] = owner }
        }
        return owners
    }

    @Test("two members share a 4-partition topic: the owners cover all 4 with 2 members; after one leaves, all 4 are the other's and the rebalance is counted")
    func ownersFollowTheGroup() async throws {
        if let cluster = Self.describingCluster {
            try await ownersFollowTheGroup(brokers: cluster)
        } else {
            try await withEmbeddedBroker { broker in try await ownersFollowTheGroup(brokers: broker.bootstrapServers) }
        }
    }

    func ownersFollowTheGroup(brokers: String) async throws {
        let topic = uniqueName("owners")
        let group = uniqueName("g")
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [brokers]))
        let created = try await admin.createTopics([KafkaTopicDefinition(name: topic, partitions: 4)])
        try #require(created.isEmpty, "\(created)")
        let monitor = try monitor(brokers: brokers, group: group, topic: topic)
        try await withTwoMembers(brokers: brokers, group: group, topic: topic) {
            let covered = await eventually(timeout: .seconds(60)) {
                let owners = Self.owners(try? await monitor.sample(), group: group)
                return owners.count == 4 && Set(owners.values.map(\.memberID)).count == 2
            }
            try #require(covered, "owners: \(Self.owners(monitor.latest, group: group))")
            let owners = Self.owners(monitor.latest, group: group)
            #expect(Set(owners.values.map(\.clientID)) == ["owner-a", "owner-b"])
            let lines = monitor.prometheusText().split(separator: "\n")
            #expect(lines.contains(Substring(#"kafka_consumergroup_members{group="\#(group)"} 2"#)))
            #expect(lines.filter { $0.hasPrefix(#"kafka_consumergroup_partition_owner{group="\#(group)",topic="\#(topic)""#) }.count == 4)
        } whileOne: {
            let moved = await eventually(timeout: .seconds(60)) {
                let owners = Self.owners(try? await monitor.sample(), group: group)
                return owners.count == 4 && Set(owners.values.map(\.clientID)) == ["owner-a"]
            }
            #expect(moved, "owners: \(Self.owners(monitor.latest, group: group))")
            #expect(monitor.rebalancesObserved(group: group) >= 1)
            let lines = monitor.prometheusText().split(separator: "\n")
            #expect(lines.contains(Substring(#"kafka_consumergroup_members{group="\#(group)"} 1"#)))
            #expect(lines.contains { $0.hasPrefix(#"kafka_consumergroup_rebalances_observed_total{group="\#(group)"} "#) && !$0.hasSuffix(" 0") })
        }
    }

    @Test("on librdkafka's mock, which cannot describe groups, owners are reported unknown with the reason, never invented")
    func ownersUnknownOnTheMock() async throws {
        let topic = uniqueName("owners")
        let group = uniqueName("g")
        try await withEmbeddedBroker(topics: [KafkaTopicDefinition(name: topic, partitions: 4)], engine: .mock) { broker in
            let monitor = try monitor(brokers: broker.bootstrapServers, group: group, topic: topic)
            try await withTwoMembers(brokers: broker.bootstrapServers, group: group, topic: topic) {
                let snapshot = try await monitor.sample(at: 0)
                let lag = try #require(snapshot.report.groups.first { $0.group == group })
                #expect(lag.partitions.count == 4)
                #expect(lag.members == nil)
                #expect(lag.describeError != nil)
                #expect(lag.partitions.allSatisfy { $0.owner == nil })
                let overview = try #require(monitor.lagOverview().groups.first { $0.name == group })
                #expect(overview.members == nil && overview.describeError != nil)
                #expect(overview.partitions.allSatisfy { $0.owner == nil })
            } whileOne: {
                _ = try await monitor.sample(at: 5)
                #expect(monitor.rebalancesObserved(group: group) == 0)
                let text = monitor.prometheusText()
                for family in ["kafka_consumergroup_members{", "kafka_consumergroup_partition_owner{", "kafka_consumergroup_rebalances_observed_total{"] {
                    #expect(!text.contains(family), "no \(family) series for a group the broker cannot describe")
                }
                #expect(text.contains(#"kafka_consumergroup_group_lag{group="\#(group)""#), "the lag series are still written")
            }
        }
    }

    /// A report as `KafkaAdmin.lag` makes it for a described group: `holders[p]` is the member
    /// index holding partition p.
    static func report(group: String, topic: String, members: [(id: String, client: String)], holders: [Int], time: Int64) -> ConsumerLagReport {
        let described = members.enumerated().map { index, member in
            KafkaConsumerGroupDescription.Member(
                memberID: member.id, clientID: member.client, host: "/10.0.0.\(index + 1)",
                partitions: holders.enumerated().filter { $0.element == index }.map { KafkaTopicPartition(topic: topic, partition: Int32($0.offset)) })
        }
        let partitions = holders.enumerated().map { partition, holder in
            PartitionLag(
                topic: topic, partition: Int32(partition), committed: 10, low: 0, high: 12, lagSeconds: 1,
                owner: described[holder].partitionOwner)
        }
        return ConsumerLagReport(
            listedGroups: [group], listError: nil,
            groups: [
                ConsumerGroupLag(
                    group: group, state: "Stable", describeError: nil, members: described, topicSource: .assignments,
                    topics: [TopicLag(topic: topic, partitions: partitions)])
            ], timeMilliseconds: time)
    }

    @Test("an owner change between two rounds is counted once per round, and the owner and member series follow the description")
    func ownerChangesAreCounted() async throws {
        // The rounds are given, not read: the broker is there only for the monitor's admin client.
        let logged = LoggedLines()
        let logger = Logger(label: "lag") { _ in RecordingLogHandler(lines: logged) }
        try await withEmbeddedBroker { broker in
            try checkOwnerChanges(try monitor(brokers: broker.bootstrapServers, group: "g", topic: "t", logger: logger))
        }
        let rebalances = logged.lines.withLock { $0 }.filter { $0.1.contains("rebalanced") }
        #expect(rebalances.count == 1, "\(logged.lines.withLock { $0 })")
        #expect(rebalances.first?.0 == .info)
        #expect(rebalances.first?.1.contains("t/2 m-b -> m-a, t/3 m-b -> m-a") == true, "\(rebalances)")
    }

    func checkOwnerChanges(_ monitor: LagMonitor) throws {
        let two = [(id: "m-a", client: "allocator-1"), (id: "m-b", client: "allocator-2")]
        monitor.record(Self.report(group: "g", topic: "t", members: two, holders: [0, 0, 1, 1], time: 1_000), at: 0)
        #expect(monitor.rebalancesObserved(group: "g") == 0, "a first description is no change")
        var lines = Set(monitor.prometheusText().split(separator: "\n").map(String.init))
        #expect(lines.contains(#"kafka_consumergroup_members{group="g"} 2"#))
        #expect(lines.contains(#"kafka_consumergroup_partition_owner{group="g",topic="t",partition="2",member="m-b",client_id="allocator-2",host="/10.0.0.2"} 1"#))
        #expect(lines.filter { $0.hasPrefix("kafka_consumergroup_partition_owner{") }.count == 4)
        #expect(lines.contains(#"kafka_consumergroup_rebalances_observed_total{group="g"} 0"#))
        #expect(lines.contains("# TYPE kafka_consumergroup_rebalances_observed_total counter"))

        // The same assignment again: nothing moved.
        monitor.record(Self.report(group: "g", topic: "t", members: two, holders: [0, 0, 1, 1], time: 2_000), at: 5)
        #expect(monitor.rebalancesObserved(group: "g") == 0)

        // m-b left: its two partitions moved to m-a.
        monitor.record(Self.report(group: "g", topic: "t", members: [two[0]], holders: [0, 0, 0, 0], time: 3_000), at: 10)
        #expect(monitor.rebalancesObserved(group: "g") == 1)
        lines = Set(monitor.prometheusText().split(separator: "\n").map(String.init))
        #expect(lines.contains(#"kafka_consumergroup_members{group="g"} 1"#))
        #expect(lines.filter { $0.hasPrefix("kafka_consumergroup_partition_owner{") }.allSatisfy { $0.contains(#"member="m-a""#) })
        #expect(lines.contains(#"kafka_consumergroup_rebalances_observed_total{group="g"} 1"#))
        let overview = try #require(monitor.lagOverview().groups.first)
        #expect(overview.members == 1 && overview.rebalancesObserved == 1)
        #expect(overview.partitions.map { $0.owner?.memberID } == ["m-a", "m-a", "m-a", "m-a"])
        #expect(overview.partitions.first?.owner == LagOverview.Owner(memberID: "m-a", clientID: "allocator-1", host: "/10.0.0.1"))
        // The existing names are unchanged.
        #expect(lines.contains(#"kafka_consumergroup_group_lag{group="g",topic="t",partition="0"} 2"#))
    }
}
