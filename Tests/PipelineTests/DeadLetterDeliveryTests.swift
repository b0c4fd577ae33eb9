import Kafka
import KafkaTestSupport
import Pipeline
import Testing
import Tracing

/// A dead letter too large for the broker must not stop a component: it goes out without its
/// value, which stays in its source topic.
@Suite("Dead letters too large to deliver")
struct DeadLetterDeliveryTests {
    @Test("a dead letter past the producer's limit is sent without its value, saying how large it was")
    func oversizedDeadLetterGoesOutWithoutItsValue() async throws {
        let source = uniqueName("source"), deadLetters = uniqueName("dead-letters")
        try await withEmbeddedBroker(topics: [.init(name: source, partitions: 1), .init(name: deadLetters, partitions: 1)]) { broker in
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let running = Task { try await producer.run() }
            defer { running.cancel() }
            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [deadLetters]), logger: testLogger)
            let kafka = ComponentKafka(consumer: consumer, producer: producer)

            // A record as large as the producer's limit: with its error headers, its dead letter
            // is larger.
            let value = [UInt8](repeating: 0x78, count: KafkaProducerConfiguration(kafka: KafkaConfiguration()).maxMessageBytes)
            let original = KafkaMessage(topic: source, partition: 0, offset: 41, key: Array("AAPL".utf8), value: value, headers: ["traceparent": Array("x".utf8)])
            let letter = DeadLetter.record(for: original, errorType: "validation", errorMessage: "not JSON", topic: deadLetters)
            let small = DeadLetter.record(
                for: KafkaMessage(topic: source, partition: 0, offset: 42, key: nil, value: Array("{".utf8)), errorType: "validation", errorMessage: "not JSON",
                topic: deadLetters)
            try await kafka.send([(letter, .context(.topLevel)), (small, .context(.topLevel))], logger: testLogger)

            let delivered = try await withRunningConsumer(consumer) { await collect(consumer, count: 2, timeout: .seconds(60)) }
            try #require(delivered.count == 2)
            let large = try #require(delivered.first { $0.headers.string(DeadLetter.sourceOffsetHeader) == "41" })
            #expect(large.value.isEmpty)
            #expect(large.headers.string(DeadLetter.valueOmittedHeader) == String(value.count))
            #expect(large.headers.string(DeadLetter.errorTypeHeader) == "validation")
            #expect(large.headers.string("traceparent") == "x")
            #expect(large.key == Array("AAPL".utf8))
            let whole = try #require(delivered.first { $0.headers.string(DeadLetter.sourceOffsetHeader) == "42" })
            #expect(whole.value == Array("{".utf8))
            #expect(!whole.headers.contains(DeadLetter.valueOmittedHeader))
        }
    }
}
