import Algo
import Allocator
import Foundation
import Kafka
import KafkaTestSupport
import Logging
import OrderManager
import OrderModel
import Pipeline
import ServiceLifecycle
import TestSupport
import Testing

/// Order manager, algorithm and allocator together on the embedded broker, with the test
/// playing the exchange gateway: every exchange order gets two fills, the first one twice.
@Suite("Pipeline flow: orders in, batches, exchange orders, fills, allocations out", .timeLimit(.minutes(2)))
struct PipelineFlowTests {
    struct Running {
        let topics: PipelineTopics
        let broker: EmbeddedBroker
        let producer: KafkaProducer
    }

    /// Runs order-manager, algo, allocator and a fake exchange on fresh topics for `body`.
    func withPipeline(databasePath: String, _ body: (Running) async throws -> Void) async throws {
        try await withEmbeddedBroker { broker in
            let topics = PipelineTopics(prefix: uniqueName("p") + "-")
            for topic in topics.all + [topics.allocatorChangelog] { try broker.createTopic(topic, partitions: 2) }
            let kafka = KafkaConfiguration(brokers: [broker.bootstrapServers])
            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: testLogger)
            func consumer(_ group: String, _ names: [String]) throws -> KafkaConsumer {
                try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName(group), topics: names), logger: testLogger)
            }
            var managerConfiguration = OrderManagerConfiguration()
            managerConfiguration.topics = topics
            managerConfiguration.limits = BatchLimits(maxOrders: 4, maxQuantity: 1_000_000, linger: .milliseconds(50))
            var algoConfiguration = AlgoConfiguration()
            algoConfiguration.topics = topics
            algoConfiguration.slicing = SlicingPolicy(slices: 2)
            var allocatorConfiguration = AllocatorConfiguration()
            allocatorConfiguration.topics = topics
            allocatorConfiguration.databasePath = databasePath
            let services: [any Service] = [
                producer,
                OrderManager(configuration: managerConfiguration, consumer: try consumer("om", [topics.clientOrders]), producer: producer, logger: testLogger),
                Algo(configuration: algoConfiguration, consumer: try consumer("algo", [topics.batches]), producer: producer, logger: testLogger),
                Allocator(configuration: allocatorConfiguration, consumer: try consumer("alloc", [topics.batches, topics.fills]), producer: producer, logger: testLogger),
                FakeExchange(topics: topics, consumer: try consumer("fx", [topics.exchangeOrders]), producer: producer),
            ]
            try await withThrowingTaskGroup { group in
                for service in services { group.addTask { try await service.run() } }
                try await body(Running(topics: topics, broker: broker, producer: producer))
                group.cancelAll()
            }
        }
    }

    @Test("every valid order is accepted, batched and filled exactly; bad input is refused or dead-lettered; the audit passes")
    func ordersFlowThrough() async throws {
        let database = temporaryFilePath("pipeline-flow", extension: "sqlite")
        defer { removeFiles(derivedFrom: database) }
        try await withPipeline(databasePath: database) { pipeline in
            let topics = pipeline.topics
            var orders: [ClientOrder] = []
            for index in 0..<10 {
                let side: Side = index % 3 == 0 ? .sell : .buy
                orders.append(ClientOrder(
                    clientOrderId: "c-\(index)", userId: ["alice", "bob"][index % 2], symbol: ["AAPL", "MSFT"][index % 2 == 0 ? 0 : 1],
                    side: side, quantity: Int64(10 + index * 7), orderType: index == 4 ? .limit : .market,
                    limitPrice: index == 4 ? Price("195.5") : nil))
            }
            var records = orders.map { KafkaProducerRecord(topic: topics.clientOrders, key: $0.symbol, value: $0.encodeJSON()) }
            // The same order again (a retry), a malformed record, and a readable but invalid order.
            records.append(records[3])
            records.append(KafkaProducerRecord(topic: topics.clientOrders, key: "AAPL", value: Array("{not json".utf8), headers: ["origin": Array("kcat".utf8)]))
            records.append(KafkaProducerRecord(
                topic: topics.clientOrders, key: "AAPL",
                value: Array(#"{"clientOrderId":"bad-1","userId":"carol","symbol":"AAPL","side":"buy","quantity":0,"orderType":"market"}"#.utf8)))
            for record in records { try await pipeline.producer.send(record) }

            let reader = try KafkaConsumer(
                configuration: consumerConfiguration(pipeline.broker, group: uniqueName("read"), topics: [topics.orderUpdates, topics.deadLetters, topics.batches, topics.fills]),
                logger: testLogger)
            // Everything the pipeline wrote, read until every order is terminal (locals of the
            // reading closure, handed back as its result).
            let (updates, deadLetters, batches, fills) = try await withRunningConsumer(reader) {
                var updates: [OrderUpdate] = []
                var deadLetters: [KafkaMessage] = []
                var batches: [Batch] = []
                var fills: [Fill] = []
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline {
                    for message in await collect(reader, count: 1, timeout: .milliseconds(200)) {
                        switch message.topic {
                        case topics.orderUpdates: updates.append(try OrderUpdate(json: message.value))
                        case topics.deadLetters: deadLetters.append(message)
                        case topics.batches: batches.append(try Batch(json: message.value))
                        default: fills.append(try Fill(json: message.value))
                        }
                    }
                    let terminal = Set(updates.filter(\.status.isTerminal).map(\.clientOrderId))
                    if orders.allSatisfy({ terminal.contains($0.clientOrderId) }) && terminal.contains("bad-1") && !deadLetters.isEmpty { break }
                }
                return (updates, deadLetters, batches, fills)
            }
            try Self.check(orders: orders, updates: updates, batches: batches, fills: fills, deadLetters: deadLetters, topics: topics)
        }
    }

    /// What the pipeline wrote, checked: every valid order accepted, batched and filled exactly
    /// once, the bad ones refused or dead-lettered, and the allocation invariants.
    static func check(
        orders: [ClientOrder], updates: [OrderUpdate], batches: [Batch], fills: [Fill], deadLetters: [KafkaMessage], topics: PipelineTopics
    ) throws {
        for order in orders {
            let mine = updates.filter { $0.orderKey == order.orderKey }
            #expect(mine.first?.status == .accepted)
            #expect(mine.filter { $0.status == .accepted }.count == 1, "\(order.clientOrderId) accepted twice")
            #expect(mine.filter { $0.status == .batched }.count == 1, "\(order.clientOrderId) batched twice")
            #expect(mine.last?.status == .filled)
            #expect(mine.last?.cumulativeQuantity == order.quantity)
            #expect(mine.last?.leavesQuantity == 0)
        }
        #expect(batches.flatMap(\.members).count == orders.count)
        #expect(batches.allSatisfy { $0.members.count <= 4 })
        #expect(batches.allSatisfy { batch in batch.members.allSatisfy { member in orders.contains { $0.clientOrderId == member.clientOrderId && $0.symbol == batch.symbol && $0.side == batch.side } } })
        let rejected = try #require(updates.first { $0.clientOrderId == "bad-1" })
        #expect(rejected.status == .rejected)
        #expect(rejected.reason?.contains("quantity") == true)
        let letter = try #require(deadLetters.first)
        #expect(letter.value == Array("{not json".utf8))
        #expect(letter.headers.string("origin") == "kcat")
        #expect(letter.headers.string("error.type") == "not_a_client_order")
        #expect(letter.headers.string("source.topic") == topics.clientOrders)
        #expect(letter.headers.string("error.message")?.isEmpty == false)
        let all = updates.filter { $0.clientOrderId != "bad-1" }
        let violations = OrderAudit.violations(
            clientOrders: orders, batches: batches, fills: fills,
            updates: all, requireTerminal: true)
        #expect(violations.isEmpty, "\(violations.prefix(5))")
    }
}

/// Plays the exchange gateway for these tests: each exchange order is filled in two parts.
struct FakeExchange: Service {
    let topics: PipelineTopics
    let consumer: KafkaConsumer
    let producer: KafkaProducer

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await consumer.run() }
            for await messages in consumer.batches() {
                var records: [KafkaProducerRecord] = []
                for message in messages {
                    let order = try ExchangeOrder(json: message.value)
                    let first = order.quantity / 2
                    var parts: [(Int64, Int64)] = []
                    if first > 0 { parts.append((first, 1_900_000)) }
                    parts.append((order.quantity - first, 1_900_100))
                    var cumulative: Int64 = 0
                    for (index, (quantity, ticks)) in parts.enumerated() {
                        cumulative += quantity
                        let fill = Fill(
                            fillId: "\(order.exchangeOrderId):E\(index)", exchangeOrderId: order.exchangeOrderId, batchId: order.batchId,
                            symbol: order.symbol, side: order.side, quantity: quantity, price: Price(ticks: ticks),
                            cumulativeQuantity: cumulative, leavesQuantity: order.quantity - cumulative,
                            status: cumulative == order.quantity ? .filled : .partiallyFilled)
                        records.append(KafkaProducerRecord(topic: topics.fills, key: order.symbol, value: fill.encodeJSON()))
                        // Kafka delivers at least once: the first fill of each order comes twice.
                        if index == 0 { records.append(records[records.count - 1]) }
                    }
                }
                _ = try await producer.send(records)
            }
        }
    }
}
