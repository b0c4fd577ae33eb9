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

/// A number set by one task and read by another.
final class SharedCount: Sendable {
    private let count = Mutex(0)
    func set(_ value: Int) { count.withLock { $0 = value } }
    var value: Int { count.withLock { $0 } }
}
