import Kafka
import KafkaTestSupport
import LagMonitor
import LagStatus
import Testing

/// The status rules on real groups of the embedded broker. Samples are taken at given times
/// (seconds), so a window of 60 s is crossed without waiting: what changes between samples is
/// what the test does to the group and the topic.
@Suite("Lag monitor: status transitions from real groups", .timeLimit(.minutes(4)))
struct LagMonitorTests {
    struct Fixture {
        let broker: EmbeddedBroker
        let topic: String
        let group: String
        let admin: KafkaAdmin
        let monitor: LagMonitor

        /// Sends `count` records to partition 0, each `size` bytes.
        func produce(_ count: Int, size: Int = 16) async throws {
            // Uncompressed: the LOSS test fills a partition past what the broker keeps.
            var configuration = producerConfiguration(broker)
            configuration.compression = "none"
            let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
            let records = (0..<count).map { _ in KafkaProducerRecord(topic: topic, partition: 0, key: "k", value: [UInt8](repeating: 0x61, count: size)) }
            for outcome in try await producer.send(records) { _ = try outcome.get() }
            await producer.close()
        }

        /// A member of the group reads the `available` records from its committed offset and
        /// commits `offset` (which may be lower than where it was: a rewind).
        func commit(_ offset: Int64, reading available: Int) async throws {
            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
            _ = try await withRunningConsumer(consumer) {
                let received = await collect(consumer, count: available, storeOffsets: false)
                try #require(received.count == available, "read \(received.count) of \(available)")
                consumer.storeOffsets(lastProcessed: [KafkaTopicPartition(topic: topic, partition: 0): offset - 1])
            }
            let committed = await eventually(timeout: .seconds(30)) {
                (try? await admin.committedOffsets(group: group, partitions: [KafkaTopicPartition(topic: topic, partition: 0)]))?.first?.value == offset
            }
            try #require(committed, "the group's offset never became \(offset)")
        }

        func state(at time: Double) async throws -> LagEvaluation {
            let snapshot = try await monitor.sample(at: time)
            return try #require(snapshot.groups[group])
        }
    }

    func withFixture(historyLimit: Int = 120, _ body: (Fixture) async throws -> Void) async throws {
        let topic = uniqueName("lagmon")
        let group = uniqueName("g")
        // The broker keeps 4 MB of a partition, so that a test can push records out.
        try await withEmbeddedBroker(topics: [KafkaTopicDefinition(name: topic, partitions: 1)], retainedBytesPerPartition: 4 * 1024 * 1024) { broker in
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
            var configuration = LagMonitor.Configuration()
            configuration.groups = [group]
            configuration.topics = [topic]
            configuration.includeListedGroups = false
            configuration.rules = LagRules(window: 60, minimumSamples: 3)
            configuration.historyLimit = historyLimit
            let monitor = LagMonitor(admin: admin, configuration: configuration, logger: testLogger)
            try await body(Fixture(broker: broker, topic: topic, group: group, admin: admin, monitor: monitor))
        }
    }

    @Test("OK while caught up, WARN while the lag grows at every sample, OK once caught up")
    func okWarnOk() async throws {
        try await withFixture { fixture in
            try await fixture.produce(10)
            try await fixture.commit(10, reading: 10)
            #expect(try await fixture.state(at: 0).state == .ok)
            #expect(try await fixture.state(at: 10).state == .ok)
            // The consumer moves, but less than what arrives.
            try await fixture.produce(10)
            try await fixture.commit(12, reading: 10)
            #expect(try await fixture.state(at: 70).state == .ok)  // 0 still in the window
            try await fixture.produce(10)
            try await fixture.commit(14, reading: 18)
            // Two samples in the window so far: too few to judge.
            #expect(try await fixture.state(at: 80).state == .ok)
            try await fixture.produce(10)
            try await fixture.commit(16, reading: 26)
            let warn = try await fixture.state(at: 90)
            #expect(warn.state == .warn, "\(warn.reason)")
            try await fixture.commit(40, reading: 24)
            #expect(try await fixture.state(at: 100).state == .ok)
        }
    }

    @Test("a consumer that stops with records waiting is STALL, then STOP after the window, then OK when it resumes")
    func stallStopOk() async throws {
        try await withFixture { fixture in
            try await fixture.produce(20)
            try await fixture.commit(5, reading: 20)
            for time in [0.0, 10, 20] {
                _ = try await fixture.state(at: time)
            }
            let stalled = try await fixture.state(at: 30)
            #expect(stalled.state == .stall, "\(stalled.reason)")
            let stopped = try await fixture.state(at: 75)
            #expect(stopped.state == .stop, "\(stopped.reason)")
            try await fixture.commit(20, reading: 15)
            #expect(try await fixture.state(at: 85).state == .ok)
        }
    }

