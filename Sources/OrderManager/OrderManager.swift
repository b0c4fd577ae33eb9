import AsyncAlgorithms
import Baggage
import BoundedCollections
import Kafka
import KafkaTracing
import Logging
import Metrics
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
public struct OrderManager: Service {
    public let configuration: OrderManagerConfiguration
    let kafka: ComponentKafka
    let logger: Logger

    /// - Parameters:
    ///   - consumer: subscribed to the client-orders topic; this service runs it.
    ///   - producer: the caller runs it as a service of its own, after this one in shutdown order.
    public init(configuration: OrderManagerConfiguration, consumer: KafkaConsumer, producer: KafkaProducer, logger: Logger) {
        self.configuration = configuration
        self.kafka = ComponentKafka(consumer: consumer, producer: producer)
        self.logger = logger
    }

    public func run() async throws {
        try await kafka.run { try await process() }
    }

    enum Event: Sendable {
        case records([KafkaMessage])
        case tick
        case end
    }

    func process() async throws {
        var state = State(configuration: configuration)
        let records = chain(kafka.consumer.batches(storeOffsetsAutomatically: false).map { Event.records($0) }, [Event.end].async)
        let ticks = AsyncTimerSequence(interval: configuration.tick, clock: .continuous).map { _ in Event.tick }
        for await event in merge(records, ticks) {
            var outgoing = Outgoing()
            switch event {
            case .records(let messages):
                for message in messages {
                    handle(message, state: &state, outgoing: &outgoing)
                }
                for closed in state.pool.closeExpired(now: .now) {
                    emit(closed, state: &state, outgoing: &outgoing)
                }
            case .tick:
                guard let deadline = state.pool.nextDeadline, deadline <= .now else { continue }
                for closed in state.pool.closeExpired(now: .now) {
                    emit(closed, state: &state, outgoing: &outgoing)
                }
            case .end:
                for closed in state.pool.closeAll() {
                    emit(closed, state: &state, outgoing: &outgoing)
                }
            }
            try await send(outgoing, state: &state)
            if case .end = event { break }
        }
    }

    /// What one step sends, and the records that are done once it is delivered.
    struct Outgoing {
        var items: [(KafkaProducerRecord, ServiceContext)] = []
        var done: [KafkaRecordID] = []
    }

    /// What the order manager knows between records; owned by its one loop.
    struct State {
        var pool: OrderPool<Member>
        var seen: RecentSet<OrderKey>
        var offsets = OffsetTracker()
        /// The record each pooled order is tracked by. A copy of the order read again after a
        /// rebalance takes over from the first one: its record is done only when the batch is sent.
        var pooledSources: [OrderKey: KafkaRecordID] = [:]
        var batchCount = 0
        let batchIDPrefix: String

        init(configuration: OrderManagerConfiguration) {
            pool = OrderPool(limits: configuration.limits)
            seen = RecentSet(capacity: max(1, configuration.duplicateMemory))
            batchIDPrefix = configuration.batchIDPrefix
        }

        mutating func nextBatchID(symbol: String, side: Side) -> String {
            batchCount += 1
            return "\(batchIDPrefix)-\(symbol)-\(side.rawValue)-\(batchCount)"
        }
    }

    /// A pooled order's trace context (its `order_manager_processing` span and baggage), that
    /// context as its batch member carries it, and its record.
    struct Member: Sendable {
        var context: ServiceContext
        var stored: StoredContext
        var source: KafkaRecordID
    }

