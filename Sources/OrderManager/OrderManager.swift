import Baggage
import BoundedCollections
import Kafka
import KafkaTracing
import Logging
import Metrics
import OTLPWire
import OrderModel
import Pipeline
import ServiceLifecycle
import TraceContext
import Tracing

/// The order manager: reads client-orders, validates every order again (kcat users bypass the
/// gateway), and pools accepted orders per (symbol, side) into batches (fan-in).
///
/// - A malformed record goes to dead-letters with its original bytes and headers plus error
///   headers; a readable but unacceptable order gets a `rejected` update; a duplicate
///   (userId, clientOrderId) is not batched twice.
/// - Each accepted order gets an `accepted` update; when its batch closes, a `batched` update.
/// - Spans per the trace model: `order_manager_processing` per order (under `process
///   client-orders`, or under a new `client_order_received` root when the record carried no
///   trace context), `order_batching` as the root of each batch trace with a link to every
///   member, and `client_order_batched` in each member's trace with a link back.
/// - Offsets are stored only up to the first record whose outcome is not yet delivered, so a
///   crash re-reads pooled orders instead of losing them.
///
/// No order is batched twice, whatever stops the process or moves a partition:
/// - **Revoke and shutdown.** The component loop hands every revoke over (`ComponentEvent.revoked`)
///   before it commits for it, and on SIGTERM its close revokes everything before it leaves the
///   group. The order manager then closes every open batch holding an order of those partitions,
///   delivers the batches and their `batched` updates and stores their offsets: the commit that
///   follows covers them, and nothing of those partitions stays pooled here. Records of a revoked
///   assignment that were still on their way are ignored (their next owner reads them).
/// - **Crash.** Offsets cannot pass a pooled order, so orders batched behind it are read again.
///   Each batch record carries the source position of every member (header
///   `ordertrace.member-sources`). When a partition's records first arrive under a new assignment,
///   starting at offset c (the committed one), the order manager reads the batches topic from the
///   time of record c minus `memoryMargin` to its end and remembers every member from that
///   partition at an offset of at least c: those records are acknowledged without a second
///   batch or a second `accepted`/`batched` update. This reads what the order manager itself
///   wrote, so it needs no store of its own and no transactions (which would not help: the
///   offsets of a transaction still cannot pass a pooled order).
public struct OrderManager: Service {
    public let configuration: OrderManagerConfiguration
    let kafka: ComponentKafka
    let logger: Logger

    /// - Parameters:
    ///   - consumer: subscribed to the client-orders topic; this service runs it.
    ///   - producer: the caller runs it as a service of its own, after this one in shutdown order.
    public init(configuration: OrderManagerConfiguration, consumer: KafkaConsumer, producer: KafkaProducer, logger: Logger) {
        self.configuration = configuration
        // Anyone may write client-orders (kcat), so its records' baggage cannot say which
        // user, order, batch, exchange order or fill they belong to: the order manager sets the
        // order's own ids (orderBaggage), and the later ones are set where they are made.
        self.kafka = ComponentKafka(consumer: consumer, producer: producer, distrustedBaggageKeys: BaggageAllowList.businessIDs.keys)
        self.logger = logger
    }

    public func run() async throws {
        var state = State(configuration: configuration)
        let admin = try KafkaAdmin(configuration: kafka.consumer.configuration.kafka, logger: logger)
        try await kafka.run(tick: configuration.tick, revokeTimeout: configuration.revokeTimeout, logger: logger) { event, step in
            // Ticks only while a batch window is open: an idle order manager does not wake.
            defer { step.wantsTicks = state.pool.nextDeadline != nil }
            switch event {
            case .records(let messages):
                try await rememberBatched(startingWith: messages, state: &state, admin: admin)
                for message in messages {
                    handle(message, state: &state, step: &step)
                }
                for closed in state.pool.closeExpired(now: .now) {
                    emit(closed, state: &state, step: &step)
                }
            case .tick:
                guard let deadline = state.pool.nextDeadline, deadline <= .now else { return }
                for closed in state.pool.closeExpired(now: .now) {
                    emit(closed, state: &state, step: &step)
                }
            case .revoked(let partitions):
                // The batches holding their orders go out now, and their records are done with
                // them: the commit that follows covers them, and nothing of theirs stays pooled.
                let revoked = Set(partitions)
                for closed in state.pool.close(where: { revoked.contains($0.item.source.partition) }) {
                    emit(closed, state: &state, step: &step)
                }
                state.forget(partitions)
                logger.debug("revoked \(partitions): their batches go out before the commit")
            case .end:
                for closed in state.pool.closeAll() {
                    emit(closed, state: &state, step: &step)
                }
            case .assigned:
                return
            }
        }
    }

