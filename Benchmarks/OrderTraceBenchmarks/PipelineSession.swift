import CommandLineSupport
import Foundation
import Kafka
import Logging
import OrderModel
import Synchronization
import WebSocketClient

/// The load generator's connections to one running `ordertrace up`: a producer into
/// client-orders, one WebSocket a demo user to the gateway, and a consumer of order-updates and
/// batches in a group of its own that sees every order's states (both doors) and when its batch
/// closed, and hands them to the round being measured.
final class PipelineSession: Sendable {
    /// The demo users' tokens (`ORDERTRACE_DEMO=1`, which `up` sets when no tokens are given).
    static let demoTokens = ["demo-alice", "demo-bob", "demo-carol"]
    static let clientOrdersTopic = "client-orders"
    static let orderUpdatesTopic = "order-updates"
    static let batchesTopic = "batches"

    private let producer: KafkaProducer
    private let consumer: KafkaConsumer
    private let polling: Task<Void, any Error>
    private let reading: Task<Void, Never>
    private let sockets: Task<Void, any Error>
    private let outboxes: [AsyncStream<[(index: Int, text: String)]>.Continuation]
    private let current: RoundSlot
    private let socketState: SocketStatus

    private init(
        producer: KafkaProducer, consumer: KafkaConsumer, polling: Task<Void, any Error>, reading: Task<Void, Never>, sockets: Task<Void, any Error>,
        outboxes: [AsyncStream<[(index: Int, text: String)]>.Continuation], current: RoundSlot,
        socketState: SocketStatus
    ) {
        self.producer = producer
        self.consumer = consumer
        self.polling = polling
        self.reading = reading
        self.sockets = sockets
        self.outboxes = outboxes
        self.current = current
        self.socketState = socketState
    }

