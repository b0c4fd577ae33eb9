import Kafka
import KafkaTracing
import Logging
import Tracing

/// The Kafka side of a pipeline component: the consumer it reads (and runs), the traced producer
/// it writes with (run by the caller as a service of its own), and the tracing of what it reads.
public struct ComponentKafka: Sendable {
    public let consumer: KafkaConsumer
    public let producer: TracedKafkaProducer
    public let tracing: KafkaConsumerTracing

    public init(consumer: KafkaConsumer, producer: KafkaProducer) {
        self.consumer = consumer
        self.producer = TracedKafkaProducer(producer)
        self.tracing = KafkaConsumerTracing(consumer)
    }

    /// Runs the consumer's poll loop next to `body`, which reads its batches; returns once both
    /// ended (the batches end when graceful shutdown closes the consumer).
    public func run(_ body: () async throws -> Void) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await consumer.run() }
            try await body()
        }
    }

    /// Sends records, each the child of its own context, and waits for every delivery.
    /// - Throws: the first delivery failure: what caused those records is then not stored as
    ///   done, so it is read again after a restart.
    public func send(_ items: [(KafkaProducerRecord, ServiceContext)], logger: Logger) async throws {
        guard !items.isEmpty else { return }
        for case .failure(let error) in try await producer.send(items) {
            logger.error("could not deliver: \(error)")
            throw error
        }
    }
}
