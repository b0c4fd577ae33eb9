import Kafka
import KafkaTracing
import Logging
import Metrics
import OrderModel
import Pipeline
import TraceContext
import Tracing

extension OrderGateway {
    /// Runs the updates consumer and pushes every record of `order-updates` to the open sockets of
    /// its user, until the consumer stops. Nothing is held: a record is done once pushed to the sockets
    /// open at that moment.
    func deliverUpdates() async throws {
        let kafka = ComponentKafka(consumer: updates, producer: producer)
        try await kafka.run(logger: logger) { event, _ in
            guard case .records(let batch) = event else { return }
            var wakes = WriterWakes()
            for message in batch {
                deliverUpdate(message, tracing: kafka.tracing, wakes: &wakes)
            }
            // Each socket's writer wakes once for the updates of the batch.
            wakes.wakeAll()
        }
    }

    /// One update: a `process order-updates` span, and inside it `client_order_update_delivered`
    /// with the business ids and `ordertrace.sockets` (how many sockets got it). A record that is
    /// not an order update is logged and skipped.
    ///
    /// Every gateway reads every update, and most are for users with no socket here: those are
    /// only counted (and end their order's latency clock) from three fields read in place, with
    /// no decoding and no spans: there is nothing to deliver or to trace.
    func deliverUpdate(_ message: KafkaMessage, tracing: KafkaConsumerTracing, wakes: inout WriterWakes) {
        if let user = message.keyString, !connections.hasSockets(user), countUndelivered(message) { return }
        let tracer = MessagingTracing.current
        let processSpan = tracing.startProcessSpan(message, tracer: tracer)
        defer { processSpan.end() }
        let update: OrderUpdate
        switch OrderUpdate.decode(json: message.value) {
        case .success(let decoded):
            update = decoded
        case .failure(let errors):
            processSpan.attributes[BusinessAttribute.rejectReason] = "not an order update: \(errors.description)"
            logger.warning(
                "skipping a record that is not an order update",
                metadata: [
                    GatewayLogKey.topicPartition: "\(message.topic)[\(message.partition)]", GatewayLogKey.offset: "\(message.offset)",
                    GatewayLogKey.error: "\(errors.description)",
                ])
            return
        }
        Self.updateCounters[update.status]?.increment()
        latency.updated(update)
        OrderGatewaySpans.withDelivered(update, parent: .span(processSpan), tracer: tracer) {
            connections.deliver(String(decoding: message.value, as: UTF8.self), to: update.userId, wakes: &wakes)
        }
    }

    /// Counts an update nobody here listens to, and ends its order's latency clock when it is
    /// terminal. Returns false when the record does not read as an order update of a user without
    /// a socket (it then takes the full path, which says what is wrong with it).
    func countUndelivered(_ message: KafkaMessage) -> Bool {
        guard let glance = OrderUpdate.glance(json: message.value), !connections.hasSockets(glance.userId) else { return false }
        Self.updateCounters[glance.status]?.increment()
        if glance.status.isTerminal { latency.ended(userId: glance.userId, clientOrderId: glance.clientOrderId) }
        return true
    }

    /// `ordertrace_order_updates_total`, one counter per status (made once, not per record).
    static let updateCounters: [OrderStatus: Counter] = Dictionary(
        uniqueKeysWithValues: OrderStatus.allCases.map { ($0, Counter(label: "ordertrace_order_updates_total", dimensions: [("status", $0.rawValue)])) })
}
