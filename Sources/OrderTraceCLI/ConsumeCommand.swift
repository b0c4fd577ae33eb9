import ArgumentParser
import Baggage
import CommandLineSupport
import Kafka
import KafkaTracing
import ServiceLifecycle
import Tracing

struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Print the records of topics, each processed in a traced span (like kcat -C -G).",
        discussion: "Prints key, the record's baggage and value, tab-separated. Runs until --count records or Ctrl-C."
    )

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var tracingOptions: TracingOptions

    @Option(name: .shortAndLong, help: "Consumer group.")
    var group = "ordertrace-consume"

    @Option(help: "Stop after this many records.")
    var count: Int?

    @Argument(help: "Topics to read.")
    var topics: [String]

    func run() async throws {
        let logger = Logs.bootstrap()
        let tracing = try tracingOptions.bootstrap(command: "consume")
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(kafka: kafka.configuration(), groupID: group, topics: topics), logger: logger)
        } catch let error as KafkaError {
            throw error.validationError
        }
        let limit = count
        let work = ClosureService {
            let traced = KafkaConsumerTracing(consumer)
            let polling = Task { try await consumer.run() }
            var seen = 0
            reading: for await batch in consumer.batches() {
                for (index, message) in batch.enumerated() {
                    await traced.withProcessSpan(message) { _ in
                        say("\(message.keyString ?? "")\t\(Baggage.current.headerValue)\t\(String(decoding: message.value, as: UTF8.self))")
                    }
                    seen += 1
                    if let limit, seen >= limit {
                        consumer.storeOffsets(batch[...index])
                        break reading
                    }
                }
            }
            polling.cancel()
            try await polling.value
        }
        try await runTraced(work, tracing: tracing, logger: logger)
    }
}
