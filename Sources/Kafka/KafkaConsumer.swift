#if canImport(Glibc)
import Glibc
#endif
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Reads records of a consumer group, in batches, at least once.
///
/// A dedicated thread polls librdkafka: it blocks only while nothing is there, then takes
/// everything already fetched (up to `maxBatchSize`) and hands it over as one batch. Offsets are
/// stored only after the handler is done with a batch (when it asks for the next one, or when it
/// calls `storeOffsets`) and committed in the background, before partitions are revoked, and on
/// close. A gap (records the broker deleted before they were read) is logged as an error and
/// counted in `lostMessageCount` and the `kafka_consumer_lost_messages_total` counter, then
/// reading goes on from the oldest record still there.
///
/// As a `Service`, `run()` polls until graceful shutdown or cancellation and then leaves the
/// group, on every path.
public final class KafkaConsumer: Service, Sendable {
    public let configuration: KafkaConsumerConfiguration
    private let client: RDKafkaClient
    private let buffer: ConsumerBuffer
    private let logger: Logger
    private let revocationHandOver = RevocationHandOver()
    private let stopRequested = Mutex(false)
    private let lostMessages = Mutex(0)
    /// The tick interval of `events` in nanoseconds; 0: no ticks.
    private let tickNanoseconds = Atomic<Int64>(0)

