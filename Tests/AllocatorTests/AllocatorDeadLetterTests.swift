import Allocator
import Foundation
import Kafka
import KafkaTestSupport
import OrderModel
import Pipeline
import TestSupport
import Testing

@Suite("Allocator: a fill the store refuses is dead-lettered, not fatal", .timeLimit(.minutes(3)))
struct AllocatorDeadLetterTests {
    static let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    static func batch(_ id: String) -> Batch {
        Batch(
            batchId: id, symbol: "AAPL", side: .buy,
            members: [
                Batch.Member(clientOrderId: "\(id)-c1", userId: "alice", quantity: 30, traceparent: traceparent),
                Batch.Member(clientOrderId: "\(id)-c2", userId: "bob", quantity: 70, traceparent: traceparent),
            ],
            closeReason: .size, openedAt: "2026-11-30T09:30:00.000Z", closedAt: "2026-11-30T09:30:00.050Z")
    }

    static func fill(_ id: String, batch: String, quantity: Int64, cumulative: Int64) -> Fill {
        Fill(
            fillId: id, exchangeOrderId: "x-\(batch)-0", batchId: batch, symbol: "AAPL", side: .buy, quantity: quantity,
            price: Price(ticks: 1_900_000), cumulativeQuantity: cumulative, leavesQuantity: 100 - cumulative,
            status: cumulative == 100 ? .filled : .partiallyFilled)
    }