    /// The header of a batch record that lists its members' source records, `topic:partition:offset`
    /// separated by commas (a member whose order was read twice lists both reads).
    public static let memberSourcesHeader = "ordertrace.member-sources"

    /// For each partition whose records arrive under a new assignment, remembers which of its
    /// records from the first one on are members of batches already on the batches topic.
    func rememberBatched(startingWith messages: [KafkaMessage], state: inout State, admin: KafkaAdmin) async throws {
        var starts: [KafkaTopicPartition: (offset: Int64, timestamp: Int64?, generation: UInt64)] = [:]
        for message in messages {
            let partition = KafkaTopicPartition(topic: message.topic, partition: message.partition)
            guard state.generations[partition] != message.assignmentGeneration, starts[partition] == nil else { continue }
            starts[partition] = (message.offset, message.timestampMilliseconds, message.assignmentGeneration)
        }
        guard !starts.isEmpty else { return }
        let margin = Int64(configuration.memoryMargin / .milliseconds(1))
        let since = starts.values.map { ($0.timestamp ?? 0) - margin }.min() ?? 0
        var batches: [KafkaMessage] = []
        var attempt = 0
        while true {
            do {
                batches = try await admin.records(of: configuration.topics.batches, since: since, timeout: .seconds(60))
                break
            } catch {
                attempt += 1
                guard attempt < 5 else { throw error }
                logger.warning("reading \(configuration.topics.batches) to rebuild what was batched: \(error); trying again")
                try await Task.sleep(for: .milliseconds(500 * attempt))
            }
        }
        for (partition, start) in starts {
            state.generations[partition] = start.generation
            state.batchedSources[partition] = []
        }
        for batch in batches {
            guard let sources = batch.headers.string(Self.memberSourcesHeader) else { continue }
            for source in sources.split(separator: ",") {
                let parts = source.split(separator: ":")
                guard parts.count == 3, let number = Int32(parts[1]), let offset = Int64(parts[2]) else { continue }
                let partition = KafkaTopicPartition(topic: String(parts[0]), partition: number)
                guard let start = starts[partition], offset >= start.offset else { continue }
                state.batchedSources[partition]!.insert(offset)
            }
        }
        for (partition, start) in starts {
            let count = state.batchedSources[partition]!.count
            logger.info("\(partition) from offset \(start.offset): \(count) records already batched (read from \(batches.count) batch records)")
        }
    }

    /// What the order manager knows between records; owned by its one loop. Everything kept
    /// per partition is dropped with the partition (`forget`).
    struct State {
        var pool: OrderPool<Member>
        var seen: RecentSet<OrderKey>
        /// The record each pooled order is tracked by. A copy of the order read again after a
        /// rebalance takes over from the first one: its record is done only when the batch is sent.
        var pooledSources: [OrderKey: KafkaRecordID] = [:]
        /// The assignment generation each partition's records were last handled under.
        var generations: [KafkaTopicPartition: UInt64] = [:]
        /// Per partition, the offsets (from the current assignment's first record on) of records
        /// already in a batch on the batches topic.
        var batchedSources: [KafkaTopicPartition: Set<Int64>] = [:]
        var batchCount = 0
        let batchIDPrefix: String

        init(configuration: OrderManagerConfiguration) {
            pool = OrderPool(limits: configuration.limits)
            seen = RecentSet(capacity: max(1, configuration.duplicateMemory))
            batchIDPrefix = configuration.batchIDPrefix
        }

        /// Drops what is known of revoked partitions (their open batches are already closed).
        mutating func forget(_ partitions: [KafkaTopicPartition]) {
            for partition in partitions {
                generations[partition] = nil
                batchedSources[partition] = nil
            }
        }

