import ExchangeGateway
import ExchangeSimServer
import Kafka
import KafkaTestSupport
import Logging
import OrderModel
import Pipeline
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// The simulated exchange, running in the background.
final class RunningSimServer: Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    /// Starts a server on `port` (0: a free one) and waits until it listens.
    static func start(port: Int = 0) async throws -> RunningSimServer {
        let bound = Mutex<Int?>(nil)
        let server = ExchangeSimServer(
            configuration: .init(port: port, seed: 7, tickInterval: .milliseconds(10)), logger: quietLogger,
            onListening: { value in bound.withLock { $0 = value } })
        let group = ServiceGroup(services: [server], logger: quietLogger)
        let task = Task { try await group.run() }
        var listening: Int?
        for _ in 0..<1_000 where listening == nil {
            listening = bound.withLock { $0 }
            if listening == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        guard let listening else {
            task.cancel()
            throw HarnessError(message: "the exchange simulator did not start listening on port \(port)")
        }
        return RunningSimServer(port: listening, task: task)
    }

    /// Stops it the hard way: every session is cut.
    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// Runs `body` with a simulated exchange on a free port, stopped afterwards.
func withSimServer(_ body: (RunningSimServer) async throws -> Void) async throws {
    let server = try await RunningSimServer.start()
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Records read from some topics, in the background.
final class TopicReader: Sendable {
    private let consumer: KafkaConsumer
    private final class Box: Sendable {
        let messages = Mutex<[KafkaMessage]>([])
        let tasks = Mutex<[Task<Void, Never>]>([])
    }
    private let box = Box()

    init(broker: EmbeddedBroker, topics: [String]) throws {
        consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("reader"), topics: topics), logger: testLogger)
        let consumer = self.consumer
        let box = self.box
        let run = Task { _ = try? await consumer.run() }
        let read = Task {
            for await batch in consumer.batches() { box.messages.withLock { $0 += batch } }
        }
        box.tasks.withLock { $0 = [run, read] }
    }

    var messages: [KafkaMessage] { box.messages.withLock { $0 } }

    func messages(topic: String) -> [KafkaMessage] { messages.filter { $0.topic == topic } }

    func stop() async {
        let tasks = box.tasks.withLock { $0 }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}

/// The fills read so far, decoded, per exchange order.
func decodedFills(_ messages: [KafkaMessage]) throws -> [String: [Fill]] {
    var result: [String: [Fill]] = [:]
    for message in messages {
        let fill = try Fill.decode(json: message.value).get()
        #expect(message.keyString == fill.symbol, "fills are keyed by symbol")
        result[fill.exchangeOrderId, default: []].append(fill)
    }
    return result
}

/// Where a gateway under test runs: its broker and its consumer group.
struct GatewayRig {
    var broker: EmbeddedBroker
    var group: String
}

/// An embedded broker with the pipeline's topics, a gateway connected to `exchangeURL`, a producer
/// of exchange orders and a reader of fills and dead letters.
func withGateway(
    exchangePort: Int, configure: (inout ExchangeGatewayConfiguration) -> Void = { _ in },
    _ body: (_ gateway: ExchangeGateway, _ topics: PipelineTopics, _ input: KafkaProducer, _ output: TopicReader, _ rig: GatewayRig) async throws -> Void
) async throws {
    try await withEmbeddedBroker { broker in
        let topics = PipelineTopics(prefix: uniqueName("xg") + ".")
        for topic in [topics.exchangeOrders, topics.fills, topics.deadLetters] { try broker.createTopic(topic, partitions: 2) }
        var configuration = ExchangeGatewayConfiguration()
        configuration.exchangeURL = "ws://127.0.0.1:\(exchangePort)/"
        configuration.topics = topics
        configuration.reconnectMaxBackoff = .milliseconds(400)
        configure(&configuration)
        let rig = GatewayRig(broker: broker, group: uniqueName("exchange-gateway"))
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(broker, group: rig.group, topics: [topics.exchangeOrders]), logger: testLogger)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
        let gateway = ExchangeGateway(configuration: configuration, consumer: consumer, producer: producer, logger: quietLogger)
        let group = ServiceGroup(services: [producer, gateway], logger: quietLogger)
        let running = Task { try await group.run() }
        let input = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
        let output = try TopicReader(broker: broker, topics: [topics.fills, topics.deadLetters])
        do {
            try await body(gateway, topics, input, output, rig)
        } catch {
            await output.stop()
            await input.close()
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
        await output.stop()
        await input.close()
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

func exchangeOrder(
    _ id: String, symbol: String, side: Side = .buy, quantity: Int64, limit: Price? = nil, batch: String = "b-1"
) -> ExchangeOrder {
    ExchangeOrder(
        exchangeOrderId: id, batchId: batch, symbol: symbol, side: side, quantity: quantity, orderType: limit == nil ? .market : .limit,
        limitPrice: limit, slice: 0, slices: 1)
}

func record(_ order: ExchangeOrder, topic: String) -> KafkaProducerRecord {
    KafkaProducerRecord(topic: topic, key: order.symbol, value: order.encodeJSON())
}

/// The one terminal fill of each order in `ids`, once every one has it.
func terminalFills(_ output: TopicReader, topic: String, ids: [String]) async throws -> [String: [Fill]] {
    let done = await eventually(timeout: .seconds(40)) {
        guard let fills = try? decodedFills(output.messages(topic: topic)) else { return false }
        return ids.allSatisfy { id in fills[id]?.contains { $0.status.isTerminal } ?? false }
    }
    let fills = try decodedFills(output.messages(topic: topic))
    #expect(done, "not every exchange order ended: \(fills)")
    return fills
}

/// Checks the invariants of one exchange order's fills: exactly one terminal fill, executions
/// adding up to the final cumulative quantity, cumulative + leaves = quantity on every fill.
func checkFills(_ fills: [Fill], quantity: Int64, sourceLocation: SourceLocation = #_sourceLocation) {
    let terminal = fills.filter { $0.status.isTerminal }
    #expect(terminal.count == 1, "one terminal fill, got \(fills)", sourceLocation: sourceLocation)
    #expect(Set(fills.map(\.fillId)).count == fills.count, "fill ids are unique", sourceLocation: sourceLocation)
    let executed = fills.filter { $0.status.isExecution }.map(\.quantity).reduce(0, +)
    for fill in fills {
        #expect(fill.cumulativeQuantity + fill.leavesQuantity == quantity, "\(fill)", sourceLocation: sourceLocation)
        #expect(fill.validationErrors().isEmpty, sourceLocation: sourceLocation)
    }
    if let last = terminal.first {
        #expect(executed == last.cumulativeQuantity, sourceLocation: sourceLocation)
        if last.status == .filled { #expect(executed == quantity, sourceLocation: sourceLocation) }
    }
}
