import Kafka
import KafkaTracing
import Logging
import Metrics
import OrderModel
import Pipeline
import Tracing

extension OrderGateway {
    /// Runs the updates consumer and pushes every record of `order-updates` to the open sockets of
    /// its user, until the consumer stops. Nothing is held: a record is done once pushed to the sockets
    /// open at that moment.
    func deliverUpdates() async throws {
        let kafka = ComponentKafka(consumer: updates, producer: producer)
        try await kafka.run(logger: logger) { event, _ in
            guard case .records(let batch) = event else { return }
            for message in batch {
                await deliverUpdate(message, tracing: kafka.tracing)
            }
        }
    }

    /// One update: a `process order-updates` span, and inside it `client_order_update_delivered`
    /// with the business ids and `ordertrace.sockets` (how many sockets got it). A record that is
    /// not an order update is logged and skipped.
    func deliverUpdate(_ message: KafkaMessage, tracing: KafkaConsumerTracing) async {
        await tracing.withProcessSpan(message) { processSpan in
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
            Counter(label: "ordertrace_order_updates_total", dimensions: [("status", update.status.rawValue)]).increment()
            latency.updated(update)
            OrderGatewaySpans.withDelivered(update) {
                connections.deliver(String(decoding: message.value, as: UTF8.self), to: update.userId)
            }
        }
    }
}