        mutating func nextBatchID(symbol: String, side: Side) -> String {
            batchCount += 1
            return "\(batchIDPrefix)-\(symbol)-\(side.rawValue)-\(batchCount)"
        }
    }

    /// A pooled order's trace context (its `order_manager_processing` span with the order's
    /// baggage: no `ServiceContext` is made for it), that context as its batch member carries
    /// it, and its record.
    struct Member: Sendable {
        var parent: MessagingParent
        var stored: StoredContext
        var source: KafkaRecordID
    }

    func handle(_ message: KafkaMessage, state: inout State, step: inout ComponentStep) {
        let source = KafkaRecordID(message)
        let tracer = MessagingTracing.current
        let processSpan = kafka.tracing.startProcessSpan(message, rootName: OrderManagerSpans.clientOrderReceived, tracer: tracer)
        defer { processSpan.end() }
        let span = OrderManagerSpans.startProcessing(parent: .span(processSpan), tracer: tracer)
        defer { span.end() }
        let topics = configuration.topics
        switch OrderIntake.classify(message.value) {
        case .malformed(let errorType, let reason):
            span.attributes[BusinessAttribute.rejectReason] = reason
            span.setStatus(SpanStatus(code: .error, message: "malformed client order: \(errorType)"))
            logger.warning("dead-lettered \(message.topic)[\(message.partition)]@\(message.offset): \(reason)")
            step.send(DeadLetter.record(for: message, errorType: errorType, errorMessage: reason, topic: topics.deadLetters), context: span.context)
        case .rejected(let update, let reason):
            let parent = tracer.parent(span, baggage: Self.orderBaggage(span.baggage, userId: update.userId, clientOrderId: update.clientOrderId))
            if span.isRecording {
                let ids = OrderManagerSpans.orderAttributes(userId: update.userId, clientOrderId: update.clientOrderId, symbol: update.symbol, side: update.side)
                span.setAttributes(
                    ids + [
                        Attribute(BusinessAttribute.status, .string(OrderStatus.rejected.rawValue)),
                        Attribute(BusinessAttribute.rejectReason, .string(reason)),
                    ])
                processSpan.setAttributes(ids)
            }
            step.send(Self.record(update, topics: topics), parent: parent)
        case .accepted(let order):
            let parent = tracer.parent(span, baggage: Self.orderBaggage(span.baggage, userId: order.userId, clientOrderId: order.clientOrderId))
            if span.isRecording {
                let ids = OrderManagerSpans.orderAttributes(userId: order.userId, clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side)
                span.setAttributes(
                    ids + [
                        Attribute(BusinessAttribute.quantity, .int(order.quantity)),
                        Attribute(BusinessAttribute.orderType, .string(order.orderType.rawValue)),
                    ])
                // Orders that came without baggage (kcat) get their ids on the process span here.
                processSpan.setAttributes(ids)
            }
            let key = OrderKey(userId: order.userId, clientOrderId: order.clientOrderId)
            if state.batchedSources[source.partition]?.remove(source.offset) != nil {
                // Batched before a restart or a partition move: its batch and updates are out.
                _ = state.seen.insert(key)
                OrderManagerSpans.markDuplicate(span)
                logger.info("client order \(order.userId)/\(order.clientOrderId) (\(message.topic)[\(message.partition)]@\(message.offset)) is already in a batch; not batched again")
                return
            }
            guard state.seen.insert(key) else {
                OrderManagerSpans.markDuplicate(span)
                logger.info("duplicate client order \(order.userId)/\(order.clientOrderId) not batched again")
                if state.pooledSources[key] != nil {
                    // Still pooled: this copy's record is done when the batch is sent.
                    state.pooledSources[key] = source
                    step.hold(source)
                }
                return
            }
            state.pooledSources[key] = source
            step.hold(source)
            span.setAttribute(BusinessAttribute.status, .string(OrderStatus.accepted.rawValue))
            step.send(Self.record(OrderUpdate(order: order, status: .accepted), topics: topics), parent: parent)
            let member = Member(parent: parent, stored: StoredContext(of: parent), source: source)
            for closed in state.pool.add(order, item: member, now: .now) {
                emit(closed, state: &state, step: &step)
            }
        }
    }

