import Foundation
import Kafka
import KafkaTestSupport
import Testing

@Suite("Consumer lag against the embedded broker", .timeLimit(.minutes(3)))
struct ConsumerLagTests {
    /// Sends `perPartition` records to each partition, stamped `age` in the past.
    static func produce(_ broker: EmbeddedBroker, topic: String, partitions: Int32, perPartition: Int, age: Duration = .zero) async throws -> Int64 {
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
        let stamp = Int64(Date().timeIntervalSince1970 * 1_000) - age.components.seconds * 1_000
        var records: [KafkaProducerRecord] = []
        for partition in 0..<partitions {
            for index in 0..<perPartition {
                var record = KafkaProducerRecord(topic: topic, partition: partition, key: "k\(index)", value: Array("v\(partition)-\(index)".utf8))
                record.timestampMilliseconds = stamp
                records.append(record)
            }
        }
        for outcome in try await producer.send(records) { _ = try outcome.get() }
        await producer.close()
        return stamp
    }

    /// A member of `group` reads everything, marks the first `done[p]` records of partition `p`
    /// as processed, and leaves (committing them).
    static func consume(_ broker: EmbeddedBroker, group: String, topic: String, total: Int, done: [Int32: Int64]) async throws {
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
        let received = try await withRunningConsumer(consumer) {
            let received = await collect(consumer, count: total, storeOffsets: false)
            var last: [KafkaTopicPartition: Int64] = [:]
            for (partition, count) in done where count > 0 { last[KafkaTopicPartition(topic: topic, partition: partition)] = count - 1 }
            consumer.storeOffsets(lastProcessed: last)
            return received
        }
        #expect(received.count == total)
    }

    static func committed(_ admin: KafkaAdmin, group: String, topic: String, partitions: Int32) async throws -> [Int32: Int64] {
        let list = (0..<partitions).map { KafkaTopicPartition(topic: topic, partition: $0) }
        let offsets = try await admin.committedOffsets(group: group, partitions: list)
        return Dictionary(uniqueKeysWithValues: offsets.map { ($0.key.partition, $0.value) })
    }

    @Test("lag per partition is what remains after a group committed part of each partition; totals add up; kcat agrees")
    func lagEqualsWhatRemains() async throws {
        let topic = uniqueName("lag")
        let group = uniqueName("g")
        try await withEmbeddedBroker(topics: [KafkaTopicDefinition(name: topic, partitions: 3)]) { broker in
            _ = try await Self.produce(broker, topic: topic, partitions: 3, perPartition: 10)
            let done: [Int32: Int64] = [0: 3, 1: 5, 2: 7]
            try await Self.consume(broker, group: group, topic: topic, total: 30, done: done)

            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
            let committedAll = await eventually(timeout: .seconds(30)) {
                (try? await Self.committed(admin, group: group, topic: topic, partitions: 3)) == done
            }
            let committedNow = try? await Self.committed(admin, group: group, topic: topic, partitions: 3)
            #expect(committedAll, "committed: \(String(describing: committedNow))")

            // Without topics: the group has no members left, so they are found from its committed
            // offsets.
            let report = try await admin.lag(groups: [group])
            #expect(report.listedGroups.contains(group))
            let lag = try #require(report.groups.first { $0.group == group })
            #expect(lag.topicSource == .committedOffsets)
            #expect(lag.state == "Empty" && lag.describeError == nil, "described: no members")
            #expect(lag.topics.map(\.topic) == [topic])
            let partitions = lag.partitions
            #expect(partitions.map(\.partition) == [0, 1, 2])
            for partition in partitions {
                #expect(partition.committed == done[partition.partition])
                #expect(partition.low == 0)
                #expect(partition.high == 10)
                #expect(partition.lag == 10 - done[partition.partition]!)
                #expect(!partition.isCountedFromLowWatermark)
                #expect(partition.owner == nil)
            }
            #expect(lag.topics[0].lag == 15)
            #expect(lag.lag == 15)
            #expect(report.lagByTopic.map(\.lag) == [15])

            // The same with the topic named.
            let named = try await admin.lag(groups: [group], topics: [topic])
            #expect(named.groups.first?.topicSource == .requested)
            #expect(named.groups.first?.partitions.map(\.lag) == partitions.map(\.lag))

            try await Self.compareWithKcat(broker, group: group, topic: topic, partitions: partitions)

            // kcat, a member of the group that read to the end, commits its position when it
            // leaves (even with enable.auto.commit=false): now the group has no lag.
            let caughtUp = await eventually(timeout: .seconds(30)) {
                guard let after = try? await admin.lag(groups: [group], topics: [topic]), let lag = after.groups.first else { return false }
                return lag.partitions.map(\.committed) == [10, 10, 10] && lag.lag == 0 && lag.lagSeconds == 0
            }
            #expect(caughtUp)
        }
    }

