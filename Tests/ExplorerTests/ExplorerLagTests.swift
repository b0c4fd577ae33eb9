import Explorer
import Foundation
import Kafka
import KafkaTestSupport
import TestSupport
import LagMonitor
import LagStatus
import Testing

/// The consumer-lag page and `GET /api/lag`: an explorer whose lag monitor samples real groups
/// of an embedded broker.
@Suite("Explorer: the consumer lag page", .timeLimit(.minutes(5)))
struct ExplorerLagTests {
    /// A topic of two partitions (10 and 5 records); group `behind` committed 6 and 2 of them
    /// (lag 4 and 3), group `caughtUp` all of them.
    struct Groups {
        let topic: String
        let behind: String
        let caughtUp: String
    }

    /// Makes the groups, then runs an explorer with a lag monitor over them (sampling every
    /// 300 ms; a window long enough that a stopped group stays STALL through the test).
    func withLagExplorer(historyLimit: Int = 120, _ body: (RunningExplorer, Groups) async throws -> Void) async throws {
        let groups = Groups(topic: uniqueName("lagpage"), behind: uniqueName("behind"), caughtUp: uniqueName("caught-up"))
        try await withEmbeddedBroker(topics: [KafkaTopicDefinition(name: groups.topic, partitions: 2)]) { broker in
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let records = (0..<15).map { index in
                KafkaProducerRecord(topic: groups.topic, partition: index < 10 ? 0 : 1, key: "k\(index)", value: Array("record \(index)".utf8))
            }
            for outcome in try await producer.send(records) { _ = try outcome.get() }
            await producer.close()
            try await commit(broker, admin, group: groups.behind, topic: groups.topic, next: [0: 6, 1: 2])
            try await commit(broker, admin, group: groups.caughtUp, topic: groups.topic, next: [0: 10, 1: 5])

            var configuration = LagMonitor.Configuration()
            configuration.interval = .milliseconds(300)
            configuration.rules = LagRules(window: 600, minimumSamples: 3)
            configuration.groups = [groups.behind, groups.caughtUp]
            // The embedded broker cannot list groups; what the explorer does in `up` all the same.
            configuration.includeListedGroups = true
            configuration.historyLimit = historyLimit
            let monitor = LagMonitor(admin: admin, configuration: configuration, logger: testLogger)
            try await withExplorer(lagMonitor: monitor) { explorer in
                try await body(explorer, groups)
            }
        }
    }

    /// A member of `group` reads all 15 records, then commits `next` (partition: next offset).
    func commit(_ broker: EmbeddedBroker, _ admin: KafkaAdmin, group: String, topic: String, next: [Int32: Int64]) async throws {
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
        _ = try await withRunningConsumer(consumer) {
            let received = await collect(consumer, count: 15, timeout: .seconds(60), storeOffsets: false)
            try #require(received.count == 15, "read \(received.count) of 15")
            consumer.storeOffsets(lastProcessed: Dictionary(uniqueKeysWithValues: next.map { (KafkaTopicPartition(topic: topic, partition: $0.key), $0.value - 1) }))
        }
        let partitions = next.keys.map { KafkaTopicPartition(topic: topic, partition: $0) }
        let committed = await eventually(timeout: .seconds(60)) {
            guard let offsets = try? await admin.committedOffsets(group: group, partitions: partitions) else { return false }
            return next.allSatisfy { offsets[KafkaTopicPartition(topic: topic, partition: $0.key)] == $0.value }
        }
        try #require(committed, "the offsets of \(group) never became \(next)")
    }