    @Test("a fill whose id was applied to another batch goes to dead-letters; the allocator keeps serving, also after a restart")
    func reusedFillIDIsDeadLettered() async throws {
        let database = temporaryFilePath("allocator-dead-letter", extension: "sqlite")
        defer { removeFiles(derivedFrom: database) }
        try await withEmbeddedBroker { broker in
            let topics = PipelineTopics(prefix: uniqueName("dl") + "-")
            for topic in topics.all + [topics.allocatorChangelog] { try broker.createTopic(topic, partitions: 1) }
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let group = uniqueName("allocator")
            var configuration = AllocatorConfiguration()
            configuration.topics = topics
            configuration.databasePath = database
            func runAllocator() throws -> Task<Void, Error> {
                let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topics.batches, topics.fills]), logger: testLogger)
                let allocator = Allocator(configuration: configuration, consumer: consumer, producer: producer, logger: testLogger)
                return Task { try await allocator.run() }
            }
            func send(_ batch: Batch) async throws {
                try await producer.send(KafkaProducerRecord(topic: topics.batches, key: "AAPL", value: batch.encodeJSON()))
            }
            func send(_ fill: Fill) async throws -> [UInt8] {
                let value = fill.encodeJSON()
                try await producer.send(KafkaProducerRecord(topic: topics.fills, key: "AAPL", value: value))
                return value
            }
            let updates = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("updates"), topics: [topics.orderUpdates]), logger: testLogger)
            let deadLetters = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("dead"), topics: [topics.deadLetters]), logger: testLogger)
            try await withRunningConsumer(updates) {
                try await withRunningConsumer(deadLetters) {
                    let first = try runAllocator()
                    try await send(Self.batch("b-1"))
                    _ = try await send(Self.fill("f-1", batch: "b-1", quantity: 40, cumulative: 40))
                    // Each member's `batched` update when the batch arrives, then the fill's.
                    let firstUpdates = try await collect(updates, count: 4, timeout: .seconds(60)).map { try OrderUpdate(json: $0.value) }
                    #expect(Dictionary(grouping: firstUpdates, by: \.userId).mapValues { $0.map(\.status) } == ["alice": [.batched, .partiallyFilled], "bob": [.batched, .partiallyFilled]])

                    // A second batch, and a fill of it that reuses f-1's id.
                    try await send(Self.batch("b-2"))
                    let bad = try await send(Self.fill("f-1", batch: "b-2", quantity: 40, cumulative: 40))
                    let dead = await collect(deadLetters, count: 1, timeout: .seconds(60))
                    try #require(dead.count == 1)
                    #expect(dead[0].value == bad)
                    #expect(dead[0].headers.string(DeadLetter.errorTypeHeader) == "fill_rejected")
                    #expect(dead[0].headers.string(DeadLetter.errorMessageHeader)?.contains("f-1") == true)
                    #expect(dead[0].headers.string(DeadLetter.sourceTopicHeader) == topics.fills)

                    // The allocator still serves: a valid fill of b-2 is allocated.
                    _ = try await send(Self.fill("f-2", batch: "b-2", quantity: 50, cumulative: 50))
                    let secondUpdates = try await collect(updates, count: 4, timeout: .seconds(60)).map { try OrderUpdate(json: $0.value) }
                    // Per user (each user's updates are in order), b-2's `batched` update, then f-2's.
                    let perUser = Dictionary(grouping: secondUpdates, by: \.userId)
                    #expect(perUser.values.allSatisfy { $0.count == 2 && $0[0].status == .batched && $0[0].batchId == "b-2" && $0[0].fillId == nil })
                    let allocated = perUser.values.compactMap { $0.last }
                    #expect(allocated.count == 2)
                    #expect(allocated.allSatisfy { $0.fillId == "f-2" && $0.batchId == "b-2" })
                    #expect(allocated.map(\.cumulativeQuantity).reduce(0, +) == 50)
                    first.cancel()
                    try? await first.value

                    // No crash loop: a new allocator over the same topics, group and state comes
                    // up and serves.
                    let second = try runAllocator()
                    _ = try await send(Self.fill("f-3", batch: "b-1", quantity: 60, cumulative: 100))
                    let thirdUpdates = try await collect(updates, count: 2, timeout: .seconds(60)).map { try OrderUpdate(json: $0.value) }
                    #expect(thirdUpdates.count == 2)
                    #expect(thirdUpdates.allSatisfy { $0.fillId == "f-3" && $0.status == .filled })
                    second.cancel()
                    try? await second.value
                }
            }
            await producer.close()
        }
    }

    @Test("a fill whose batch never comes goes to dead-letters when its wait is over, with no other record arriving to wake the allocator")
    func aFillWaitingPastItsTimeIsDeadLetteredOnTheTick() async throws {
        let database = temporaryFilePath("allocator-pending", extension: "sqlite")
        defer { removeFiles(derivedFrom: database) }
        try await withEmbeddedBroker { broker in
            let topics = PipelineTopics(prefix: uniqueName("pending") + "-")
            for topic in topics.all + [topics.allocatorChangelog] { try broker.createTopic(topic, partitions: 1) }
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            var configuration = AllocatorConfiguration()
            configuration.topics = topics
            configuration.databasePath = database
            configuration.pendingTimeout = .seconds(1)
            configuration.housekeepingInterval = .milliseconds(200)
            let consumer = try KafkaConsumer(
                configuration: consumerConfiguration(broker, group: uniqueName("allocator"), topics: [topics.batches, topics.fills]), logger: testLogger)
            let allocator = Allocator(configuration: configuration, consumer: consumer, producer: producer, logger: testLogger)
            let deadLetters = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("dead"), topics: [topics.deadLetters]), logger: testLogger)
            let running = Task { try await allocator.run() }
            let value = Self.fill("f-lonely", batch: "b-never", quantity: 10, cumulative: 10).encodeJSON()
            try await producer.send(KafkaProducerRecord(topic: topics.fills, key: "AAPL", value: value))
            let dead = try await withRunningConsumer(deadLetters) { await collect(deadLetters, count: 1, timeout: .seconds(60)) }
            running.cancel()
            try? await running.value
            try #require(dead.count == 1)
            #expect(dead[0].value == value)
            #expect(dead[0].headers.string(DeadLetter.errorTypeHeader) == "batch_missing")
            #expect(dead[0].headers.string(DeadLetter.errorMessageHeader)?.contains("b-never") == true)
            await producer.close()
        }
    }
}
