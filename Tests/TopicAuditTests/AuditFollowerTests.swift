import Kafka
import KafkaTestSupport
import OrderModel
import Pipeline
import Testing
import TopicAudit

/// The follower audits a run longer than the broker keeps: the embedded broker here deletes the
/// oldest records of a partition past 4 MB, and an audit that reads at the end sees only what is
/// left.
@Suite("AuditFollower")
struct AuditFollowerTests {
    static let orders = 12_000

    @Test("reads every record written since it started, also those the broker deleted since")
    func followsPastRetention() async throws {
        let topics = PipelineTopics(prefix: uniqueName("audit"))
        let definitions = [topics.clientOrders, topics.batches, topics.fills, topics.orderUpdates].map { KafkaTopicDefinition(name: $0, partitions: 1) }
        try await withEmbeddedBroker(topics: definitions, retainedBytesPerPartition: 4 * 1024 * 1024) { broker in
            var configuration = producerConfiguration(broker)
            // Uncompressed, so that a few thousand orders pass what the broker keeps.
            configuration.compression = "none"
            let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
            let running = Task { try await producer.run() }
            defer { running.cancel() }
            let kafka = KafkaConfiguration(brokers: [broker.bootstrapServers])

            // An order from before the follower started: not part of its run.
            let earlier = Self.order(-1)
            try await producer.send(KafkaProducerRecord(topic: topics.clientOrders, key: earlier.symbol, value: earlier.encodeJSON()))

            let follower = try await AuditFollower.start(topics: topics, kafka: kafka, logger: testLogger)
            // Each order: received, accepted, then rejected (terminal, nothing executed).
            for start in stride(from: 0, to: Self.orders, by: 1_000) {
                var records: [KafkaProducerRecord] = []
                for index in start..<(start + 1_000) {
                    let order = Self.order(index)
                    records.append(KafkaProducerRecord(topic: topics.clientOrders, key: order.symbol, value: order.encodeJSON()))
                    for status in [OrderStatus.accepted, .rejected] {
                        let update = OrderUpdate(order: order, status: status, reason: status == .rejected ? "test" : nil)
                        records.append(KafkaProducerRecord(topic: topics.orderUpdates, key: order.userId, value: update.encodeJSON()))
                    }
                }
                for result in try await producer.send(records) { _ = try result.get() }
                // About 1 MB a round: the follower reads it before the next, as it would keep
                // up with a pipeline, while the broker deletes the oldest past 4 MB.
                _ = try await follower.snapshot(timeout: .seconds(120))
            }

            let admin = try KafkaAdmin(configuration: kafka, logger: testLogger)
            let updates = try await admin.watermarks(topic: topics.orderUpdates, partition: 0)
            #expect(updates.low > 0, "the broker kept every update, so this test does not pass its retention")

            let followed = try await follower.snapshot(timeout: .seconds(120))
            await follower.stop()
            #expect(followed.clientOrders.count == Self.orders)
            #expect(followed.updates.count == 2 * Self.orders)
            #expect(!followed.clientOrders.contains { $0.clientOrderId == earlier.clientOrderId })
            #expect(followed.violations(requireTerminal: true).isEmpty)

            // Read at the end, the topics no longer hold the first orders' updates.
            let atEnd = try await AuditSnapshot.read(topics: topics, kafka: kafka, timeout: .seconds(120), logger: testLogger)
            #expect(atEnd.updates.count < 2 * Self.orders)
            #expect(atEnd.horizon != nil)
        }
    }

    @Test("an order that has not ended is a violation of the followed run")
    func openOrderIsReported() async throws {
        let topics = PipelineTopics(prefix: uniqueName("audit"))
        let definitions = [topics.clientOrders, topics.batches, topics.fills, topics.orderUpdates].map { KafkaTopicDefinition(name: $0, partitions: 1) }
        try await withEmbeddedBroker(topics: definitions) { broker in
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let running = Task { try await producer.run() }
            defer { running.cancel() }
            let kafka = KafkaConfiguration(brokers: [broker.bootstrapServers])
            let follower = try await AuditFollower.start(topics: topics, kafka: kafka, logger: testLogger)
            let order = Self.order(1)
            try await producer.send(KafkaProducerRecord(topic: topics.clientOrders, key: order.symbol, value: order.encodeJSON()))
            let accepted = OrderUpdate(order: order, status: .accepted)
            try await producer.send(KafkaProducerRecord(topic: topics.orderUpdates, key: order.userId, value: accepted.encodeJSON()))
            let followed = try await follower.snapshot(timeout: .seconds(120))
            await follower.stop()
            #expect(followed.clientOrders.count == 1)
            #expect(!followed.violations(requireTerminal: true).isEmpty)
            #expect(followed.violations(requireTerminal: false).isEmpty)
        }
    }

    static func order(_ index: Int) -> ClientOrder {
        ClientOrder(
            clientOrderId: "c-\(index)", userId: "user-\(index % 7)", symbol: "AAPL", side: index % 2 == 0 ? .buy : .sell,
            quantity: 100, orderType: .market)
    }
}
