import ArgumentParser
import Baggage
import CommandLineSupport
import Foundation
import Kafka
import KafkaTracing
import Logging
import ServiceLifecycle
import Synchronization
import Tracing

/// Options for tracing a command: the OTEL_* environment, and a service name.
struct TracingOptions: ParsableArguments {
    @Option(help: "Service name on the spans (default: $OTEL_SERVICE_NAME or ordertrace-<command>).")
    var serviceName: String?

    func bootstrap(command: String) throws -> (any Service)? {
        let environment = ProcessInfo.processInfo.environment
        return try TracingBootstrap.bootstrap(serviceName: serviceName ?? environment["OTEL_SERVICE_NAME"] ?? "ordertrace-\(command)", environment: environment)
    }
}

/// Runs `work` as a service next to the tracing exporter, which runs first so it stops last and
/// flushes every span; the group shuts down when `work` is done or on SIGINT/SIGTERM.
func runTraced(_ work: some Service, tracing: (any Service)?, logger: Logger) async throws {
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    if let tracing { services.append(.init(service: tracing)) }
    services.append(.init(service: work, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
    var configuration = ServiceGroupConfiguration(services: services, logger: logger)
    configuration.gracefulShutdownSignals = [.sigterm, .sigint]
    try await ServiceGroup(configuration: configuration).run()
}

struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Send the lines of standard input to a topic, traced (like kcat -P).",
        discussion: """
            Each line is a record; with -K, the text before the delimiter is the key. Each record
            gets a `send <topic>` span and carries traceparent and baggage headers. Exits once
            every record is delivered (status 1 if any was not) and its spans are exported.
            """
    )

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var tracingOptions: TracingOptions

    @Option(name: .shortAndLong, help: "Topic to send to.")
    var topic: String

    @Option(name: .customShort("K"), help: "Key delimiter in each line.")
    var keyDelimiter: String?

    @Option(help: "W3C baggage to send with every record, e.g. user.id=alice,client.order_id=c-1.")
    var baggage: String?

    func run() async throws {
        let logger = Logs.bootstrap()
        let tracing = try tracingOptions.bootstrap(command: "produce")
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka.configuration()), logger: logger)
        } catch let error as KafkaError {
            throw error.validationError
        }
        var records: [KafkaProducerRecord] = []
        while let line = readLine() {
            if let keyDelimiter, let range = line.range(of: keyDelimiter) {
                records.append(KafkaProducerRecord(topic: topic, key: String(line[..<range.lowerBound]), value: Array(line[range.upperBound...].utf8)))
            } else {
                records.append(KafkaProducerRecord(topic: topic, key: nil as String?, value: Array(line.utf8)))
            }
        }
        let toSend = records
        let baggageValue = baggage.map { Baggage(headerValue: $0) } ?? Baggage()
        let failures = SharedCount()
        let work = ClosureService {
            var context = ServiceContext.topLevel
            if !baggageValue.isEmpty { context.baggage = baggageValue }
            let outcomes = try await TracedKafkaProducer(producer).send(toSend, context: context)
            await producer.close()
            for case .failure(let error) in outcomes { logger.error("\(error.message)") }
            failures.set(outcomes.filter { (try? $0.get()) == nil }.count)
        }
        try await runTraced(work, tracing: tracing, logger: logger)
        say("sent \(toSend.count - failures.value) of \(toSend.count) records to \(topic)")
        if failures.value > 0 { throw ExitCode(1) }
    }
}

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

/// A number set by one task and read by another.
final class SharedCount: Sendable {
    private let count = Mutex(0)
    func set(_ value: Int) { count.withLock { $0 = value } }
    var value: Int { count.withLock { $0 } }
}
