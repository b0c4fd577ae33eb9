import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// Sends records to Kafka and reports where each one landed.
///
/// The producer is live as soon as it is made: a dedicated thread serves librdkafka's delivery
/// reports. As a `Service`, `run()` waits for graceful shutdown and then flushes and closes, so
/// nothing sent before shutdown is lost. Records sent together share one wait (one continuation
/// per call, not per record). While a `send` hands its records to librdkafka it also serves the
/// delivery reports that are ready, without blocking, and the polling thread stands aside. When
/// librdkafka's queue is full, `send` waits for room instead of failing or growing memory.
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
        /// Sends that are handing records to librdkafka right now (they serve delivery reports
        /// themselves meanwhile; the polling thread waits for them to finish).
        let activeSenders = Atomic(0)
        /// Whether the polling thread waits on `sendersGone` (so senders signal only then).
        let pollerWaits = Atomic(false)
        /// Signalled when the last active sender finishes handing over its records.
        let sendersGone = DispatchSemaphore(value: 0)
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
                if shared.activeSenders.load(ordering: .sequentiallyConsistent) > 0 {
                    // A sender serves the reports while it hands records over; the last one
                    // signals when done (the timeout only bounds a signal lost to a race).
                    shared.pollerWaits.store(true, ordering: .sequentiallyConsistent)
                    if shared.activeSenders.load(ordering: .sequentiallyConsistent) > 0 {
                        _ = shared.sendersGone.wait(timeout: .now() + .milliseconds(20))
                    }
                    shared.pollerWaits.store(false, ordering: .sequentiallyConsistent)
                    continue
                }
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
        client.wakePoll()
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
    /// - Parameter onDelivery: called as each report arrives, with the record's index (for example
    ///   to end its span at the true delivery time), on the thread that serves reports: the
    ///   producer's polling thread, or the thread of a `send` that is handing records over. Keep
    ///   it short, and never block in it.
    /// - Throws: `KafkaError.shutDown` after `close()`; per-record failures are in the results.
    public func send(
        _ records: [KafkaProducerRecord],
        onDelivery: (@Sendable (Int, Result<KafkaDeliveryReport, KafkaError>) -> Void)? = nil
    ) async throws -> [Result<KafkaDeliveryReport, KafkaError>] {
        if records.isEmpty { return [] }
        let started = ContinuousClock.now
        let batch = DeliveryBatch(topics: records.map(\.topic), onEach: onDelivery)
        batch.retainUntilComplete()
        var next = 0
        while true {
            next = enqueue(records, from: next, into: batch)
            if next == records.count { break }
            // librdkafka's queue is full: wait (without holding a thread) until it is half empty.
            await waitForSpace()
        }
        let outcomes = await batch.outcomes()
        MessagingMetrics.sent(records, outcomes: outcomes, duration: ContinuousClock.now - started)
        return outcomes
    }

    /// Hands records to librdkafka from `start` on, until all are queued (returns
    /// `records.count`) or its queue is full (returns the index of the first record not queued).
    ///
    /// Never blocks. While it runs, the calling thread also serves the delivery reports that are
    /// ready (a non-blocking poll every `pollEvery` records) and the polling thread stands aside:
    /// librdkafka frees each delivered record in the thread that serves its report, so the
    /// memory of delivered records goes back to the allocator of the thread that makes the next
    /// ones, instead of crossing threads for every record (which made allocation the largest
    /// cost of sending, measured in `docs/benchmarks-hotpaths.md`).
    private func enqueue(_ records: [KafkaProducerRecord], from start: Int, into batch: DeliveryBatch) -> Int {
        shared.activeSenders.add(1, ordering: .sequentiallyConsistent)
        defer {
            client.poll(timeoutMilliseconds: 0)
            if shared.activeSenders.subtract(1, ordering: .sequentiallyConsistent).newValue == 0,
                shared.pollerWaits.load(ordering: .sequentiallyConsistent)
            {
                shared.sendersGone.signal()
            }
        }
        return records.withUnsafeBufferPointer { records in
            var lastTopic: (name: String, handle: OpaquePointer)?
            var index = start
            var now = RDKafkaClient.nowMilliseconds()
            while index < records.count {
                if index & (Self.pollEvery - 1) == Self.pollEvery - 1 {
                    client.poll(timeoutMilliseconds: 0)
                    now = RDKafkaClient.nowMilliseconds()
                }
                let rkt: OpaquePointer
                if let lastTopic, lastTopic.name == records[index].topic {
                    rkt = lastTopic.handle
                } else {
                    do throws(KafkaError) {
                        rkt = try topic(records[index].topic)
                        lastTopic = (records[index].topic, rkt)
                    } catch {
                        batch.fail(index, error)
                        index += 1
                        continue
                    }
                }
                let code = client.produce(records.baseAddress! + index, topic: rkt, slot: batch.slot(index), timestampMilliseconds: now)
                if code == RDKafkaClient.queueFullCode { return index }
                if code != 0 {
                    batch.fail(
                        index,
                        KafkaError(
                            code: .delivery, message: "cannot send to \(records[index].topic): \(RDKafkaClient.errorDescription(code))",
                            brokerCode: code, isRetriable: RDKafkaClient.isRetriable(code)))
                }
                index += 1
            }
            return records.count
        }
    }

    /// How often (in records) a sender serves ready delivery reports itself; a power of two.
    private static let pollEvery = 32

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
        // The polling thread may be inside a poll of up to 100 ms: end it now.
        client.wakePoll()
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

