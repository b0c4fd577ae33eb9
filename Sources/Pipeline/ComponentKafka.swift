import Kafka
import KafkaTracing
import Logging
import TraceContext
import Tracing

/// The Kafka side of a pipeline component: the consumer it reads (and runs), the traced producer
/// it writes with (run by the caller as a service of its own), and the tracing of what it reads.
public struct ComponentKafka: Sendable {
    public let consumer: KafkaConsumer
    public let producer: TracedKafkaProducer
    public let tracing: KafkaConsumerTracing
    /// Which consumed records are done (see ``run(tick:revokeTimeout:logger:_:)``).
    public let offsets: ComponentOffsets

    /// - Parameter distrustedBaggageKeys: keys dropped from what the records' baggage says (see
    ///   ``KafkaConsumerTracing/distrustedBaggageKeys``).
    public init(consumer: KafkaConsumer, producer: KafkaProducer, distrustedBaggageKeys: [String] = []) {
        self.init(consumer: consumer, producer: TracedKafkaProducer(producer), distrustedBaggageKeys: distrustedBaggageKeys)
    }

    public init(consumer: KafkaConsumer, producer: TracedKafkaProducer, distrustedBaggageKeys: [String] = []) {
        self.consumer = consumer
        self.producer = producer
        var tracing = KafkaConsumerTracing(consumer)
        tracing.distrustedBaggageKeys = distrustedBaggageKeys
        self.tracing = tracing
        self.offsets = ComponentOffsets(consumer: consumer)
    }

    /// Runs the consumer's poll loop next to `body`; returns once both ended (the batches end
    /// when graceful shutdown closes the consumer). Components run
    /// ``run(tick:revokeTimeout:logger:_:)``, which reads the batches for them.
    func run(_ body: () async throws -> Void) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await consumer.run() }
            try await body()
        }
    }

    /// Sends records, each the child of its own parent (a context or a span), and waits for every
    /// delivery.
    /// - Throws: the first delivery failure: what caused those records is then not stored as
    ///   done, so it is read again after a restart.
    ///
    /// A dead letter the broker refuses as too large is sent again without its value
    /// (``DeadLetter/withoutValue(_:)``): one oversized record must not stop a component, and
    /// the value is still in its source topic.
    public func send(_ items: [(KafkaProducerRecord, MessagingParent)], logger: Logger) async throws {
        guard !items.isEmpty else { return }
        var smaller: [(KafkaProducerRecord, MessagingParent)] = []
        for (index, result) in try await producer.send(items.map(\.0), parents: items.map(\.1)).enumerated() {
            guard case .failure(let error) = result else { continue }
            let (record, parent) = items[index]
            if record.headers.contains(DeadLetter.errorTypeHeader), !record.value.isEmpty, Self.isTooLarge(error) {
                logger.error("dead letter of \(record.value.count) bytes too large for the broker (\(error)); sending it without its value")
                smaller.append((DeadLetter.withoutValue(record), parent))
                continue
            }
            logger.error("could not deliver: \(error)")
            throw error
        }
        if !smaller.isEmpty { try await send(smaller, logger: logger) }
    }

    /// Whether a delivery failed because the record is larger than the producer or broker takes.
    static func isTooLarge(_ error: KafkaError) -> Bool {
        error.brokerCode == 10 /* MESSAGE_TOO_LARGE */ || error.brokerCode == -186 /* _MSG_SIZE_TOO_LARGE */
            || error.message.contains("too large")
    }
}