    /// `/api/lag` as an object.
    func lag(_ explorer: RunningExplorer) async throws -> [String: Any] {
        let answer = try await explorer.get("/api/lag")
        try #require(answer.status == 200, "\(answer.status) \(answer.text)")
        #expect(answer.headers["content-type"]?.hasPrefix("application/json") == true)
        return try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])
    }

    static func group(_ name: String, in document: [String: Any]) -> [String: Any]? {
        (document["groups"] as? [[String: Any]])?.first { $0["group"] as? String == name }
    }

    static func partitions(of group: [String: Any]?) -> [[String: Any]] {
        ((group?["partitions"] as? [[String: Any]]) ?? []).sorted { ($0["partition"] as? Int ?? 0) < ($1["partition"] as? Int ?? 0) }
    }

    static func int(_ value: Any?) -> Int64? { (value as? NSNumber)?.int64Value }

    /// Waits until the group `behind` was judged STALL with at least `samples` samples per partition.
    func waitForStall(_ explorer: RunningExplorer, _ groups: Groups, samples: Int) async throws -> [String: Any] {
        var document: [String: Any] = [:]
        let judged = await eventually(timeout: .seconds(90)) {
            guard let read = try? await lag(explorer) else { return false }
            document = read
            let behind = Self.group(groups.behind, in: read)
            let partitions = Self.partitions(of: behind)
            return behind?["status"] as? String == "STALL" && partitions.count == 2
                && partitions.allSatisfy { ($0["history"] as? [Any])?.count ?? 0 >= samples }
        }
        try #require(judged, "the group never became STALL with \(samples) samples: \(document)")
        return document
    }

    @Test("/api/lag reports each partition's exact remaining lag, offsets, status and recent samples")
    func apiReportsTheExactLag() async throws {
        try await withLagExplorer { explorer, groups in
            let document = try await waitForStall(explorer, groups, samples: 3)
            #expect(document["enabled"] as? Bool == true)
            #expect(Self.int(document["sampledAt"]) ?? 0 > 1_600_000_000_000_000)  // microseconds
            #expect(document["error"] is NSNull)
            #expect(Self.int(document["historyLimit"]) == 120)

            let behind = try #require(Self.group(groups.behind, in: document))
            #expect(Self.int(behind["lag"]) == 7)
            #expect(Self.int(behind["members"]) == 0, "described by the broker: committed offsets, no member")
            #expect(Self.int(behind["rebalancesObserved"]) == 0)
            #expect((behind["reason"] as? String)?.contains("has not moved") == true, "\(behind["reason"] ?? "")")
            let rows = Self.partitions(of: behind)
            for (row, (committed, logEnd, lag)) in zip(rows, [(Int64(6), Int64(10), Int64(4)), (2, 5, 3)]) {
                #expect(row["topic"] as? String == groups.topic)
                #expect(Self.int(row["committed"]) == committed)
                #expect(Self.int(row["logEnd"]) == logEnd)
                #expect(Self.int(row["lag"]) == lag)
                #expect(row["status"] as? String == "STALL")
                // The embedded broker cannot describe groups: no owner, rather than a made-up one.
                #expect(row["owner"] is NSNull)
                #expect((row["lagSeconds"] as? NSNumber)?.doubleValue ?? -1 >= 0)
                let history = try #require(row["history"] as? [[String: Any]])
                #expect(history.allSatisfy { Self.int($0["lag"]) == lag && Self.int($0["time"]) != nil && $0["lagSeconds"] != nil })
                let times = history.compactMap { Self.int($0["time"]) }
                #expect(times == times.sorted())
            }

            let caughtUp = try #require(Self.group(groups.caughtUp, in: document))
            #expect(caughtUp["status"] as? String == "OK")
            #expect(Self.int(caughtUp["lag"]) == 0)
            #expect(Self.partitions(of: caughtUp).map { Self.int($0["lag"]) } == [0, 0])
            #expect(Self.partitions(of: caughtUp).map { Self.int($0["committed"]) } == [10, 5])
        }
    }

    @Test("each partition keeps at most historyLimit recent samples")
    func historyIsBounded() async throws {
        try await withLagExplorer(historyLimit: 4) { explorer, groups in
            let first = try await waitForStall(explorer, groups, samples: 4)
            let firstSample = Self.int(first["sampledAt"]) ?? 0
            // Three rounds later, still the last four.
            var later: [String: Any] = [:]
            let moved = await eventually(timeout: .seconds(60)) {
                guard let read = try? await lag(explorer) else { return false }
                later = read
                let rows = Self.partitions(of: Self.group(groups.behind, in: read))
                let oldest = rows.first.flatMap { ($0["history"] as? [[String: Any]])?.first }.flatMap { Self.int($0["time"]) } ?? 0
                return oldest > firstSample
            }
            try #require(moved, "the history never moved on")
            #expect(Self.int(later["historyLimit"]) == 4)
            for group in [groups.behind, groups.caughtUp] {
                for row in Self.partitions(of: Self.group(group, in: later)) {
                    #expect((row["history"] as? [Any])?.count == 4)
                }
            }
        }
    }

    @Test("without Kafka brokers /api/lag and the page say that lag monitoring is off and how to turn it on")
    func offWithoutBrokers() async throws {
        try await withExplorer { explorer in
            let document = try await lag(explorer)
            #expect(document["enabled"] as? Bool == false)
            #expect((document["reason"] as? String)?.contains("off") == true)
            #expect((document["remedy"] as? String)?.contains("KAFKA_BROKERS") == true)
            #expect(document["groups"] == nil)
            let page = try await explorer.get("/lag")
            #expect(page.status == 200)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("data-page=\"lag\""))

            guard Chromium.isAvailable else { return }
            let dom = try await offThePool { try Chromium.dumpDOM(url: explorer.uiURL + "/lag", virtualTimeBudgetMS: 5_000) }
            #expect(dom.contains("Lag monitoring is off"))
            #expect(dom.contains("KAFKA_BROKERS=host:port ordertrace explorer"))
            let screenshot = testOutputFolder().appendingPathComponent("explorer-lag-off.png")
            try await offThePool { try Chromium.screenshot(url: explorer.uiURL + "/lag", to: screenshot.path, width: 1400, height: 600, virtualTimeBudgetMS: 5_000) }
            // The start page links to it.
            let start = try await explorer.get("/")
            #expect(start.text.contains("href=\"lag\""))
        }
    }

    @Test(
        "headless Chromium shows each group, its partitions with offsets, lag, status and sparklines",
        .enabled(if: Chromium.isAvailable, "Chromium is not installed (make test installs it)"))
    func pageShowsGroupsPartitionsAndSparklines() async throws {
        try await withLagExplorer { explorer, groups in
            // Enough samples for lines (not only dots) in the sparklines.
            _ = try await waitForStall(explorer, groups, samples: 6)
            let url = explorer.uiURL + "/lag"
            var dom = ""
            let rendered = await eventually(timeout: .seconds(120)) {
                dom = (try? await offThePool { try Chromium.dumpDOM(url: url, virtualTimeBudgetMS: 5_000) }) ?? ""
                return dom.contains("class=\"lag-row")
            }
            try #require(rendered, "the page never showed a partition row:\n\(dom.prefix(3000))")
            let count = ExplorerUITests.count
            // A section per group, coloured by its status.
            #expect(count(#"<section class="panel lag-group st-stall" data-group="\#(groups.behind)" data-status="STALL""#, dom) == 1)
            #expect(count(#"<section class="panel lag-group st-ok" data-group="\#(groups.caughtUp)" data-status="OK""#, dom) == 1)
            #expect(dom.contains(">\(groups.behind)</h2>"))
            // A row per partition of each group: 2 + 2, with the exact lag of each.
            #expect(count(#"<tr class="lag-row st-stall" data-topic="\#(groups.topic)""#, dom) == 2)
            #expect(count(#"<tr class="lag-row st-ok" data-topic="\#(groups.topic)""#, dom) == 2)
            #expect(count(#"<td class="n lag" data-lag="4">4</td>"#, dom) == 1)
            #expect(count(#"<td class="n lag" data-lag="3">3</td>"#, dom) == 1)
            #expect(count(#"<td class="n lag" data-lag="0">0</td>"#, dom) == 2)
            // An owner column: the broker describes the groups, which have committed offsets but no
            // member, so no partition has an owner (said on hover).
            #expect(count(#"<th class="c-owner">Owner</th>"#, dom) == 2)
            #expect(count(#"<td class="owner" data-owner="none"><span class="none" title="no member holds the partition">none</span>"#, dom) == 4)
            #expect(count(#"<span class="lag-status st-stall" data-status="STALL">STALL</span>"#, dom) >= 3)
            #expect(dom.contains("has not moved"))
            // Two sparklines per row, drawn as lines.
            #expect(count(#"<svg class="spark spark-lag""#, dom) == 4)
            #expect(count(#"<svg class="spark spark-seconds""#, dom) == 4)
            #expect(count(#"<polyline class="line" points="[0-9.]+,[0-9.]+ [0-9.]+,"#, dom) >= 4)
            #expect(!dom.contains("Lag monitoring is off"))

            let screenshot = testOutputFolder().appendingPathComponent("explorer-lag.png")
            try await offThePool { try Chromium.screenshot(url: url, to: screenshot.path, width: 1600, height: 900, virtualTimeBudgetMS: 5_000) }
            let size = (try FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? NSNumber)?.intValue ?? 0
            #expect(size > 20_000)
        }
    }
}