    /// Connects to the system; returns once every WebSocket is open.
    static func open(bootstrap: String, gatewayPort: Int, logger: Logger) async throws -> PipelineSession {
        // Its clients outlive `up` by a moment at the end of a session: no connection errors then.
        var logger = logger
        logger.logLevel = .critical
        let kafka = KafkaConfiguration(brokers: [bootstrap])
        // Not idempotent, one request in flight. librdkafka 2.0.2's idempotent producer keeps
        // one request in flight per partition too, but while a next batch waits for it, it polls
        // its socket with a zero timeout until the answer comes: the load generator spent a
        // quarter of a core so in a 2,000 orders/s soak, CPU the pipeline under test then
        // lacked. One request in flight keeps what the idempotent producer did well: its
        // batches grow while it waits (the embedded broker hands a consumer one batch per
        // partition and fetch, see BENCHMARKS.md).
        var producerSettings = KafkaProducerConfiguration(kafka: kafka)
        producerSettings.isIdempotent = false
        producerSettings.kafka.properties["max.in.flight.requests.per.connection"] = "1"
        let producer = try KafkaProducer(configuration: producerSettings, logger: logger)
        var settings = KafkaConsumerConfiguration(kafka: kafka, groupID: "bench-pipeline-\(UInt32.random(in: 0...UInt32.max))", topics: [orderUpdatesTopic, batchesTopic])
        // Sees a terminal update within 10 ms of its write even when a fetch finds nothing (the
        // embedded broker holds an empty fetch for this long).
        settings.fetchMaxWait = .milliseconds(10)
        // It reads keys and values only: librdkafka need not parse each record's headers.
        settings.readsHeaders = false
        let consumer = try KafkaConsumer(configuration: settings, logger: logger)
        let polling = Task { try await consumer.run() }
        let current = RoundSlot()
        let reading = Task {
            for await batch in consumer.batches() {
                guard let tracker = current.tracker else { continue }
                var updates: [(index: Int, status: OrderStatus)] = []
                var batched: [Int] = []
                var batches = 0
                updates.reserveCapacity(batch.count)
                for message in batch {
                    if message.topic == batchesTopic {
                        guard case .success(let closed) = message.value.withUnsafeBytes({ Batch.decode(json: $0) }) else { continue }
                        let members = closed.members.compactMap { tracker.index(of: $0.clientOrderId) }
                        if !members.isEmpty { batches += 1 }
                        batched += members
                        continue
                    }
                    // Whose it is and its status, not a full decode: that was a third of this
                    // process's CPU, which the system under test shares.
                    guard let update = OrderUpdate.glance(json: message.value),
                        let index = tracker.index(of: update.clientOrderId)
                    else { continue }
                    updates.append((index, update.status))
                }
                tracker.observe(updates)
                tracker.observeBatched(batched, batches: batches)
            }
        }
        let socketState = SocketStatus()
        var outboxes: [AsyncStream<[(index: Int, text: String)]>.Continuation] = []
        var streams: [(url: String, orders: AsyncStream<[(index: Int, text: String)]>)] = []
        for token in demoTokens.prefix(PipelineOrders.webSocketUsers) {
            let (stream, continuation) = AsyncStream.makeStream(of: [(index: Int, text: String)].self)
            outboxes.append(continuation)
            streams.append(("ws://127.0.0.1:\(gatewayPort)/v1/orders?access_token=\(token)", stream))
        }
        let plan = streams
        let sockets = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for socket in plan {
                    group.addTask { try await connection(url: socket.url, orders: socket.orders, current: current, state: socketState) }
                }
                try await group.waitForAll()
            }
        }
        let session = PipelineSession(
            producer: producer, consumer: consumer, polling: polling, reading: reading, sockets: sockets, outboxes: outboxes, current: current,
            socketState: socketState)
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let (open, failure) = socketState.withLock { ($0.open, $0.failure) }
            if open == plan.count { return session }
            if failure != nil || ContinuousClock.now >= deadline {
                await session.close()
                throw CommandError(description: "bench-pipeline: cannot open the WebSockets to the gateway (\(failure ?? "timed out"))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// One demo user's socket: writes the orders handed to it (each stamped as sent just before
    /// its write) and reads every message the gateway pushes.
    private static func connection(
        url: String, orders: AsyncStream<[(index: Int, text: String)]>, current: RoundSlot,
        state: SocketStatus
    ) async throws {
        do {
            try await WebSocketClient.connect(url: url, configuration: .init(maxMessageSize: 1 << 20)) { inbound, outbound in
                state.withLock { $0.open += 1 }
                let sender = Task {
                    for await batch in orders {
                        let tracker = current.tracker
                        for order in batch {
                            tracker?.markSent(CollectionOfOne(order.index))
                            try await outbound.write(.text(order.text))
                        }
                    }
                }
                defer { sender.cancel() }
                var messages = 0
                for try await _ in inbound {
                    messages += 1
                    if messages % 1_000 == 0 { state.withLock { $0.messages += 1_000 } }
                }
                state.withLock { $0.failure = $0.failure ?? "the gateway closed a WebSocket" }
            }
        } catch is CancellationError {
        } catch {
            state.withLock { $0.failure = "\(error)" }
            throw error
        }
    }

    /// The shortest pause between two sends of a paced round.
    static let pacingTick = Duration.milliseconds(1)

    /// Sends the round's orders, at once (`rate` nil: as fast as they go) or paced at `rate`
    /// orders per second, then waits until every one is terminal.
    /// - Throws: when records were not delivered, a socket failed, or no order ended for `stall`.
    func run(_ orders: PipelineOrders, rate: Double?, stall: Duration = .seconds(60), alive: () -> Bool) async throws -> RoundTracker {
        let tracker = RoundTracker(orders: orders)
        current.tracker = tracker
        let texts = (0..<orders.count).map { orders.text($0) }
        let producer = self.producer
        let started = ContinuousClock.now
        let undelivered = try await withThrowingTaskGroup(of: Int.self) { group in
            var next = 0
            while next < orders.count {
                let end: Int
                if let rate {
                    let due = Int(((ContinuousClock.now - started).seconds * rate).rounded(.down)) + 1
                    end = min(orders.count, max(next + 1, due))
                } else {
                    end = min(orders.count, next + 256)
                }
                var records: [KafkaProducerRecord] = []
                var indices: [Int] = []
                var perUser = [[(index: Int, text: String)]](repeating: [], count: outboxes.count)
                for index in next..<end {
                    switch orders.door(index) {
                    case .kafka:
                        records.append(KafkaProducerRecord(topic: Self.clientOrdersTopic, key: orders.symbol(index), value: Array(texts[index].utf8)))
                        indices.append(index)
                    case .webSocket(let user):
                        perUser[user].append((index, texts[index]))
                    }
                }
                if !records.isEmpty {
                    let batch = records
                    let sentIndices = indices
                    group.addTask {
                        tracker.markSent(sentIndices)
                        return try await producer.send(batch).filter { (try? $0.get()) == nil }.count
                    }
                }
                for (user, batch) in perUser.enumerated() where !batch.isEmpty { outboxes[user].yield(batch) }
                next = end
                if let rate, next < orders.count {
                    // Until the next order is due, and at least a tick: one wake-up, task and
                    // produce call per order cost the load generator 125 µs an order at 3,500/s,
                    // a fifth of both cores taken from the system it measures. Orders due within
                    // a tick go together; each one's latency counts from its own send.
                    let due = started + .seconds(Double(next) / rate)
                    try await Task.sleep(until: max(due, ContinuousClock.now + Self.pacingTick))
                }
            }
            return try await group.reduce(0, +)
        }
        guard undelivered == 0 else { throw CommandError(description: "bench-pipeline: \(undelivered) orders were not delivered to \(Self.clientOrdersTopic)") }
        guard await tracker.waitUntilAllTerminal(stall: stall, alive: alive) else {
            let failure = socketState.withLock { $0.failure }
            throw CommandError(
                description: "bench-pipeline: \(orders.count - tracker.terminalCount) of \(orders.count) orders did not end "
                    + (alive() ? "(none ended for \(stall))" : "(`ordertrace up` exited)")
                    + (failure.map { "; WebSocket: \($0)" } ?? ""))
        }
        return tracker
    }

    func close() async {
        for outbox in outboxes { outbox.finish() }
        sockets.cancel()
        _ = try? await sockets.value
        polling.cancel()
        _ = try? await polling.value
        reading.cancel()
        await reading.value
        await producer.close()
    }
}

/// The round being measured, which the order-updates reader and the sockets report to.
final class RoundSlot: Sendable {
    private let slot = Mutex<RoundTracker?>(nil)

    var tracker: RoundTracker? {
        get { slot.withLock { $0 } }
        set { slot.withLock { $0 = newValue } }
    }
}

/// The demo users' WebSockets: how many are open, the first failure, messages heard.
final class SocketStatus: Sendable {
    private let state = Mutex<(open: Int, failure: String?, messages: Int)>((0, nil, 0))

    func withLock<T>(_ body: (inout (open: Int, failure: String?, messages: Int)) -> T) -> T {
        state.withLock { body(&$0) }
    }
}
