import Foundation
import Glibc
import Kafka
import KafkaTestSupport
import OrderModel
import Synchronization
import Testing

/// `ordertrace order-manager` as a real process against an embedded broker, stopped by real
/// signals: whatever happens to it, every client order ends up in exactly one batch.
///
/// Each scenario puts a slow order (a symbol nothing else trades, so its batch stays open for the
/// whole test) at the head of each partition: the offsets stored for a partition cannot pass it,
/// so every order batched after it is read again by the next owner of the partition.
@Suite("Order manager across restarts and rebalances", .serialized, .timeLimit(.minutes(10)))
struct OrderManagerRestartTests {
    @Test("SIGTERM with orders pooled and others batched, then a restart: each order in exactly one batch")
    func gracefulRestart() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        try await withRestartScenario { scenario in
            let first = try scenario.startOrderManager()
            defer { first.killNow() }
            var expected: [OrderKey] = []
            expected += try await scenario.send(partition: 0, symbol: "SLOWA", count: 1)
            expected += try await scenario.send(partition: 1, symbol: "SLOWB", count: 1)
            expected += try await scenario.send(partition: 0, symbol: "AAPL", count: 7)
            expected += try await scenario.send(partition: 1, symbol: "MSFT", count: 4)
            // AAPL 1-3, AAPL 4-6, MSFT 1-3 batched; AAPL 7, MSFT 4 and both slow orders pooled.
            let batched = await eventually(timeout: .seconds(120)) { scenario.recorder.batches.count >= 3 }
            try #require(batched, "\(scenario.recorder.batches.map(\.batchId))\n\(first.log)")

            let status = await terminate(first)
            #expect(status == 0, "\(first.log)")

            let second = try scenario.startOrderManager()
            defer { second.killNow() }
            expected += try await scenario.finish(with: second)
            scenario.expectEachOrderOnce(expected, logs: [first, second])
        }
    }

    @Test("SIGKILL while orders stream in, then a restart: each order in exactly one batch")
    func crashMidStream() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        try await withRestartScenario { scenario in
            let first = try scenario.startOrderManager()
            defer { first.killNow() }
            var expected: [OrderKey] = []
            expected += try await scenario.send(partition: 0, symbol: "SLOWA", count: 1)
            expected += try await scenario.send(partition: 1, symbol: "SLOWB", count: 1)
            // The kill comes after the first half of the stream and before its last quarter.
            let progress = Mutex((rounds: 0, killed: false))
            let stream = Task {
                var keys: [OrderKey] = []
                for round in 0..<20 {
                    if round == 15 { _ = await eventually(timeout: .seconds(120)) { progress.withLock { $0.killed } } }
                    keys += try await scenario.send(partition: Int32(round % 2), symbol: "FAST\(round % 2)", count: 10)
                    progress.withLock { $0.rounds = round + 1 }
                }
                return keys
            }
            let batched = await eventually(timeout: .seconds(120)) {
                scenario.recorder.batches.count >= 6 && progress.withLock { $0.rounds >= 10 }
            }
            kill(first.process.processIdentifier, SIGKILL)
            progress.withLock { $0.killed = true }
            expected += try await stream.value
            try #require(batched, "\(scenario.recorder.batches.map(\.batchId))\n\(first.log)")
            _ = await terminate(first)

            let second = try scenario.startOrderManager()
            defer { second.killNow() }
            expected += try await scenario.finish(with: second)
            scenario.expectEachOrderOnce(expected, logs: [first, second])
        }
    }

    @Test("two members of one group, one stops, the other takes its partitions: each order in exactly one batch")
    func rebalance() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        try await withRestartScenario { scenario in
            let first = try scenario.startOrderManager()
            defer { first.killNow() }
            let second = try scenario.startOrderManager()
            defer { second.killNow() }
            // Both in the group (each was given its share, maybe none) before anything happens:
            // a member still starting when it is stopped would die of the signal, not leave.
            let joined = await eventually(timeout: .seconds(120)) {
                first.log.contains("assigned ") && second.log.contains("assigned ")
            }
            try #require(joined, "\(first.log)\n\(second.log)")
            var expected: [OrderKey] = []
            expected += try await scenario.send(partition: 0, symbol: "SLOWA", count: 1)
            expected += try await scenario.send(partition: 1, symbol: "SLOWB", count: 1)
            expected += try await scenario.send(partition: 0, symbol: "AAPL", count: 7)
            expected += try await scenario.send(partition: 1, symbol: "MSFT", count: 7)
            let batched = await eventually(timeout: .seconds(120)) { scenario.recorder.batches.count >= 4 }
            try #require(batched, "\(scenario.recorder.batches.map(\.batchId))\n\(first.log)\n\(second.log)")

            // Whichever member holds partitions, the first one leaves: the other takes them all.
            let status = await terminate(first)
            #expect(status == 0, "\(first.log)")
            expected += try await scenario.finish(with: second)
            scenario.expectEachOrderOnce(expected, logs: [first, second])
        }
    }
}

/// One test's broker, topics and batches read so far.
struct RestartScenario: Sendable {
    let broker: EmbeddedBroker
    let prefix: String
    let producer: KafkaProducer
    let recorder: Recorder
    let admin: KafkaAdmin
    let orderNumber = Counter()

    var clientOrders: String { prefix + "client-orders" }
    var batches: String { prefix + "batches" }

    final class Counter: Sendable {
        let value = Mutex(0)
        func next() -> Int { value.withLock { $0 += 1; return $0 } }
    }

