import Foundation
import Kafka
import KafkaTestSupport
import Testing

@Suite("Revokes handed over before the commit; reading a topic since a time", .timeLimit(.minutes(2)))
struct RevocationTests {
    @Test("the close's revoke waits for the handler: offsets it stores before done() are committed")
    func closeWaitsForTheHandler() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("revoke")
            try broker.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            for index in 0..<3 {
                _ = try await producer.send(KafkaProducerRecord(topic: topic, key: "k", value: Array("\(index)".utf8)))
            }
            let group = uniqueName("group")
            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
            let rebalances = consumer.rebalances(revokeTimeout: .seconds(60))
            let running = Task { try await consumer.run() }
            let read = await collect(consumer, count: 3, timeout: .seconds(60), storeOffsets: false)
            #expect(read.count == 3)

            running.cancel()
            var iterator = rebalances.makeAsyncIterator()
            guard case .assigned(let assigned) = try #require(await iterator.next()) else {
                Issue.record("the assignment comes first")
                return
            }
            #expect(assigned == [KafkaTopicPartition(topic: topic, partition: 0)])
            guard case .revoked(let revocation) = try #require(await iterator.next()) else {
                Issue.record("then the close's revoke")
                return
            }
            #expect(revocation.partitions == [KafkaTopicPartition(topic: topic, partition: 0)])
            // Stored while the close waits: the commit that follows carries it.
            consumer.storeOffsets(read)
            revocation.done()
            try await running.value
            #expect(await iterator.next() == nil, "the sequence ends when the consumer is closed")

            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]), logger: testLogger)
            let committed = try await admin.committedOffsets(group: group, partitions: [KafkaTopicPartition(topic: topic, partition: 0)])
            #expect(committed[KafkaTopicPartition(topic: topic, partition: 0)] == 3)
            await producer.close()
        }
    }

    @Test("records(of:since:) reads every partition from a time to its end, headers included")
    func readsSinceATime() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("since")
            try broker.createTopic(topic, partitions: 2)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            for index in 0..<6 {
                _ = try await producer.send(
                    KafkaProducerRecord(topic: topic, partition: Int32(index % 2), key: "k", value: Array("\(index)".utf8), headers: ["n": Array("\(index)".utf8)]))
            }
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]), logger: testLogger)
            let all = try await admin.records(of: topic, since: 0)
            #expect(all.compactMap { $0.headers.string("n") }.sorted() == ["0", "1", "2", "3", "4", "5"])
            let future = try await admin.records(of: topic, since: Int64(Date().timeIntervalSince1970 * 1_000) + 3_600_000)
            #expect(future.isEmpty)
            await producer.close()
        }
    }
}