    /// Sends a closed batch: the `order_batching` root with a link to every member, the batch
    /// record, and per member a `client_order_batched` span and a `batched` update.
    func emit(_ closed: OrderPool<Member>.ClosedBatch, state: inout State, step: inout ComponentStep) {
        let batchID = state.nextBatchID(symbol: closed.symbol, side: closed.side)
        let now = WallClock.nowMilliseconds()
        let openedAt = now - Int64((ContinuousClock.now - closed.openedAt) / .milliseconds(1))
        let batch = Batch(
            batchId: batchID, symbol: closed.symbol, side: closed.side,
            members: closed.entries.map {
                Batch.Member(
                    clientOrderId: $0.order.clientOrderId, userId: $0.order.userId, quantity: $0.order.quantity,
                    limitPrice: $0.order.limitPrice, traceparent: $0.item.stored.traceparent,
                    tracestate: $0.item.stored.tracestate, baggage: $0.item.stored.baggage)
            },
            closeReason: closed.closeReason,
            openedAt: WallClock.format(seconds: Int(openedAt / 1_000), milliseconds: Int(openedAt % 1_000)),
            closedAt: WallClock.format(seconds: Int(now / 1_000), milliseconds: Int(now % 1_000)))

        Recorder(label: "ordertrace_batch_orders", dimensions: [("close_reason", closed.closeReason.rawValue)]).record(closed.entries.count)
        Timer(label: "ordertrace_batch_wait_seconds").recordNanoseconds(Int64((ContinuousClock.now - closed.openedAt) / .nanoseconds(1)))
        let tracer = MessagingTracing.current
        let batchSpan = OrderManagerSpans.startBatching(batch, members: closed.entries.map { ($0.order, $0.item.parent) })
        var sources: [KafkaRecordID] = []
        var done: [KafkaRecordID] = []
        for entry in closed.entries {
            let tracked = state.pooledSources.removeValue(forKey: OrderKey(userId: entry.order.userId, clientOrderId: entry.order.clientOrderId)) ?? entry.item.source
            sources.append(entry.item.source)
            if tracked != entry.item.source { sources.append(tracked) }
            done.append(tracked)
        }
        var batchRecord = KafkaProducerRecord(topic: configuration.topics.batches, key: closed.symbol, value: batch.encodeJSON())
        batchRecord.headers.set(Self.memberSourcesHeader, sources.map { "\($0.partition.topic):\($0.partition.partition):\($0.offset)" }.joined(separator: ","))
        step.send(batchRecord, context: batchSpan.context)
        // Each order's `batched` mark in its own trace. Its `batched` update is the allocator's,
        // sent when the batch reaches it: the allocator then writes every state of the order
        // from `batched` on, in order (two writers of one order's states could not keep them in
        // order: a fill's update could overtake the `batched` one).
        for entry in closed.entries {
            OrderManagerSpans.recordBatched(entry.order, batchID: batchID, parent: entry.item.parent, batchSpan: batchSpan, tracer: tracer)
        }
        step.finish(done)
        batchSpan.end()
    }

    static func record(_ update: OrderUpdate, topics: PipelineTopics) -> KafkaProducerRecord {
        KafkaProducerRecord(topic: topics.orderUpdates, key: update.userId, value: update.encodeJSON())
    }

    static func orderBaggage(_ baggage: Baggage?, userId: String, clientOrderId: String) -> Baggage {
        var baggage = baggage ?? Baggage()
        for key in BaggageAllowList.businessIDs.keys where key != BusinessAttribute.userID && key != BusinessAttribute.clientOrderID {
            baggage.removeAll(key: key)
        }
        if baggage[BusinessAttribute.userID] != userId {
            baggage.removeAll(key: BusinessAttribute.userID)
            baggage.append(.init(key: BusinessAttribute.userID, value: userId))
        }
        if baggage[BusinessAttribute.clientOrderID] != clientOrderId {
            baggage.removeAll(key: BusinessAttribute.clientOrderID)
            baggage.append(.init(key: BusinessAttribute.clientOrderID, value: clientOrderId))
        }
        return baggage
    }
}
