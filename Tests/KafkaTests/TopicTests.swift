import Foundation
import Kafka
import KafkaTestSupport
import Testing

/// The repository's `topics/` folder.
let topicsDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("topics").path

@Suite("Topic definitions and topics apply", .timeLimit(.minutes(2)))
struct TopicTests {
    @Test("topics/ defines the pipeline's six topics and the allocator's compacted changelog, co-partitioned, with examples that carry the documented fields")
    func definitionsMatchTheContract() throws {
        let definitions = try KafkaTopicDefinition.load(directory: topicsDirectory)
        #expect(
            definitions.map(\.name).sorted() == ["allocator-changelog", "batches", "client-orders", "dead-letters", "exchange-orders", "fills", "order-updates"])
        #expect(definitions.first { $0.name == "allocator-changelog" }?.config["cleanup.policy"] == "compact")
        #expect(Set(definitions.map(\.partitions)).count == 1, "equal partition counts keep topics co-partitioned by symbol")
        for definition in definitions {
            #expect(definition.config["retention.ms"] != nil, "\(definition.name) states its retention")
            #expect(definition.config["cleanup.policy"] != nil, "\(definition.name) states its cleanup policy")
        }
        for name in ["client-orders", "batches", "exchange-orders", "fills", "order-updates"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(topicsDirectory)/\(name).json"))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let fields = try #require(object["value"] as? [String: Any])
            let example = try #require(object["example"] as? [String: Any])
            let optional = Set(["limitPrice", "batchId", "fillId", "reason"])
            for field in fields.keys where !optional.contains(field) {
                #expect(example[field] != nil, "\(name): the example lacks '\(field)'")
            }
        }
    }

    @Test("a broken definition is reported with its file and the problem")
    func brokenDefinition() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(uniqueName("topics"))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"name":"orders","partitions":0,"replicationFactor":1,"config":{}}"#.utf8).write(to: folder.appendingPathComponent("orders.json"))
        let error = #expect(throws: KafkaError.self) { try KafkaTopicDefinition.load(directory: folder.path) }
        #expect(error?.message.contains("orders.json") == true)
        #expect(error?.message.contains("partitions") == true)

        try Data(#"{"name":"orders","replicationFactor":1,"config":{}}"#.utf8).write(to: folder.appendingPathComponent("orders.json"))
        let missing = #expect(throws: KafkaError.self) { try KafkaTopicDefinition.load(directory: folder.path) }
        #expect(missing?.message.contains("missing field 'partitions'") == true)
    }

    @Test("topics apply --replication-factor and --min-insync-replicas: every definition gets the factor and the minimum, nothing else changes")
    func replicationOverride() throws {
        let definitions = try KafkaTopicDefinition.load(directory: topicsDirectory)
        for definition in definitions {
            let replicated = try definition.replicated(factor: 3, minInSyncReplicas: 2)
            #expect(replicated.replicationFactor == 3)
            #expect(replicated.config["min.insync.replicas"] == "2")
            #expect(replicated.config.filter { $0.key != "min.insync.replicas" } == definition.config, "\(definition.name): other configs changed")
            #expect(replicated.name == definition.name && replicated.partitions == definition.partitions && replicated.key == definition.key)
            // Neither given: the file's definition as it is.
            #expect(try definition.replicated(factor: nil, minInSyncReplicas: nil) == definition)
            // Only the factor: no minimum is invented.
            let factorOnly = try definition.replicated(factor: 3, minInSyncReplicas: nil)
            #expect(factorOnly.replicationFactor == 3 && factorOnly.config == definition.config)
        }
        let topic = try #require(definitions.first)
        // A minimum above the factor would refuse every write with acks=all; below 1 is no minimum.
        let above = #expect(throws: KafkaError.self) { try topic.replicated(factor: 3, minInSyncReplicas: 4) }
        #expect(above?.message.contains("min.insync.replicas") == true && above?.message.contains(topic.name) == true)
        #expect(throws: KafkaError.self) { try topic.replicated(factor: nil, minInSyncReplicas: topic.replicationFactor + 1) }
        #expect(throws: KafkaError.self) { try topic.replicated(factor: 3, minInSyncReplicas: 0) }
        let zero = #expect(throws: KafkaError.self) { try topic.replicated(factor: 0, minInSyncReplicas: nil) }
        #expect(zero?.message.contains("replication factor") == true)
    }

    @Test("the embedded broker creates the defined topics; topics apply twice changes nothing and reports a mismatch")
    func applyTwiceIsANoOp() async throws {
        let definitions = try KafkaTopicDefinition.load(directory: topicsDirectory)
        try await withEmbeddedBroker(topics: definitions) { broker in
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
            let before = try await admin.topics()
            for definition in definitions {
                #expect(before.contains(KafkaTopicMetadata(name: definition.name, partitionCount: definition.partitions)))
            }
            let first = try await admin.apply(definitions)
            let second = try await admin.apply(definitions)
            #expect(first.map(\.1) == Array(repeating: .unchanged, count: definitions.count))
            #expect(second.map(\.1) == first.map(\.1))
            #expect(try await admin.topics() == before)

            var changed = definitions[0]
            changed.partitions += 2
            let outcome = try await admin.apply([changed])
            #expect(outcome.first?.1 == .mismatch(defined: changed.partitions, actual: definitions[0].partitions))
        }
    }

    @Test("the mock's fixed bootstrap address forwards to the cluster, for our client and for kcat")
    func fixedBootstrapAddress() async throws {
        let topic = uniqueName("forwarded")
        let broker = try await EmbeddedBroker.start(
            .init(port: 0, topics: [KafkaTopicDefinition(name: topic, partitions: 3)], engine: .mock), logger: testLogger)
        defer { Task { await broker.stop() } }
        #expect(broker.bootstrapServers != broker.directBootstrapServers)
        #expect(broker.bootstrapServers.hasPrefix("127.0.0.1:"))

        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
        let report = try await producer.send(KafkaProducerRecord(topic: topic, key: "AAPL", value: Array("hello".utf8)))
        #expect(report.offset == 0)
        await producer.close()

        let kcat = Process()
        kcat.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        kcat.arguments = ["-b", broker.bootstrapServers, "-C", "-t", topic, "-p", String(report.partition), "-o", "beginning", "-e", "-q", "-f", "%k=%s\\n"]
        let output = Pipe()
        kcat.standardOutput = output
        try kcat.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        kcat.waitUntilExit()
        #expect(kcat.terminationStatus == 0)
        #expect(text == "AAPL=hello\n")
        await broker.stop()
    }
}

