import Baggage
import ExchangeProtocol
import Kafka
import KafkaTracing
import Logging
import OrderModel
import Pipeline
import ServiceLifecycle
import Synchronization
import Tracing
import WebSocketClient

/// The exchange gateway: reads `exchange-orders`, sends each to the exchange over one WebSocket,
/// and publishes every execution, reject and cancel that comes back as a fill on `fills`
/// (key: symbol). Malformed records go to `dead-letters` with the reason.
///
/// It names its exchange session (`sessionName`): the exchange keeps the session's orders and
/// executions across connections and restarts of the gateway, and never executes one of its order
/// ids twice. The gateway keeps the connection up (reconnecting with a doubling backoff) and on
/// every connection sends each open order again, with its original id and quantity; the exchange
/// answers an order it knows with its state (`order_status`), which becomes the fills it implies
/// (see ``OpenExchangeOrders``). Orders open longer than `orderTimeout` are canceled, and a question
/// left unanswered is asked again and, after `maxUnansweredTries`, ends its order, so every
/// exchange order ends. At most `maxOpenOrders` are open:
/// past that it stops reading Kafka until some finish (the consumer's buffer fills and fetching
/// pauses). A record's offset is stored only when it is done: its order ended and the final
/// fill was delivered, or it was dead-lettered or recognised as a duplicate.
///
/// Tracing (see `trace-model.md`): per record `process exchange-orders` → `external_exchange_ws_send`
/// (CLIENT; baggage `exchange.order_id` added). The context of that span is kept with the open
/// order; each reply gets `external_exchange_ws_recv` (CONSUMER) parented on it →
/// `exchange_fill_received` → `send fills` (baggage `fill.id` added). A send on a later connection
/// (a resend after a reconnect, or a first send of an order that waited for the connection), a
/// question asked again and a timeout `cancel` are child `external_exchange_ws_send` spans of the
/// original one, with `exchange.attempt` and `exchange.wire_order_id`; the original stays the
/// parent of replies.
///
/// `run()` runs the consumer, the Kafka loop, the connection and the fill publisher until
/// graceful shutdown. The caller runs the producer (a `Service` too) and should shut it down
/// after this service, so the last fills are flushed.
public final class ExchangeGateway: Service, Sendable {
    /// The settings it runs with.
    public let configuration: ExchangeGatewayConfiguration
    private let kafka: ComponentKafka
    private let producer: KafkaProducer
    private let logger: Logger
    private let state: GatewayState
    private let fills: BoundedQueue<PendingFill>
    private let sessionCount = Mutex(0)

    /// A fill on its way from the receive loop to the producer, with the context to send it in.
    struct PendingFill: Sendable {
        var fill: Fill
        var context: ServiceContext
        var endsOrder: Bool
    }

    /// - Parameters:
    ///   - configuration: the gateway's settings.
    ///   - consumer: a consumer subscribed to `configuration.topics.exchangeOrders`; `run()` runs it.
    ///   - producer: the producer of fills and dead letters; the caller runs it.
    ///   - logger: where the gateway logs.
    public init(
        configuration: ExchangeGatewayConfiguration, consumer: KafkaConsumer, producer: KafkaProducer,
        logger: Logger = Logger(label: "ordertrace.exchange-gateway")
    ) {
        self.configuration = configuration
        self.kafka = ComponentKafka(consumer: consumer, producer: producer)
        self.producer = producer
        self.logger = logger
        self.state = GatewayState(
            openOrders: OpenExchangeOrders(
                maxOpenOrders: configuration.maxOpenOrders, orderTimeout: configuration.orderTimeout,
                doneOrderMemory: configuration.doneOrderMemory, answerTimeout: configuration.answerTimeout,
                maxUnansweredTries: configuration.maxUnansweredTries))
        self.fills = BoundedQueue(capacity: configuration.fillBufferCapacity)
    }

    /// How many exchange orders are open now.
    public var openOrderCount: Int { state.openOrders.openCount }

    /// The ids of the exchange orders open now, sorted.
    public var openOrderIDs: [String] { state.openOrders.openOrderIDs }

    /// How many connections to the exchange were opened so far.
    public var sessionsOpened: Int { sessionCount.withLock { $0 } }