    @Test("a committed offset that goes back is REWIND")
    func rewind() async throws {
        try await withFixture { fixture in
            try await fixture.produce(20)
            try await fixture.commit(15, reading: 20)
            _ = try await fixture.state(at: 0)
            try await fixture.commit(5, reading: 5)
            let rewound = try await fixture.state(at: 10)
            #expect(rewound.state == .rewind, "\(rewound.reason)")
            #expect(rewound.reason.contains("15 to 5"))
        }
    }

    @Test("records the broker deleted before the group read them are LOSS")
    func loss() async throws {
        try await withFixture { fixture in
            try await fixture.produce(10)
            try await fixture.commit(2, reading: 10)
            #expect(try await fixture.state(at: 0).state != .loss)
            // The broker keeps 4 MB of the partition here: 8 MB more pushes the first offset
            // past the group's.
            for _ in 0..<8 {
                try await fixture.produce(1000, size: 1024)
            }
            let first = try await fixture.admin.watermarks(topic: fixture.topic, partition: 0).low
            try #require(first > 2, "the broker deleted nothing (first offset \(first))")
            let lost = try await fixture.state(at: 10)
            #expect(lost.state == .loss, "\(lost.reason)")
            #expect(lost.reason.contains("deleted unread"))
        }
    }

    @Test("each partition keeps its last historyLimit samples for charts, and the overview carries them")
    func recentSamplesAreBounded() async throws {
        try await withFixture(historyLimit: 3) { fixture in
            let key = LagMonitor.PartitionKey(group: fixture.group, topic: fixture.topic, partition: 0)
            #expect(fixture.monitor.recentSamples(of: key).isEmpty)
            #expect(fixture.monitor.lagOverview().sampledAtMilliseconds == nil)
            try await fixture.produce(10)
            try await fixture.commit(4, reading: 10)
            for time in [0.0, 10, 20] {
                _ = try await fixture.state(at: time)
            }
            try await fixture.produce(5)
            for time in [30.0, 40] {
                _ = try await fixture.state(at: time)
            }
            let samples = fixture.monitor.recentSamples(of: key)
            #expect(samples.map(\.lag) == [6, 11, 11])
            #expect(samples.map(\.timeMilliseconds) == samples.map(\.timeMilliseconds).sorted())
            #expect(samples.allSatisfy { ($0.lagSeconds ?? -1) >= 0 })

            let overview = fixture.monitor.lagOverview()
            #expect(overview.historyLimit == 3)
            #expect(overview.failure == nil)
            let group = try #require(overview.groups.first { $0.name == fixture.group })
            #expect(group.evaluation.state == .stall)
            #expect(group.lag == 11)
            let partition = try #require(group.partitions.first)
            #expect(partition.committed == 4)
            #expect(partition.logEnd == 15)
            #expect(partition.history == samples)
        }
    }

    @Test("its Prometheus text holds each partition's lag, lag seconds and current status, and every status of the group")
    func prometheusText() async throws {
        try await withFixture { fixture in
            #expect(fixture.monitor.prometheusText().isEmpty, "nothing before the first round")
            try await fixture.produce(7)
            try await fixture.commit(3, reading: 7)
            _ = try await fixture.state(at: 0)
            let lines = Set(fixture.monitor.prometheusText().split(separator: "\n").map(String.init))
            let partition = #"group="\#(fixture.group)",topic="\#(fixture.topic)",partition="0""#
            #expect(lines.contains("kafka_consumergroup_group_lag{\(partition)} 4"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("kafka_consumergroup_group_lag_seconds{\(partition)} ") })
            #expect(lines.contains(#"kafka_consumergroup_group_max_lag{group="\#(fixture.group)"} 4"#))
            #expect(lines.contains(#"ordertrace_consumergroup_status{\#(partition),status="OK"} 1"#))
            #expect(lines.filter { $0.hasPrefix("ordertrace_consumergroup_status{") }.count == 1, "only the current status")
            let groupStatus = lines.filter { $0.hasPrefix("ordertrace_consumergroup_group_status{") }
            #expect(groupStatus.count == LagState.allCases.count)
            #expect(groupStatus.filter { $0.hasSuffix(" 1") } == [#"ordertrace_consumergroup_group_status{group="\#(fixture.group)",status="OK"} 1"#])
            for family in ["kafka_consumergroup_group_lag", "kafka_consumergroup_group_lag_seconds", "ordertrace_consumergroup_status"] {
                #expect(lines.contains("# TYPE \(family) gauge"))
            }
        }
    }
}