@Suite("Embedded broker", .timeLimit(.minutes(2)))
struct EmbeddedBrokerTests {
    @Test("a cluster of three brokers spreads partition leaders and serves produce and consume")
    func threeBrokers() async throws {
        let topic = uniqueName("three")
        try await withEmbeddedBroker(brokers: 3, topics: [KafkaTopicDefinition(name: topic, partitions: 6, replicationFactor: 3)], engine: .mock) { broker in
            #expect(broker.directBootstrapServers.split(separator: ",").count == 3)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let records = (0..<60).map { KafkaProducerRecord(topic: topic, key: "k\($0)", value: Array("v\($0)".utf8)) }
            let reports = try await producer.send(records).map { try $0.get() }
            #expect(Set(reports.map(\.partition)).count > 1)
            await producer.close()
            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [topic]), logger: testLogger)
            let received = try await withRunningConsumer(consumer) { await collect(consumer, count: 60) }
            #expect(Set(received.map(\.value)) == Set(records.map(\.value)))
        }
    }

    @Test("a taken bootstrap port is a clear error, not a crash")
    func portTaken() async throws {
        let first = try await EmbeddedBroker.start(.init(port: 0), logger: testLogger)
        let port = try #require(Int(first.bootstrapServers.split(separator: ":").last ?? ""))
        let error = await #expect(throws: KafkaError.self) {
            _ = try await EmbeddedBroker.start(.init(port: port), logger: testLogger)
        }
        #expect(error?.message.contains("\(port)") == true)
        await first.stop()
    }
}