    /// kcat 1.7 has no command that prints a group's committed offsets, so:
    /// - log-end offsets: `kcat -Q -t topic:partition:-1` (an offset query for the latest offset);
    /// - committed offsets and lag: kcat joins the group (`-G`) and reads to the end (`-e`).
    ///   A group member starts each partition at the committed offset, so the first offset kcat prints for a partition is the committed one,
    ///   and the number of records it prints is the lag. (kcat commits what it read when it
    ///   leaves, so this comes last.)
    static func compareWithKcat(_ broker: EmbeddedBroker, group: String, topic: String, partitions: [PartitionLag]) async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/kcat") else {
            Issue.record("kcat is not installed (/usr/bin/kcat): skipping the comparison with kcat")
            return
        }
        for partition in partitions {
            let output = try runKcat(["-b", broker.bootstrapServers, "-Q", "-t", "\(topic):\(partition.partition):-1"])
            // "<topic> [<partition>] offset <n>"
            let logEnd = output.split(separator: "\n").compactMap { line -> Int64? in
                guard line.hasPrefix("\(topic) [\(partition.partition)]"), let last = line.split(separator: " ").last else { return nil }
                return Int64(last)
            }
            #expect(logEnd == [partition.high], "kcat -Q said: \(output)")
        }
        let output = try runKcat([
            "-b", broker.bootstrapServers, "-G", group, "-e", "-q", "-f", "%p %o\\n",
            "-X", "session.timeout.ms=6000", topic,
        ])
        var first: [Int32: Int64] = [:]
        var count: [Int32: Int64] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let partition = Int32(fields[0]), let offset = Int64(fields[1]) else { continue }
            first[partition] = min(first[partition] ?? offset, offset)
            count[partition, default: 0] += 1
        }
        for partition in partitions {
            #expect(first[partition.partition] == partition.committed, "kcat -G started partition \(partition.partition) at \(String(describing: first[partition.partition]))")
            #expect(count[partition.partition, default: 0] == partition.lag, "kcat -G read \(count[partition.partition, default: 0]) records of partition \(partition.partition)")
        }
    }

    static func runKcat(_ arguments: [String]) throws -> String {
        let kcat = Process()
        kcat.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        kcat.arguments = arguments
        let output = Pipe()
        kcat.standardOutput = output
        kcat.standardError = FileHandle.nullDevice
        try kcat.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        kcat.waitUntilExit()
        #expect(kcat.terminationStatus == 0, "kcat \(arguments.joined(separator: " ")) exited with \(kcat.terminationStatus)")
        return text
    }

    @Test("lag in seconds is the age of the oldest unconsumed record, grows while the group is stopped, and is 0 once it caught up")
    func lagSeconds() async throws {
        let topic = uniqueName("lagsec")
        let group = uniqueName("g")
        try await withEmbeddedBroker(topics: [KafkaTopicDefinition(name: topic, partitions: 2)]) { broker in
            let stamp = try await Self.produce(broker, topic: topic, partitions: 2, perPartition: 4, age: .seconds(30))
            try await Self.consume(broker, group: group, topic: topic, total: 8, done: [0: 1, 1: 2])
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))

            // The record at an offset carries the timestamp it was produced with.
            #expect(try await admin.timestamp(topic: topic, partition: 0, offset: 1) == stamp)
            #expect(try await admin.timestamp(topic: topic, partition: 0, offset: 4) == nil, "nothing at the log end")

            let committed = await eventually(timeout: .seconds(30)) {
                (try? await Self.committed(admin, group: group, topic: topic, partitions: 2)) == [0: 1, 1: 2]
            }
            #expect(committed)
            let first = try await admin.lag(groups: [group], topics: [topic])
            let firstSeconds = try #require(first.groups.first?.lagSeconds)
            #expect(firstSeconds >= 29 && firstSeconds < 120, "the records are 30 s old: \(firstSeconds)")
            for partition in try #require(first.groups.first?.partitions) {
                #expect(partition.lagSeconds.map { $0 >= 29 } == true)
            }
            let grew = await eventually(timeout: .seconds(30)) {
                guard let again = try? await admin.lag(groups: [group], topics: [topic]), let seconds = again.groups.first?.lagSeconds else { return false }
                return seconds > firstSeconds
            }
            #expect(grew, "lag in seconds grows while nothing is consumed")

            // The group catches up and commits: no lag, in records or seconds.
            try await Self.consume(broker, group: group, topic: topic, total: 5, done: [0: 4, 1: 4])
            let caughtUp = await eventually(timeout: .seconds(30)) {
                guard let report = try? await admin.lag(groups: [group], topics: [topic]), let lag = report.groups.first else { return false }
                return lag.lag == 0 && lag.partitions.allSatisfy { $0.lagSeconds == 0 }
            }
            #expect(caughtUp)
        }
    }

    @Test("a group that never committed counts its lag from the low watermark, and says so")
    func neverCommitted() async throws {
        let topic = uniqueName("nocommit")
        let group = uniqueName("never")
        try await withEmbeddedBroker(topics: [KafkaTopicDefinition(name: topic, partitions: 2)]) { broker in
            _ = try await Self.produce(broker, topic: topic, partitions: 2, perPartition: 6, age: .seconds(10))
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))

            let report = try await admin.lag(groups: [group], topics: [topic])
            let lag = try #require(report.groups.first)
            #expect(lag.partitions.count == 2)
            for partition in lag.partitions {
                #expect(partition.committed == nil)
                #expect(partition.isCountedFromLowWatermark)
                #expect(partition.lag == partition.high - partition.low)
                #expect(partition.lag == 6)
                #expect(partition.lagSeconds.map { $0 >= 9 } == true)
            }
            #expect(lag.lag == 12)

            // Without topics named, a group with no commits has none to report.
            let unnamed = try await admin.lag(groups: [group])
            #expect(unnamed.groups.first?.topics.isEmpty == true)
            #expect(unnamed.groups.first?.topicSource == .committedOffsets)
        }
    }

    @Test("on librdkafka's mock, listing groups gives none and describing them fails per group, without crashing")
    func listAndDescribeOnTheMock() async throws {
        try await withEmbeddedBroker(engine: .mock) { broker in
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
            // The mock answers ListGroups with "unsupported": none can be listed.
            do {
                #expect(try await admin.consumerGroups(timeout: .seconds(10)).isEmpty)
            } catch let error as KafkaError {
                #expect(error.code == .admin)
                #expect(error.brokerErrorName == "_UNSUPPORTED_FEATURE")
            }
            do {
                let described = try await admin.describeConsumerGroups(["order-manager"], timeout: .seconds(10))
                if case .success(let description)? = described["order-manager"] {
                    Issue.record("the embedded broker described a group: \(description)")
                }
            } catch let error as KafkaError {
                #expect(error.code == .admin)
            }
        }
    }

    @Test("on the native embedded broker, groups are listed and described: members, client ids, hosts and the partitions each holds")
    func listAndDescribeOnTheNativeBroker() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("described")
            try broker.createTopic(topic, partitions: 2)
            let group = uniqueName("g")
            var configuration = consumerConfiguration(broker, group: group, topics: [topic])
            configuration.kafka.clientID = "describe-me"
            let consumer = try KafkaConsumer(configuration: configuration, logger: testLogger)
            try await withRunningConsumer(consumer) {
                let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
                let stable = await eventually(timeout: .seconds(60)) {
                    let described = try? await admin.describeConsumerGroups([group], timeout: .seconds(30))
                    guard case .success(let description)? = described?[group] else { return false }
                    return description.state == "Stable" && description.members.first?.partitions.count == 2
                }
                try #require(stable, "the group is described as Stable with its member holding both partitions")
                #expect(try await admin.consumerGroups(timeout: .seconds(30)).contains(group))
                let described = try await admin.describeConsumerGroups([group], timeout: .seconds(30))
                let description = try #require(try described[group]?.get())
                let member = try #require(description.members.first)
                #expect(description.members.count == 1)
                #expect(member.clientID == "describe-me")
                #expect(member.host == "/127.0.0.1")
                #expect(Set(member.partitions) == [KafkaTopicPartition(topic: topic, partition: 0), KafkaTopicPartition(topic: topic, partition: 1)])
            }
        }
    }
}
