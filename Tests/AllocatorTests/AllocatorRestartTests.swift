import Allocator
import Foundation
import Kafka
import KafkaTestSupport
import OrderModel
import Pipeline
import TestSupport
import Testing

@Suite("Allocator across a restart", .timeLimit(.minutes(2)))
struct AllocatorRestartTests {
    /// An allocator of `group` keeping its state at `path`, running until the task is cancelled.
    static func runAllocator(
        _ broker: EmbeddedBroker, topics: PipelineTopics, group: String, path: String, producer: KafkaProducer, maxStepUpdates: Int? = nil
    ) throws -> Task<Void, Error> {
        var configuration = AllocatorConfiguration()
        configuration.topics = topics
        configuration.databasePath = path
        if let maxStepUpdates { configuration.maxStepUpdates = maxStepUpdates }
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topics.batches, topics.fills]), logger: testLogger)
        let allocator = Allocator(configuration: configuration, consumer: consumer, producer: producer, logger: testLogger)
        return Task { try await allocator.run() }
    }

    /// A batch of 100 AAPL: alice's 30 and bob's 70.
    static func batch(_ id: String) -> Batch {
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        return Batch(
            batchId: id, symbol: "AAPL", side: .buy,
            members: [
                Batch.Member(clientOrderId: "c-1", userId: "alice", quantity: 30, traceparent: traceparent),
                Batch.Member(clientOrderId: "c-2", userId: "bob", quantity: 70, traceparent: traceparent),
            ],
            closeReason: .size, openedAt: "2026-11-30T09:30:00.000Z", closedAt: "2026-11-30T09:30:00.050Z")
    }

    @Test(
        "a restarted allocator continues from its stored state, in its own folder or another machine's (rebuilt from the changelog): no update lost, none repeated, a redelivered fill changes nothing",
        arguments: [false, true])
    func restartKeepsEveryUpdateOnce(elsewhere: Bool) async throws {
        let database = temporaryFilePath("allocator-restart", extension: "sqlite")
        let otherDatabase = temporaryFilePath("allocator-restart-elsewhere", extension: "sqlite")
        defer {
            removeFiles(derivedFrom: database)
            removeFiles(derivedFrom: otherDatabase)
        }
        try await withEmbeddedBroker { broker in
            let topics = PipelineTopics(prefix: uniqueName("r") + "-")
            for topic in topics.all + [topics.allocatorChangelog] { try broker.createTopic(topic, partitions: 2) }
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let group = uniqueName("allocator")
            var path = database
            func runAllocator() throws -> Task<Void, Error> {
                try Self.runAllocator(broker, topics: topics, group: group, path: path, producer: producer)
            }
            let batch = Self.batch("b-r1")
            func fill(_ id: String, _ quantity: Int64, cumulative: Int64) -> KafkaProducerRecord {
                let fill = Fill(
                    fillId: id, exchangeOrderId: "x-b-r1-0", batchId: "b-r1", symbol: "AAPL", side: .buy, quantity: quantity,
                    price: Price(ticks: 1_900_000), cumulativeQuantity: cumulative, leavesQuantity: 100 - cumulative,
                    status: cumulative == 100 ? .filled : .partiallyFilled)
                return KafkaProducerRecord(topic: topics.fills, key: "AAPL", value: fill.encodeJSON())
            }
            let reader = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("read"), topics: [topics.orderUpdates]), logger: testLogger)
            try await withRunningConsumer(reader) {
                // First life: the batch and the first fill.
                let first = try runAllocator()
                try await producer.send(KafkaProducerRecord(topic: topics.batches, key: "AAPL", value: batch.encodeJSON()))
                try await producer.send(fill("f-1", 40, cumulative: 40))
                // Each member's `batched` update, then the fill's.
                let before = await collect(reader, count: 4, timeout: .seconds(30)).map { try! OrderUpdate(json: $0.value) }
                #expect(Dictionary(grouping: before, by: \.userId).mapValues { $0.map(\.status) } == ["alice": [.batched, .partiallyFilled], "bob": [.batched, .partiallyFilled]])
                // The changelog has the step that sent them (the batch's row, then the fill's)
                // before the first life stops: that is when the fill counts as done.
                let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]), logger: testLogger)
                #expect(
                    await eventually(timeout: .seconds(30)) {
                        var written: Int64 = 0
                        for partition in 0..<2 { written += (try? await admin.watermarks(topic: topics.allocatorChangelog, partition: Int32(partition)).high) ?? 0 }
                        return written >= 2
                    })
                first.cancel()
                try? await first.value

                // Second life, same state: the first fill again (Kafka delivers at least once), then the last one.
                try await producer.send(fill("f-1", 40, cumulative: 40))
                try await producer.send(fill("f-2", 60, cumulative: 100))
                if elsewhere { path = otherDatabase }
                let second = try runAllocator()
                let after = await collect(reader, count: 2, timeout: .seconds(30)).map { try! OrderUpdate(json: $0.value) }
                // Nothing more comes: the repeated fill made no update.
                let extra = await collect(reader, count: 1, timeout: .seconds(2))
                second.cancel()
                try? await second.value

                let updates = before + after
                #expect(extra.isEmpty, "a repeated fill produced \(extra.count) more updates")
                #expect(updates.filter { $0.fillId == "f-1" }.count == 2)
                #expect(updates.filter { $0.fillId == "f-2" }.count == 2)
                #expect(updates.first { $0.clientOrderId == "c-1" && $0.fillId == "f-2" }?.status == .filled)
                #expect(updates.first { $0.clientOrderId == "c-1" && $0.fillId == "f-2" }?.cumulativeQuantity == 30)
                #expect(updates.first { $0.clientOrderId == "c-2" && $0.fillId == "f-2" }?.cumulativeQuantity == 70)
                let violations = OrderAudit.violations(
                    clientOrders: [], batches: [batch],
                    fills: [try Fill(json: fill("f-1", 40, cumulative: 40).value), try Fill(json: fill("f-2", 60, cumulative: 100).value)],
                    updates: updates, requireTerminal: true)
                #expect(violations.isEmpty, "\(violations)")
            }
            await producer.close()
        }
    }

    @Test("a step whose updates Kafka refuses is not stored: the allocator stops, and the next one sends the same updates, once")
    func refusedDeliveryStoresNothing() async throws {
        let database = temporaryFilePath("allocator-refused", extension: "sqlite")
        defer { removeFiles(derivedFrom: database) }
        try await withEmbeddedBroker(engine: .mock) { broker in
            let topics = PipelineTopics(prefix: uniqueName("f") + "-")
            for topic in topics.all + [topics.allocatorChangelog] { try broker.createTopic(topic, partitions: 1) }
            let sender = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let batch = Self.batch("b-f1")
            let fill = Fill(
                fillId: "f-1", exchangeOrderId: "x-b-f1-0", batchId: "b-f1", symbol: "AAPL", side: .buy, quantity: 100,
                price: Price(ticks: 1_900_000), cumulativeQuantity: 100, leavesQuantity: 0, status: .filled)
            try await sender.send(KafkaProducerRecord(topic: topics.batches, key: "AAPL", value: batch.encodeJSON()))
            try await sender.send(KafkaProducerRecord(topic: topics.fills, key: "AAPL", value: fill.encodeJSON()))
            let group = uniqueName("allocator")
            let reader = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("read"), topics: [topics.orderUpdates]), logger: testLogger)
            try await withRunningConsumer(reader) {
                // The first step's send fails for good (MESSAGE_TOO_LARGE): the allocator stops.
                try broker.failNextProduceRequests(1, brokerErrorCode: 10)
                let firstProducer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
                let first = try Self.runAllocator(broker, topics: topics, group: group, path: database, producer: firstProducer)
                let outcome = await first.result
                #expect(throws: KafkaError.self) { try outcome.get() }
                await firstProducer.close()

                // The next one reads the same records and sends their updates: each member's
                // `batched` and its fill, no more.
                let secondProducer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
                let second = try Self.runAllocator(broker, topics: topics, group: group, path: database, producer: secondProducer)
                let updates = await collect(reader, count: 4, timeout: .seconds(60)).map { try! OrderUpdate(json: $0.value) }
                let extra = await collect(reader, count: 1, timeout: .seconds(2))
                second.cancel()
                try? await second.value
                await secondProducer.close()
                #expect(Dictionary(grouping: updates, by: \.userId).mapValues { $0.map(\.status) } == ["alice": [.batched, .filled], "bob": [.batched, .filled]])
                #expect(extra.isEmpty, "\(extra.count) more updates")
                let violations = OrderAudit.violations(clientOrders: [], batches: [batch], fills: [fill], updates: updates, requireTerminal: true)
                #expect(violations.isEmpty, "\(violations)")
            }
            await sender.close()
        }
    }

    @Test("records read together make steps of at most the bound's updates, each committed and written to the changelog in turn: every update once, a bad record dead-lettered once")
    func aLargeReadIsHandledInBoundedSteps() async throws {
        let database = temporaryFilePath("allocator-steps", extension: "sqlite")
        defer { removeFiles(derivedFrom: database) }
        try await withEmbeddedBroker { broker in
            let topics = PipelineTopics(prefix: uniqueName("s") + "-")
            for topic in topics.all + [topics.allocatorChangelog] { try broker.createTopic(topic, partitions: 2) }
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            // Two batches (of 5 and 4 orders of 10) on their symbols' partitions, their fills,
            // and a fill that is not JSON between them, all written before the allocator starts
            // so that it reads them together.
            func batch(_ id: String, _ symbol: String, members: Int) -> Batch {
                Batch(
                    batchId: id, symbol: symbol, side: .buy,
                    members: (0..<members).map { Batch.Member(clientOrderId: "\(id)-c\($0)", userId: "u\($0)", quantity: 10, traceparent: traceparent) },
                    closeReason: .size, openedAt: "2026-11-30T09:30:00.000Z", closedAt: "2026-11-30T09:30:00.050Z")
            }
            let batches = [batch("b-s1", "AAPL", members: 5), batch("b-s2", "MSFT", members: 4)]
            var fills: [Fill] = []
            for (batch, quantities) in zip(batches, [[20, 15, 15], [20, 20]] as [[Int64]]) {
                var cumulative: Int64 = 0
                for (index, quantity) in quantities.enumerated() {
                    cumulative += quantity
                    fills.append(
                        Fill(
                            fillId: "\(batch.batchId)-f\(index)", exchangeOrderId: "x-\(batch.batchId)", batchId: batch.batchId, symbol: batch.symbol, side: .buy,
                            quantity: quantity, price: Price(ticks: 1_900_000 + Int64(index)), cumulativeQuantity: cumulative, leavesQuantity: batch.quantity - cumulative,
                            status: cumulative == batch.quantity ? .filled : .partiallyFilled))
                }
            }
            for batch in batches { try await producer.send(KafkaProducerRecord(topic: topics.batches, key: batch.symbol, value: batch.encodeJSON())) }
            for fill in fills.prefix(2) { try await producer.send(KafkaProducerRecord(topic: topics.fills, key: fill.symbol, value: fill.encodeJSON())) }
            try await producer.send(KafkaProducerRecord(topic: topics.fills, key: "AAPL", value: Array("not a fill".utf8)))
            for fill in fills.dropFirst(2) { try await producer.send(KafkaProducerRecord(topic: topics.fills, key: fill.symbol, value: fill.encodeJSON())) }

            let reader = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("read"), topics: [topics.orderUpdates]), logger: testLogger)
            let deadLetters = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("dead"), topics: [topics.deadLetters]), logger: testLogger)
            try await withRunningConsumer(reader) {
                try await withRunningConsumer(deadLetters) {
                    let allocator = try Self.runAllocator(broker, topics: topics, group: uniqueName("allocator"), path: database, producer: producer, maxStepUpdates: 3)
                    // Each member's `batched`, then one update per member for each fill.
                    let expected = 5 + 3 * 5 + 4 + 2 * 4
                    let updates = await collect(reader, count: expected, timeout: .seconds(60)).map { try! OrderUpdate(json: $0.value) }
                    let extra = await collect(reader, count: 1, timeout: .seconds(2))
                    let dead = await collect(deadLetters, count: 2, timeout: .seconds(5))
                    allocator.cancel()
                    try? await allocator.value

                    #expect(updates.count == expected)
                    #expect(extra.isEmpty, "\(extra.count) more updates")
                    #expect(Set(updates.map { "\($0.clientOrderId) \($0.status) \($0.fillId ?? "")" }).count == expected)
                    #expect(updates.filter { $0.status == .filled }.count == 9)
                    let violations = OrderAudit.violations(clientOrders: [], batches: batches, fills: fills, updates: updates, requireTerminal: true)
                    #expect(violations.isEmpty, "\(violations)")
                    #expect(dead.map { $0.value } == [Array("not a fill".utf8)])

                    // Every step wrote its changes to the changelog: a batch's rows changed in
                    // the step of the batch and in that of each of its fills, one record each.
                    let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]), logger: testLogger)
                    var writes: [String: Int] = [:]
                    for partition in 0..<2 {
                        let (records, _) = try await admin.records(of: topics.allocatorChangelog, partition: Int32(partition))
                        for record in records { writes[record.key.map { String(decoding: $0, as: UTF8.self) } ?? "", default: 0] += 1 }
                    }
                    #expect(writes.values.max() ?? 0 >= 4, "no row was written by more than \(writes.values.max() ?? 0) steps")
                }
            }
            await producer.close()
        }
    }

    @Test("a partition that moves to another member leaves with its state: the first member's file of it is removed, the new owner builds its own")
    func stateLeavesWithItsPartition() async throws {
        let first = temporaryFilePath("allocator-move-a", extension: "sqlite")
        let second = temporaryFilePath("allocator-move-b", extension: "sqlite")
        defer {
            removeFiles(derivedFrom: first)
            removeFiles(derivedFrom: second)
        }
        try await withEmbeddedBroker { broker in
            let topics = PipelineTopics(prefix: uniqueName("m") + "-")
            for topic in topics.all + [topics.allocatorChangelog] { try broker.createTopic(topic, partitions: 2) }
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let group = uniqueName("allocator")
            func run(_ path: String) throws -> Task<Void, Error> {
                try Self.runAllocator(broker, topics: topics, group: group, path: path, producer: producer)
            }
            func files(_ path: String) -> Set<Int32> {
                var configuration = AllocatorConfiguration()
                configuration.databasePath = path
                return Set((0..<2).filter { FileManager.default.fileExists(atPath: configuration.databasePath(partition: Int32($0))) })
            }
            let a = try run(first)
            #expect(await eventually(timeout: .seconds(60)) { files(first) == [0, 1] }, "the only member opens both partitions")
            let b = try run(second)
            // Each partition's file exists at exactly one member: the one that holds it.
            let split = await eventually(timeout: .seconds(90)) {
                let (ofA, ofB) = (files(first), files(second))
                return ofA.count == 1 && ofB.count == 1 && ofA.isDisjoint(with: ofB)
            }
            #expect(split, "first member: \(files(first)), second: \(files(second))")
            for task in [a, b] { task.cancel() }
            for task in [a, b] { try? await task.value }
            await producer.close()
        }
    }
}