    /// Creates the consumer and subscribes to `configuration.topics`. Polling starts with `run()`.
    /// - Throws: `KafkaError` for a rejected property or a failed subscription.
    public init(configuration: KafkaConsumerConfiguration, logger: Logger = Logger(label: "ordertrace.kafka.consumer")) throws {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "kafka.group"] = "\(configuration.groupID)"
        self.logger = logger
        let buffer = ConsumerBuffer(
            highWatermark: configuration.bufferHighWatermark, lowWatermark: configuration.bufferLowWatermark, maxBatchSize: configuration.maxBatchSize)
        self.buffer = buffer
        let callbacks = RDKafkaClient.Callbacks(logger: logger)
        callbacks.initialOffset = configuration.initialOffset == .beginning ? RDKafkaClient.offsetBeginning : RDKafkaClient.offsetEnd
        let client = try RDKafkaClient(kind: .consumer, properties: configuration.librdkafkaProperties, callbacks: callbacks)
        self.client = client
        let revocationHandOver = self.revocationHandOver
        // Runs on the polling thread, inside librdkafka's poll (or its close).
        callbacks.rebalance = { [weak client, logger] event in
            guard let client else { return }
            switch event {
            case .assign(let partitions):
                logger.info("assigned \(partitions.count) partitions: \(Self.describe(partitions))")
                Counter(label: "kafka_consumer_rebalances_total", dimensions: [("group", configuration.groupID), ("kind", "assign")]).increment()
                buffer.assigned(partitions)
                Self.recordAssignment(partitions, group: configuration.groupID, held: true)
                revocationHandOver.assigned(partitions)
            case .revoke(let partitions):
                logger.info("revoked \(partitions.count) partitions: \(Self.describe(partitions))")
                Counter(label: "kafka_consumer_rebalances_total", dimensions: [("group", configuration.groupID), ("kind", "revoke")]).increment()
                // The handler finishes what it holds of these partitions and stores its offsets
                // before the commit below (when it asked for rebalances).
                revocationHandOver.handOver(partitions, logger: logger)
                buffer.revoked(partitions)
                Self.recordAssignment(partitions, group: configuration.groupID, held: false)
                // A failed commit here means the next owner reads again what was done: try a few
                // times (this is the polling thread, which may block). _NO_OFFSET (-168): nothing
                // was stored since the last commit.
                for attempt in 1...3 {
                    let code = client.commitStoredOffsets()
                    if code == 0 || code == -168 { break }
                    if attempt == 3 { revocationHandOver.failedCommits.withLock { $0 += 1 } }
                    logger.warning(
                        "committing at the revoke failed (\(RDKafkaClient.errorDescription(code)), attempt \(attempt) of 3)\(attempt < 3 ? "; trying again" : ": the next owner reads those records again (and recognises what was done)")")
                    if attempt < 3 { usleep(200_000) }
                }
            }
        }
        try client.subscribe(configuration.topics)
    }

    /// Batches of records, in partition order within each batch. Iterate from one task only.
    /// Unless `storeOffsetsAutomatically` is false, asking for the next batch marks the previous
    /// one as done (its offsets are then committed).
    public func batches(storeOffsetsAutomatically: Bool = true) -> Batches {
        Batches(consumer: self, storesAutomatically: storeOffsetsAutomatically)
    }

    /// This member's assignments and revokes (also the revoke of its close, at graceful
    /// shutdown), in the order they happen. Each revoke is handed over before its offsets are
    /// committed: the polling thread waits until the handler calls `done()` on it, or
    /// `revokeTimeout` passed. Ask once, before `run()`; the sequence ends when the consumer is
    /// closed. Without a call, revokes are not handed over.
    public func rebalances(revokeTimeout: Duration = .seconds(60)) -> AsyncStream<KafkaRebalance> {
        revocationHandOver.stream(timeout: revokeTimeout)
    }

    /// Records, rebalances and ticks as one sequence, in the order they happened: what
    /// `batches(storeOffsetsAutomatically: false)` and `rebalances(revokeTimeout:)` give apart,
    /// with one wake-up of the reading task per hand-over. An assignment comes before its
    /// records; records buffered before a revoke come before it. Each revoke is handed over as
    /// `rebalances` describes. Ask once, before `run()`, and iterate from one task only; the
    /// sequence ends when the consumer is closed. Offsets are stored only by `storeOffsets`.
    public func events(revokeTimeout: Duration = .seconds(60)) -> Events {
        let buffer = self.buffer
        let id = revocationHandOver.listen(
            deliver: { rebalance in
                switch rebalance {
                case .assigned(let partitions): buffer.enqueue(.assigned(partitions))
                case .revoked(let revocation): buffer.enqueue(.revoked(revocation))
                }
            },
            finish: {}, timeout: revokeTimeout)
        return Events(consumer: self, registration: Events.Registration(handOver: revocationHandOver, id: id))
    }

    /// Ticks of `events` every `interval` while it is set, `nil` for none (the default). The
    /// polling thread queues them (one at most waits), so an idle consumer with ticks off does
    /// not wake its reader.
    public func setTicks(_ interval: Duration?) {
        let nanoseconds = interval.map { max(1, Int64($0.components.seconds) * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000) } ?? 0
        let previous = tickNanoseconds.exchange(nanoseconds, ordering: .relaxed)
        // The polling thread may be in a long poll: it starts ticking at once.
        if previous != nanoseconds && nanoseconds != 0 { client.wakeConsumerQueue() }
    }

    /// `kafka_consumer_assigned_partition{group,topic,partition}`: 1 while this member holds the
    /// partition, 0 after it was revoked; so every member's metrics say which partitions it owns.
    static func recordAssignment(_ partitions: [KafkaTopicPartition], group: String, held: Bool) {
        for partition in partitions {
            Gauge(label: "kafka_consumer_assigned_partition", dimensions: [("group", group), ("topic", partition.topic), ("partition", "\(partition.partition)")])
                .record(held ? 1 : 0)
        }
    }

    /// `topic[0,1,2]` per topic, for logs.
    static func describe(_ partitions: [KafkaTopicPartition]) -> String {
        Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }
            .map { "\($0.key)\($0.value.map(\.partition).sorted())" }.joined(separator: " ")
    }

    /// The generation of a partition's current assignment (see `KafkaMessage.assignmentGeneration`),
    /// or `nil` when this member does not hold it. While a revoke is handed over, the revoked
    /// partitions still have theirs.
    public func assignmentGeneration(of partition: KafkaTopicPartition) -> UInt64? {
        buffer.generation(of: partition)
    }

    /// The partitions this member holds now.
    public var assignment: [KafkaTopicPartition] { buffer.assignment }

    /// Records lost to gaps so far (deleted by the broker before this group read them).
    public var lostMessageCount: Int { lostMessages.withLock { $0 } }

    /// Revokes whose commit failed every attempt (the group was rebalancing, or the coordinator
    /// unreachable): the next owner reads those records again.
    public var failedRevokeCommitCount: Int { revocationHandOver.failedCommits.withLock { $0 } }

    /// Marks records as done: the next offset of each partition becomes committable.
    public func storeOffsets(_ messages: some Sequence<KafkaMessage>) {
        var next: [KafkaTopicPartition: Int64] = [:]
        // Batches come in runs of one partition: the dictionary is touched once a run.
        var run: (topic: String, partition: Int32, next: Int64)?
        func close(_ run: (topic: String, partition: Int32, next: Int64)) {
            let partition = KafkaTopicPartition(topic: run.topic, partition: run.partition)
            if run.next > next[partition, default: -1] { next[partition] = run.next }
        }
        for message in messages {
            if let current = run, current.partition == message.partition, current.topic == message.topic {
                run!.next = max(current.next, message.offset + 1)
            } else {
                if let run { close(run) }
                run = (message.topic, message.partition, message.offset + 1)
            }
        }
        if let run { close(run) }
        if !next.isEmpty { client.storeOffsets(next) }
    }

    /// Stores, per partition, the offset after `lastProcessed`: every record up to and including
    /// that offset is done.
    public func storeOffsets(lastProcessed: [KafkaTopicPartition: Int64]) {
        guard !lastProcessed.isEmpty else { return }
        client.storeOffsets(lastProcessed.mapValues { $0 + 1 })
    }

    /// Stores, per partition, the offset after each given record: every record of its partition up
    /// to and including it is done. A record read under an assignment that has since been revoked
    /// is skipped: the partition was read again from its committed offset (here or by another
    /// member), and work left from the old assignment must not move its offset.
    public func storeOffsets(lastProcessed records: some Sequence<KafkaRecordID>) {
        var next: [KafkaTopicPartition: Int64] = [:]
        for record in records where buffer.generation(of: record.partition) == record.generation {
            if record.offset + 1 > next[record.partition, default: -1] { next[record.partition] = record.offset + 1 }
        }
        if !next.isEmpty { client.storeOffsets(next) }
    }

    /// Polls until graceful shutdown or cancellation, then commits what is stored and leaves the group.
    public func run() async throws {
        let thread = BlockingThread(name: "kafka-consumer-poll") { [self] in pollLoop() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await thread.join() }
            group.addTask { try? await gracefulShutdown() }
            await group.next()
            stopRequested.withLock { $0 = true }
            client.wakeConsumerQueue()
            group.cancelAll()
            await group.waitForAll()
        }
        await thread.join()
    }

    private func pollLoop() {
        var topicNames = TopicNames()
        var headerNames = HeaderNames()
        var messages: [KafkaMessage] = []
        var events: [ConsumerPollEvent] = []
        let timeout = Int32(clamping: configuration.pollTimeout.milliseconds)
        defer {
            let code = client.closeConsumer()
            if code != 0 { logger.warning("closing the consumer: \(RDKafkaClient.errorDescription(code))") }
            buffer.finish()
            revocationHandOver.finish()
        }
        client.loadMetadata(for: configuration.topics, timeoutMilliseconds: 5_000)
        var nextTick: ContinuousClock.Instant?
        while !stopRequested.withLock({ $0 }) {
            // Ticks (`setTicks`): due ones are queued; the poll below waits no longer than the next.
            let tickInterval = tickNanoseconds.load(ordering: .relaxed)
            var pollTimeout = timeout
            if tickInterval > 0 {
                let now = ContinuousClock.now
                var due = nextTick ?? now + .nanoseconds(tickInterval)
                if now >= due {
                    buffer.enqueue(.tick)
                    due = now + .nanoseconds(tickInterval)
                }
                nextTick = due
                pollTimeout = Int32(clamping: min(Int64(timeout), max(0, (due - now).milliseconds + 1)))
            } else {
                nextTick = nil
            }
            // A full buffer stops polling until the handler has drained it to its low watermark.
            // (Pausing the partitions instead makes librdkafka 2.0.2 drop what it prefetched and
            // stall up to a second after resuming.) librdkafka's own prefetch stays bounded by
            // `queued.max.messages.kbytes`, and its threads keep the group membership alive.
            if buffer.isPaused {
                if !buffer.takeResumeRequest() {
                    usleep(1_000)
                    continue
                }
            }
            // One look-up (a lock and a hash of the topic name) per run of records of one
            // partition, not per record, unless an assign or revoke came in between.
            var lastGeneration: (partition: KafkaTopicPartition, changes: UInt64, generation: UInt64)?
            client.pollBatch(
                maxMessages: configuration.maxBatchSize, timeoutMilliseconds: pollTimeout, topicNames: &topicNames, headerNames: &headerNames,
                readsHeaders: configuration.readsHeaders, messages: &messages, events: &events,
                generation: { [buffer] partition in
                    let changes = buffer.assignmentChangeCount
                    if let last = lastGeneration, last.changes == changes, last.partition.partition == partition.partition,
                        last.partition.topic == partition.topic
                    {
                        return last.generation
                    }
                    let generation = buffer.generation(of: partition) ?? 0
                    lastGeneration = (partition, changes, generation)
                    return generation
                })
            for event in events { handle(event) }
            events.removeAll(keepingCapacity: true)
            if !messages.isEmpty {
                if buffer.push(messages) {
                    logger.debug("buffer full: polling waits for the handler")
                }
                messages = []
                messages.reserveCapacity(64)
            }
        }
    }

    private func handle(_ event: ConsumerPollEvent) {
        switch event {
        case .offsetReset(let partition, let offset, let reason):
            resolveOffsetReset(partition, failedOffset: offset, reason: reason)
        case .error(let code, let message, let partition):
            logger.error("consumer error\(partition.map { " on \($0)" } ?? ""): \(message)", metadata: ["kafka.error": "\(RDKafkaClient.errorName(code))"])
        }
    }

    /// librdkafka stopped a partition because it could not continue from its offset: either the
    /// offset is out of range (a gap: records deleted before this group read them: report the loss
    /// and go on from the oldest record left), or no offset could be found at all (start at
    /// `initialOffset`).
    private func resolveOffsetReset(_ partition: KafkaTopicPartition, failedOffset: Int64, reason: String) {
        let known = failedOffset >= 0 ? failedOffset : client.committedOffset(partition, timeoutMilliseconds: 5_000)
        guard let watermarks = client.watermarks(partition, timeoutMilliseconds: 5_000) else {
            logger.error("\(partition) stopped (\(reason)) and its watermarks cannot be read; restarting at the oldest record")
            client.restart(partition, at: RDKafkaClient.offsetBeginning, assignment: buffer.assignment)
            return
        }
        let start: Int64
        if let known, known < watermarks.low {
            let lost = Int(watermarks.low - known)
            lostMessages.withLock { $0 += lost }
            Counter(label: "kafka_consumer_lost_messages_total", dimensions: [("topic", partition.topic), ("partition", "\(partition.partition)")])
                .increment(by: lost)
            logger.error(
                "DATA LOSS: \(lost) records of \(partition) (offsets \(known)..<\(watermarks.low)) were deleted by the broker before group '\(configuration.groupID)' read them; continuing at \(watermarks.low)",
                metadata: ["kafka.lost": "\(lost)"])
            start = watermarks.low
        } else if let known {
            logger.error("\(partition): offset \(known) is past the end (\(watermarks.high)): was the topic recreated? Restarting at \(watermarks.low)")
            start = watermarks.low
        } else {
            start = configuration.initialOffset == .beginning ? watermarks.low : watermarks.high
            logger.debug("\(partition): no offset (\(reason)); starting at \(start)")
        }
        let code = client.restart(partition, at: start, assignment: buffer.assignment)
        if code != 0 { logger.error("cannot restart \(partition) at \(start): \(RDKafkaClient.errorDescription(code))") }
    }

    /// Batches of records as an async sequence.
    public struct Batches: AsyncSequence, Sendable {
        public typealias Element = [KafkaMessage]
        public typealias Failure = Never
        let consumer: KafkaConsumer
        let storesAutomatically: Bool

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(consumer: consumer, storesAutomatically: storesAutomatically)
        }

        public struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            let storesAutomatically: Bool
            var previous: [KafkaMessage]?
            var timing = HandOutTiming()

            public mutating func next() async -> [KafkaMessage]? {
                timing.handlerDone(group: consumer.configuration.groupID)
                if let previous {
                    consumer.storeOffsets(previous)
                    self.previous = nil
                }
                let client = consumer.client
                let batch = await consumer.buffer.next { client.wakeConsumerQueue() }
                if storesAutomatically { previous = batch }
                if let batch { timing.handedOut(batch) }
                return batch
            }
        }
    }

    /// Records, rebalances and ticks as one async sequence (see `events(revokeTimeout:)`).
    public struct Events: AsyncSequence, Sendable {
        public typealias Element = KafkaConsumerEvent
        public typealias Failure = Never
        let consumer: KafkaConsumer
        let registration: Registration

        /// Lets revokes stop waiting for a reader that is gone (its iterator was released).
        final class Registration: Sendable {
            let handOver: RevocationHandOver
            let id: UInt64

            init(handOver: RevocationHandOver, id: UInt64) {
                self.handOver = handOver
                self.id = id
            }

            deinit { handOver.stopListening(id) }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(consumer: consumer, registration: registration)
        }

        /// The reader is done: revokes no longer wait for it (as when the sequence and its
        /// iterators are released).
        public func stopReading() {
            registration.handOver.stopListening(registration.id)
        }

        public struct AsyncIterator: AsyncIteratorProtocol {
            let consumer: KafkaConsumer
            let registration: Registration
            var timing = HandOutTiming()

            public mutating func next() async -> KafkaConsumerEvent? {
                timing.handlerDone(group: consumer.configuration.groupID)
                let client = consumer.client
                let event = await consumer.buffer.nextEvent { client.wakeConsumerQueue() }
                if case .records(let batch) = event { timing.handedOut(batch) }
                return event
            }
        }
    }

    /// How long the handler spent on each batch, per topic (`MessagingMetrics.processed`): from
    /// its hand-out to the next call.
    struct HandOutTiming {
        /// When the last batch was handed out.
        var handedOutAt: ContinuousClock.Instant?
        var topics: [String: Int] = [:]

        mutating func handlerDone(group: String) {
            guard let handedOutAt else { return }
            MessagingMetrics.processed(topics, duration: ContinuousClock.now - handedOutAt, group: group)
            self.handedOutAt = nil
        }

        mutating func handedOut(_ batch: [KafkaMessage]) {
            guard !batch.isEmpty else { return }
            // Counted per run of one topic: the dictionary is touched once a run, not once a record.
            var topics: [String: Int] = [:]
            var run = (topic: batch[0].topic, count: 0)
            for message in batch {
                if message.topic == run.topic {
                    run.count += 1
                } else {
                    topics[run.topic, default: 0] += run.count
                    run = (message.topic, 1)
                }
            }
            topics[run.topic, default: 0] += run.count
            self.topics = topics
            handedOutAt = .now
        }
    }
}