    /// `ordertrace order-manager` on this scenario's topics: batches of at most 3 orders that
    /// otherwise stay open for 10 minutes.
    func startOrderManager() throws -> LoggedProcess {
        try LoggedProcess(
            executable: ordertrace.path, arguments: ["order-manager"],
            environment: [
                "KAFKA_BROKERS": broker.bootstrapServers, "ORDERTRACE_TOPIC_PREFIX": prefix,
                "BATCH_MAX_ORDERS": "3", "BATCH_LINGER_MS": "600000", "OTEL_SDK_DISABLED": "true",
                "METRICS_PORT": nil, "ORDERTRACE_PARENT_PID": nil, "KAFKA_PROPERTIES": nil, "KAFKA_PROPERTIES_FILE": nil,
            ])
    }

    /// Sends `count` market orders of `symbol` to one partition and waits for their delivery.
    func send(partition: Int32, symbol: String, count: Int) async throws -> [OrderKey] {
        var keys: [OrderKey] = []
        for _ in 0..<count {
            let order = ClientOrder(
                clientOrderId: "c-\(orderNumber.next())", userId: "u-\(symbol.lowercased())", symbol: symbol, side: .buy, quantity: 10,
                orderType: .market)
            _ = try await producer.send(KafkaProducerRecord(topic: clientOrders, partition: partition, key: symbol, value: order.encodeJSON()))
            keys.append(OrderKey(userId: order.userId, clientOrderId: order.clientOrderId))
        }
        return keys
    }

    /// Sends a full batch's worth of orders to each partition, waits until both batches are out
    /// (so everything before them was handled), stops `last` with SIGTERM (which closes what is
    /// still pooled) and waits until every batch on the topic has been read.
    func finish(with last: LoggedProcess) async throws -> [OrderKey] {
        let endA = try await send(partition: 0, symbol: "ENDA", count: 3)
        let endB = try await send(partition: 1, symbol: "ENDB", count: 3)
        let ended = await eventually(timeout: .seconds(180)) {
            let symbols = Set(recorder.batches.map(\.symbol))
            return symbols.contains("ENDA") && symbols.contains("ENDB")
        }
        try #require(ended, "\(recorder.batches.map(\.batchId))\n\(last.log)")
        let status = await terminate(last)
        #expect(status == 0, "\(last.log)")
        let partitions = [0, 1].map { KafkaTopicPartition(topic: batches, partition: $0) }
        let end = try await admin.watermarks(of: partitions).values.reduce(0) { $0 + $1.high }
        let allRead = await eventually(timeout: .seconds(60)) { recorder.count >= end }
        #expect(allRead, "read \(recorder.count) of \(end) batches")
        return endA + endB
    }

    func expectEachOrderOnce(_ expected: [OrderKey], logs: [LoggedProcess]) {
        var appearances: [OrderKey: [String]] = [:]
        for batch in recorder.batches {
            for member in batch.members { appearances[member.orderKey, default: []].append(batch.batchId) }
        }
        let twice = appearances.filter { $0.value.count > 1 }
        let missing = expected.filter { appearances[$0] == nil }
        #expect(twice.isEmpty, "batched more than once: \(twice.sorted { $0.key.clientOrderId < $1.key.clientOrderId }.prefix(20))\n\(logs.map(\.log).joined(separator: "\n"))")
        #expect(missing.isEmpty, "never batched: \(missing.prefix(20))\n\(logs.map(\.log).joined(separator: "\n"))")
        #expect(Set(appearances.keys) == Set(expected), "batched orders nobody sent")
    }
}

/// Everything a consumer of its own group read from one topic, as it arrives.
final class Recorder: Sendable {
    private let messages = Mutex<[KafkaMessage]>([])

    func append(_ batch: [KafkaMessage]) { messages.withLock { $0 += batch } }
    var count: Int { messages.withLock { $0.count } }
    var batches: [Batch] { messages.withLock { $0 }.compactMap { try? Batch(json: $0.value) } }
}

func withRestartScenario(_ body: (RestartScenario) async throws -> Void) async throws {
    try await withEmbeddedBroker { broker in
        let prefix = uniqueName("om") + "-"
        for name in ["client-orders", "batches", "order-updates", "dead-letters"] {
            try broker.createTopic(prefix + name, partitions: 2)
        }
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]), logger: testLogger)
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(broker, group: uniqueName("read"), topics: [prefix + "batches"]), logger: testLogger)
        let recorder = Recorder()
        try await withRunningConsumer(consumer) {
            let reading = Task {
                for await batch in consumer.batches() { recorder.append(batch) }
            }
            defer { reading.cancel() }
            try await body(RestartScenario(broker: broker, prefix: prefix, producer: producer, recorder: recorder, admin: admin))
        }
        await producer.close()
    }
}

/// SIGTERM, then waits up to 90 s for the exit (SIGKILL after that); the exit status, or nil
/// when it had to be killed. A process that already ended gives its status.
func terminate(_ process: LoggedProcess) async -> Int32? {
    if process.process.isRunning { kill(process.process.processIdentifier, SIGTERM) }
    let exited = await eventually(timeout: .seconds(90)) { !process.process.isRunning }
    if !exited {
        kill(process.process.processIdentifier, SIGKILL)
        _ = await eventually(timeout: .seconds(30)) { !process.process.isRunning }
        return nil
    }
    return process.process.terminationReason == .exit ? process.process.terminationStatus : nil
}