    func handle(_ message: KafkaMessage, state: inout State, outgoing: inout Outgoing) {
        let source = state.offsets.add(message)
        let processSpan = kafka.tracing.startProcessSpan(message, rootName: OrderManagerSpans.clientOrderReceived)
        defer { processSpan.end() }
        let span = OrderManagerSpans.startProcessing(context: processSpan.context)
        defer { span.end() }
        let topics = configuration.topics
        switch OrderIntake.classify(message.value) {
        case .malformed(let errorType, let reason):
            span.attributes[BusinessAttribute.rejectReason] = reason
            span.setStatus(SpanStatus(code: .error, message: "malformed client order: \(errorType)"))
            logger.warning("dead-lettered \(message.topic)[\(message.partition)]@\(message.offset): \(reason)")
            outgoing.items.append((DeadLetter.record(for: message, errorType: errorType, errorMessage: reason, topic: topics.deadLetters), span.context))
            outgoing.done.append(source)
        case .rejected(let update, let reason):
            var context = span.context
            context.baggage = Self.orderBaggage(context.baggage, userId: update.userId, clientOrderId: update.clientOrderId)
            span.updateAttributes { attributes in
                OrderManagerSpans.setOrderAttributes(&attributes, userId: update.userId, clientOrderId: update.clientOrderId, symbol: update.symbol, side: update.side)
                attributes[BusinessAttribute.status] = OrderStatus.rejected.rawValue
                attributes[BusinessAttribute.rejectReason] = reason
            }
            processSpan.updateAttributes { OrderManagerSpans.setOrderAttributes(&$0, userId: update.userId, clientOrderId: update.clientOrderId, symbol: update.symbol, side: update.side) }
            outgoing.items.append((Self.record(update, topics: topics), context))
            outgoing.done.append(source)
        case .accepted(let order):
            var context = span.context
            context.baggage = Self.orderBaggage(context.baggage, userId: order.userId, clientOrderId: order.clientOrderId)
            span.updateAttributes { attributes in
                OrderManagerSpans.setOrderAttributes(&attributes, userId: order.userId, clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side)
                attributes[BusinessAttribute.quantity] = order.quantity
                attributes[BusinessAttribute.orderType] = order.orderType.rawValue
            }
            // Orders that came without baggage (kcat) get their ids on the process span here.
            processSpan.updateAttributes { OrderManagerSpans.setOrderAttributes(&$0, userId: order.userId, clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side) }
            let key = OrderKey(userId: order.userId, clientOrderId: order.clientOrderId)
            guard state.seen.insert(key) else {
                OrderManagerSpans.markDuplicate(span)
                logger.info("duplicate client order \(order.userId)/\(order.clientOrderId) not batched again")
                if state.pooledSources[key] != nil {
                    // Still pooled: this copy's record is done when the batch is sent.
                    state.pooledSources[key] = source
                } else {
                    outgoing.done.append(source)
                }
                return
            }
            state.pooledSources[key] = source
            span.attributes[BusinessAttribute.status] = OrderStatus.accepted.rawValue
            outgoing.items.append((Self.record(OrderUpdate(order: order, status: .accepted), topics: topics), context))
            let member = Member(context: context, stored: StoredContext(of: context), source: source)
            for closed in state.pool.add(order, item: member, now: .now) {
                emit(closed, state: &state, outgoing: &outgoing)
            }
        }
    }

    /// Sends a closed batch: the `order_batching` root with a link to every member, the batch
    /// record, and per member a `client_order_batched` span and a `batched` update.
    func emit(_ closed: OrderPool<Member>.ClosedBatch, state: inout State, outgoing: inout Outgoing) {
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
        let batchSpan = OrderManagerSpans.startBatching(batch, members: closed.entries.map { ($0.order, $0.item.context) })
        outgoing.items.append((KafkaProducerRecord(topic: configuration.topics.batches, key: closed.symbol, value: batch.encodeJSON()), batchSpan.context))
        for entry in closed.entries {
            let (span, context) = OrderManagerSpans.startBatched(entry.order, batchID: batchID, context: entry.item.context, batchSpan: batchSpan)
            outgoing.items.append((Self.record(OrderUpdate(order: entry.order, status: .batched, batchId: batchID), topics: configuration.topics), context))
            outgoing.done.append(state.pooledSources.removeValue(forKey: OrderKey(userId: entry.order.userId, clientOrderId: entry.order.clientOrderId)) ?? entry.item.source)
            span.end()
        }
        batchSpan.end()
    }

    func send(_ outgoing: Outgoing, state: inout State) async throws {
        try await kafka.send(outgoing.items, logger: logger)
        kafka.consumer.storeOffsets(lastProcessed: state.offsets.finish(outgoing.done))
    }

    static func record(_ update: OrderUpdate, topics: PipelineTopics) -> KafkaProducerRecord {
        KafkaProducerRecord(topic: topics.orderUpdates, key: update.userId, value: update.encodeJSON())
    }

    static func orderBaggage(_ baggage: Baggage?, userId: String, clientOrderId: String) -> Baggage {
        var baggage = baggage ?? Baggage()
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
