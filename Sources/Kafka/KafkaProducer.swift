import Logging
import ServiceLifecycle
import Synchronization

/// Sends records to Kafka and reports where each one landed.
///
/// The producer is live as soon as it is made: a dedicated thread serves librdkafka's delivery
/// reports. As a `Service`, `run()` waits for graceful shutdown and then flushes and closes, so
/// nothing sent before shutdown is lost. Records sent together share one wait (one continuation
/// per call, not per record). When librdkafka's queue is full, `send` waits for room instead of
/// failing or growing memory.
public final class KafkaProducer: Service, Sendable {
    private struct State {
        var topics: [String: OpaquePointer] = [:]
        var spaceWaiters: [CheckedContinuation<Void, Never>] = []
        var isClosed = false
    }

    /// What the producer shares with its polling thread, which starts before `self` is complete.
    private final class Shared: Sendable {
        let state = Mutex(State())
        let stopPolling = Mutex(false)
    }

    private let client: RDKafkaClient
    private let logger: Logger
    private let shared = Shared()
    private let pollThread: BlockingThread
    public let configuration: KafkaProducerConfiguration

    /// Creates the producer and starts serving delivery reports.
    /// - Throws: `KafkaError.configuration` naming a property librdkafka rejects.
    public init(configuration: KafkaProducerConfiguration, logger: Logger = Logger(label: "ordertrace.kafka.producer")) throws {
        self.configuration = configuration
        self.logger = logger
        let client = try RDKafkaClient(kind: .producer, properties: configuration.librdkafkaProperties, callbacks: .init(logger: logger))
        self.client = client
        let shared = self.shared
        // Senders that found the queue full wait until it is half empty, so each wake-up lets a
        // large run of records in (not one wake-up per delivered record).
        let roomThreshold = Int32(clamping: max(1, configuration.maxQueuedMessages / 2))
        pollThread = BlockingThread(name: "kafka-producer-poll") {
            while !shared.stopPolling.withLock({ $0 }) {
                client.poll(timeoutMilliseconds: 100)
                let waiters = shared.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                    guard !state.spaceWaiters.isEmpty, client.outQueueLength < roomThreshold else { return [] }
                    defer { state.spaceWaiters = [] }
                    return state.spaceWaiters
                }
                for waiter in waiters { waiter.resume() }
            }
            // Nobody is left waiting for room once polling stops.
            for waiter in shared.state.withLock({ state in defer { state.spaceWaiters = [] }; return state.spaceWaiters }) { waiter.resume() }
        }
    }

    deinit {
        shared.stopPolling.withLock { $0 = true }
        shared.state.withLock { state in
            for topic in state.topics.values { client.releaseTopic(topic) }
            state.topics = [:]
        }
    }

    /// Sends one record and waits for its delivery report.
    /// - Throws: `KafkaError` (`.delivery`) when the broker did not take it (see `isRetriable`),
    ///   `.shutDown` after `close()`.
    @discardableResult
    public func send(_ record: KafkaProducerRecord) async throws -> KafkaDeliveryReport {
        try await send([record])[0].get()
    }

    /// Sends records in order and waits for all their delivery reports, returned in the same order.
    ///
    /// - Parameter onDelivery: called on the delivery thread as each report arrives, with the
    ///   record's index (for example to end its span at the true delivery time). Keep it short.
    /// - Throws: `KafkaError.shutDown` after `close()`; per-record failures are in the results.
    public func send(
        _ records: [KafkaProducerRecord],
        onDelivery: (@Sendable (Int, Result<KafkaDeliveryReport, KafkaError>) -> Void)? = nil
    ) async throws -> [Result<KafkaDeliveryReport, KafkaError>] {
        if records.isEmpty { return [] }
        let started = ContinuousClock.now
        let batch = DeliveryBatch(topics: records.map(\.topic), onEach: onDelivery)
        batch.retainUntilComplete()
        var lastTopic: (name: String, handle: OpaquePointer)?
        for index in records.indices {
            let record = records[index]
            let rkt: OpaquePointer
            if let lastTopic, lastTopic.name == record.topic {
                rkt = lastTopic.handle
            } else {
                do {
                    rkt = try topic(record.topic)
                    lastTopic = (record.topic, rkt)
                } catch {
                    batch.fail(index, error)
                    continue
                }
            }
            while true {
                let code = client.produce(record, topic: rkt, slot: batch.slot(index))
                if code == 0 { break }
                if code == RDKafkaClient.queueFullCode {
                    await waitForSpace()
                    continue
                }
                batch.fail(
                    index,
                    KafkaError(
                        code: .delivery, message: "cannot send to \(record.topic): \(RDKafkaClient.errorDescription(code))",
                        brokerCode: code, isRetriable: RDKafkaClient.isRetriable(code)))
                break
            }
        }
        let outcomes = await batch.outcomes()
        MessagingMetrics.sent(records, outcomes: outcomes, duration: ContinuousClock.now - started)
        return outcomes
    }

    private func topic(_ name: String) throws(KafkaError) -> OpaquePointer {
        try shared.state.withLock { state throws(KafkaError) in
            if state.isClosed { throw KafkaError(code: .shutDown, message: "the producer is closed") }
            if let topic = state.topics[name] { return topic }
            guard let topic = client.makeTopic(name) else {
                throw KafkaError(code: .client, message: "cannot make a handle for topic '\(name)'")
            }
            state.topics[name] = topic
            return topic
        }
    }

    private func waitForSpace() async {
        await withCheckedContinuation { continuation in
            shared.state.withLock { $0.spaceWaiters.append(continuation) }
        }
    }

    /// Records queued or in flight.
    public var pendingCount: Int { Int(client.outQueueLength) }

    /// Waits until every record sent so far is delivered or failed, at most `timeout`.
    /// - Returns: `true` when nothing is left.
    @discardableResult
    public func flush(timeout: Duration = .seconds(10)) async -> Bool {
        let client = self.client
        let result = Mutex<Int32>(0)
        let thread = BlockingThread(name: "kafka-producer-flush") {
            let code = client.flush(timeoutMilliseconds: Int32(clamping: timeout.milliseconds))
            result.withLock { $0 = code }
        }
        await thread.join()
        return result.withLock { $0 } == 0
    }

    /// Flushes what was sent (at most `timeout`), then stops. Later sends throw `.shutDown`.
    public func close(timeout: Duration = .seconds(10)) async {
        let alreadyClosed = shared.state.withLock { state in
            defer { state.isClosed = true }
            return state.isClosed
        }
        if alreadyClosed { return }
        if !(await flush(timeout: timeout)) {
            logger.error("producer closed with \(pendingCount) records undelivered after \(timeout); they fail with a purge error")
            client.purgeQueued()
            client.poll(timeoutMilliseconds: 0)
        }
        shared.stopPolling.withLock { $0 = true }
        await pollThread.join()
        // Serve the last reports on this side so no sender waits forever.
        client.poll(timeoutMilliseconds: 0)
    }

    /// Runs until graceful shutdown, then flushes and closes.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