    /// Runs until graceful shutdown (or cancellation): the consumer, reading exchange orders,
    /// the exchange connection and publishing fills.
    /// - Throws: what the consumer's `run()` throws.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.consumeExchangeOrders() }
            group.addTask {
                await cancelWhenGracefulShutdown { await self.maintainConnection() }
                // No more replies: let the publisher drain what came and end.
                self.fills.finish()
            }
            group.addTask { await self.publishFills() }
            try await group.waitForAll()
        }
    }

    // MARK: Kafka → exchange

    /// The component loop over exchange-orders. A record is held while its order is open, and
    /// done when the order's last fill is delivered (`publishFills`). A revoke drops the open
    /// orders read from those partitions: their records are not committed, and their next owner
    /// (here or elsewhere) reads them again, sends each with its original id, and the exchange
    /// answers with its state instead of placing it twice.
    private func consumeExchangeOrders() async throws {
        // At graceful shutdown an order waiting for room is not sent; its record stays held.
        try await withGracefulShutdownHandler {
            try await kafka.run(revokeTimeout: configuration.revokeTimeout, logger: logger) { event, step in
                switch event {
                case .records(let batch):
                    for message in batch {
                        let held = await kafka.tracing.withProcessSpan(message) { span in
                            switch ExchangeOrder.decode(json: message.value) {
                            case .failure(let errors):
                                return !(await deadLetter(message, errors: errors, span: span))
                            case .success(let order):
                                return await place(order, record: KafkaRecordID(message), span: span)
                            }
                        }
                        if held { step.hold(KafkaRecordID(message)) }
                    }
                case .revoked(let partitions):
                    let dropped = state.drop(partitions)
                    if dropped > 0 {
                        logger.info("\(dropped) open exchange orders of revoked partitions dropped: their next owner asks the exchange for their state")
                    }
                case .assigned, .tick, .end:
                    return
                }
            }
        } onGracefulShutdown: {
            self.state.stopWaitingForRoom()
        }
    }

    /// Opens and sends one exchange order. Returns whether its record is held (done when the
    /// order ends), false when it is done now (a duplicate of an order already done).
    private func place(_ order: ExchangeOrder, record: KafkaRecordID, span: any Span) async -> Bool {
        let id = order.exchangeOrderId
        if state.isKnown(id) {
            logger.info("exchange order already open or done: not sent again", metadata: [LogKey.exchangeOrderID: "\(id)"])
            span.attributes[ExchangeAttribute.note] = "duplicate: exchange order \(id) is open or done"
            return state.takeOverDuplicate(record, exchangeOrderId: id)
        }
        if !state.hasRoom {
            span.addEvent(SpanEvent(name: "waiting: \(configuration.maxOpenOrders) exchange orders are open"))
            logger.debug("\(configuration.maxOpenOrders) exchange orders open: waiting for one to finish")
            guard await state.waitForRoom() else {
                // Shutting down: not sent; the record is read again after the restart.
                span.attributes[ExchangeAttribute.note] = "not sent: shutting down"
                return true
            }
        }
        let context = ExchangeGatewaySpans.withExchangeOrderID(id, ServiceContext.current ?? .topLevel)
        let sendSpan = ExchangeGatewaySpans.startSend(
            order, wireOrderId: id, messageType: "new_order", quantity: order.quantity, attempt: nil, context: context)
        defer { sendSpan.end() }
        let (decision, writer) = state.open(order, context: sendSpan.context, from: record, now: .now)
        switch decision {
        case .send(let newOrder):
            sendSpan.attributes[ExchangeAttribute.attempt] = 1
            do {
                try await writer?.write(.text(Self.text(.newOrder(newOrder))))
            } catch {
                sendSpan.addEvent(SpanEvent(name: "the connection failed; the order is sent again when it is back"))
                logger.info("sending a new order failed: \(error); it is sent again on reconnect", metadata: [LogKey.exchangeOrderID: "\(id)"])
            }
        case .queued:
            sendSpan.addEvent(SpanEvent(name: "queued: the exchange is not connected; sent when it is"))
        case .duplicate, .full:
            // Checked above, and only the Kafka loop opens orders.
            sendSpan.attributes[ExchangeAttribute.note] = "not taken: \(decision)"
        }
        return true
    }

    /// Sends a record's dead letter, retrying while it fails. Returns false when it gave up
    /// (shutting down): the record is then held, and read again after the restart.
    private func deadLetter(_ message: KafkaMessage, errors: ValidationErrors, span: any Span) async -> Bool {
        let notJSON = errors.errors.contains { $0.code == .notJSON || $0.code == .notAnObject }
        let errorType = notJSON ? "invalid_json" : "validation"
        let reason = errors.description
        span.attributes[MessagingAttribute.errorType] = errorType
        span.attributes[BusinessAttribute.rejectReason] = BoundedText.prefix(reason, maxBytes: 1_024)
        span.setStatus(SpanStatus(code: .error, message: "dead-lettered: \(errorType)"))
        logger.warning(
            "exchange order at \(message.topic)[\(message.partition)]@\(message.offset) is unusable (\(errorType)): \(reason); sent to \(configuration.topics.deadLetters)")
        let record = DeadLetter.record(for: message, errorType: errorType, errorMessage: reason, topic: configuration.topics.deadLetters)
        var backoff = configuration.reconnectInitialBackoff
        while true {
            do {
                // Untraced on purpose: the dead letter keeps the record's original headers.
                try await producer.send(record)
                return true
            } catch {
                logger.error("cannot dead-letter \(message.topic)[\(message.partition)]@\(message.offset): \(error); retrying in \(backoff)")
                if Task.isCancelled || Task.isShuttingDownGracefully { return false }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, configuration.reconnectMaxBackoff)
            }
        }
    }

    // MARK: The exchange session

    private func maintainConnection() async {
        var backoff = configuration.reconnectInitialBackoff
        while !Task.isCancelled {
            let sessionsBefore = sessionsOpened
            do {
                try await WebSocketClient.connect(
                    url: configuration.sessionURL,
                    configuration: .init(maxMessageSize: ExchangeProtocol.maxMessageBytes, pingInterval: .seconds(15))
                ) { inbound, outbound in
                    try await self.serve(inbound: inbound, outbound: outbound)
                }
                if !Task.isCancelled { logger.warning("the exchange closed the connection") }
            } catch {
                if !Task.isCancelled { logger.warning("exchange connection to \(configuration.exchangeURL) failed: \(error)") }
            }
            state.disconnected()
            if Task.isCancelled { break }
            if sessionsOpened > sessionsBefore { backoff = configuration.reconnectInitialBackoff }
            logger.info("reconnecting to the exchange in \(backoff); \(state.openOrders.openCount) orders open")
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, configuration.reconnectMaxBackoff)
        }
        state.disconnected()
    }

    private func serve(inbound: WebSocketInbound, outbound: WebSocketOutbound) async throws {
        let session = sessionCount.withLock { count in
            count += 1
            return count
        }
        let resends = state.connected(outbound)
        logger.info("exchange connection \(session) open (session \"\(configuration.sessionName)\"); sending \(resends.count) open orders again")
        for resend in resends {
            let span = ExchangeGatewaySpans.startSend(
                resend.order, wireOrderId: resend.newOrder.orderId, messageType: "new_order", quantity: resend.newOrder.quantity,
                attempt: resend.attempt, context: resend.context)
            defer { span.end() }
            do {
                try await outbound.write(.text(Self.text(.newOrder(resend.newOrder))))
            } catch {
                span.recordError(error)
                throw error
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.sweepOrders(outbound) }
            for try await message in inbound {
                switch message {
                case .text(let text): try await handleReply(Array(text.utf8), outbound: outbound)
                case .binary(let buffer): try await handleReply(Array(buffer.readableBytesView), outbound: outbound)
                }
            }
            group.cancelAll()
        }
    }

    /// Every `timeoutSweepInterval`: cancels orders open too long, asks unanswered questions again,
    /// and ends the orders the exchange did not answer after `maxUnansweredTries`.
    private func sweepOrders(_ outbound: WebSocketOutbound) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.timeoutSweepInterval)
            if Task.isCancelled { return }
            let due = state.sweep(now: .now)
            for receipt in due.ended {
                logger.warning("\(receipt.note ?? "no answer"): ending the order", metadata: [LogKey.exchangeOrderID: "\(receipt.exchangeOrderId)"])
                await publish(receipt)
            }
            for request in due.requests {
                let messageType: String
                let quantity: Int64?
                switch request.message {
                case .newOrder(let newOrder):
                    messageType = "new_order"
                    quantity = newOrder.quantity
                    logger.info("no answer about the order in \(configuration.answerTimeout): asking again", metadata: [LogKey.exchangeOrderID: "\(request.exchangeOrderId)"])
                case .cancel:
                    messageType = "cancel"
                    quantity = nil
                    logger.info(
                        request.attempt == 0 ? "exchange order open longer than \(configuration.orderTimeout): canceling" : "cancel not answered: sending it again",
                        metadata: [LogKey.exchangeOrderID: "\(request.exchangeOrderId)"])
                }
                let span = ExchangeGatewaySpans.startSend(
                    request.order, wireOrderId: request.exchangeOrderId, messageType: messageType, quantity: quantity,
                    attempt: request.attempt == 0 ? nil : request.attempt + 1, context: request.context)
                defer { span.end() }
                do {
                    try await outbound.write(.text(Self.text(request.message)))
                } catch {
                    span.recordError(error)
                    return
                }
            }
        }
    }

    private func handleReply(_ bytes: [UInt8], outbound: WebSocketOutbound) async throws {
        let reply: ExchangeMessage
        do {
            reply = try ExchangeMessage.decode(bytes)
        } catch {
            logger.warning("unreadable message from the exchange: \(error)")
            return
        }
        guard let receipt = state.receive(reply) else {
            if case .error(let error) = reply {
                logger.warning("the exchange could not read a message: \(error)")
            } else {
                logger.debug("\(reply.typeName) about \(reply.orderId ?? "-"), which is not open: ignored")
            }
            return
        }
        await publish(receipt)
        if let followUp = receipt.followUp {
            try await outbound.write(.text(Self.text(followUp)))
        }
    }

    /// Traces a receipt and hands its fills to the publisher.
    private func publish(_ receipt: OpenExchangeOrders.Receipt) async {
        let receiveSpan = ExchangeGatewaySpans.startReceive(receipt)
        defer { receiveSpan.end() }
        if let note = receipt.note {
            logger.warning("\(note)", metadata: [LogKey.exchangeOrderID: "\(receipt.exchangeOrderId)", LogKey.wireOrderID: "\(receipt.wireOrderId)"])
        }
        for (index, fill) in receipt.fills.enumerated() {
            let (fillSpan, context) = ExchangeGatewaySpans.startFill(fill, order: receipt.order, context: receiveSpan.context)
            defer { fillSpan.end() }
            let endsOrder = receipt.isDone && index == receipt.fills.count - 1
            if !(await fills.send(PendingFill(fill: fill, context: context, endsOrder: endsOrder))) {
                fillSpan.attributes[ExchangeAttribute.note] = "not published: shutting down; the exchange order is read again after a restart"
                logger.warning("fill not published: shutting down", metadata: [LogKey.fillID: "\(fill.fillId)"])
            }
        }
    }

    // MARK: Fills → Kafka

    private func publishFills() async {
        while let batch = await fills.next(max: configuration.maxFillBatch) {
            var pending = batch
            var backoff = configuration.reconnectInitialBackoff
            while !pending.isEmpty {
                let items = pending.map { item in
                    (KafkaProducerRecord(topic: configuration.topics.fills, key: item.fill.symbol, value: item.fill.encodeJSON()), item.context)
                }
                let results: [Result<KafkaDeliveryReport, KafkaError>]
                do {
                    results = try await kafka.producer.send(items)
                } catch {
                    logger.error("the producer is closed: \(pending.count) fills not published; their exchange orders are read again after a restart")
                    return
                }
                var failed: [PendingFill] = []
                var ended: [String] = []
                for (item, result) in zip(pending, results) {
                    switch result {
                    case .success:
                        if item.endsOrder { ended.append(item.fill.exchangeOrderId) }
                    case .failure(let error):
                        logger.error("fill not delivered: \(error); retrying", metadata: [LogKey.fillID: "\(item.fill.fillId)"])
                        failed.append(item)
                    }
                }
                kafka.offsets.finish(state.finishOrders(ended))
                pending = failed
                if !pending.isEmpty {
                    if Task.isCancelled { return }
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, configuration.reconnectMaxBackoff)
                }
            }
        }
    }

    // MARK: Helpers

    private static func text(_ message: ExchangeClientMessage) -> String {
        String(decoding: message.encoded(), as: UTF8.self)
    }
}
