import Baggage
import Kafka
import KafkaTracing
import Logging
import OrderModel
import Pipeline
import ServiceLifecycle
import TraceContext
import Tracing

/// The algorithm: works each batch as several exchange orders (fan-out) per its
/// `SlicingPolicy`. Spans per the trace model: `algorithm_processing` under `process batches`,
/// and per exchange order an `exchange_order_send` whose child is the `send exchange-orders`
/// span. Malformed batches go to dead-letters.
public struct Algo: Service {
    public let configuration: AlgoConfiguration
    let kafka: ComponentKafka
    let logger: Logger

    /// - Parameters:
    ///   - consumer: subscribed to batches; this service runs it.
    ///   - producer: the caller runs it as a service of its own.
    public init(configuration: AlgoConfiguration, consumer: KafkaConsumer, producer: KafkaProducer, logger: Logger) {
        self.configuration = configuration
        self.kafka = ComponentKafka(consumer: consumer, producer: producer)
        self.logger = logger
    }

    public func run() async throws {
        // Stateless: every record is done once what it caused is delivered, and a revoke has
        // nothing to hand over (a batch worked again sends the same exchange order ids).
        try await kafka.run(logger: logger) { event, step in
            guard case .records(let messages) = event else { return }
            for message in messages { step.send(contentsOf: work(message)) }
        }
    }

    /// The records that working one batch record sends, each with its span context.
    func work(_ message: KafkaMessage) -> [(KafkaProducerRecord, ServiceContext)] {
        let processSpan = kafka.tracing.startProcessSpan(message)
        defer { processSpan.end() }
        let tracer = MessagingTracing.current
        let span = AlgoSpans.startProcessing(parent: .span(processSpan), tracer: tracer)
        defer { span.end() }
        let batch: Batch
        switch Batch.decode(json: message.value) {
        case .success(let decoded):
            batch = decoded
        case .failure(let errors):
            span.setStatus(SpanStatus(code: .error, message: "malformed batch"))
            span.attributes[BusinessAttribute.rejectReason] = errors.description
            logger.warning("dead-lettered \(message.topic)[\(message.partition)]@\(message.offset): \(errors)")
            return [(DeadLetter.record(for: message, errorType: "validation", errorMessage: errors.description, topic: configuration.topics.deadLetters), span.context)]
        }
        let orders = configuration.slicing.exchangeOrders(for: batch)
        AlgoSpans.setBatchAttributes(span, batch: batch, slices: orders.count)
        return orders.map { order in
            let sendSpan = AlgoSpans.startSend(order, context: span.context, tracer: tracer)
            defer { sendSpan.end() }
            return (KafkaProducerRecord(topic: configuration.topics.exchangeOrders, key: order.symbol, value: order.encodeJSON()), sendSpan.context)
        }
    }
}
