import ArgumentParser
import Foundation
import CommandLineSupport
import Kafka
import Logging
import ServiceLifecycle

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the embedded Kafka broker (in memory, for development and tests).",
        discussion: """
            Starts a Kafka broker in this process, creates the topics of the topics folder, and \
            makes it reachable at a fixed address, so `kcat -b localhost:9092 -L` just works. \
            Everything is kept in memory (8 MB per partition, about 5 MB with --engine mock: older \
            records are deleted) and is gone when it stops. It implements a subset of the Kafka \
            protocol: no CreateTopics, group listing or transactions (a topic a client asks for is \
            created with 4 partitions).

            Two engines: `native` (the default), a single broker of our own, and `mock`, \
            librdkafka's mock cluster, which can run several brokers (--brokers) and show faults \
            (--faults-from-stdin).
            """
    )

    @Option(help: "The broker's implementation: native, or mock (librdkafka's, for several brokers and faults).")
    var engine: EmbeddedBrokerEngine = .native

    @Option(help: "Megabytes a partition keeps before its oldest records are deleted (native engine).")
    var retainedMb = 8

    @Option(name: .customLong("brokers"), help: "Number of brokers in the cluster (more than 1 needs --engine mock).")
    var brokerCount = 1

    @Option(help: "Address to listen on for bootstrap.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on for bootstrap (0 picks a free one).")
    var port = 9092

    @OptionGroup var topics: TopicsDirectoryOption

    @Flag(help: "Read faults to show from standard input, one a line: down BROKER, up BROKER, fail REQUEST COUNT ERRORCODE, leader TOPIC PARTITION BROKER, latency BROKER MILLISECONDS (each answered on standard output).")
    var faultsFromStdin = false

    func validate() throws {
        if faultsFromStdin, engine != .mock { throw ValidationError("--faults-from-stdin needs --engine mock") }
        if retainedMb < 1 { throw ValidationError("--retained-mb must be at least 1") }
        if brokerCount != 1, engine != .mock { throw ValidationError("--brokers \(brokerCount) needs --engine mock: the native broker is a single broker") }
    }

    func run() async throws {
        let logger = Logs.bootstrap()
        let definitions: [KafkaTopicDefinition]
        let broker: EmbeddedBroker
        do {
            definitions = try KafkaTopicDefinition.load(directory: topics.path)
            var configuration = EmbeddedBrokerConfiguration(brokerCount: brokerCount, host: host, port: port, topics: definitions, engine: engine)
            configuration.retainedBytesPerPartition = retainedMb * 1024 * 1024
            broker = try await EmbeddedBroker.start(configuration, logger: logger)
        } catch let error as KafkaError {
            throw error.validationError
        }
        say("embedded broker (\(engine.rawValue)): \(brokerCount) broker(s), bootstrap \(broker.bootstrapServers)")
        for definition in definitions {
            say("  topic \(definition.name): \(definition.partitions) partitions")
        }
        say("ready. Try: kcat -b \(broker.bootstrapServers) -L      (Ctrl-C stops)")
        if faultsFromStdin { Self.readFaults(into: broker) }
        let group = ServiceGroup(
            configuration: .init(services: [broker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Applies each line of standard input as a fault, on a thread of its own (blocking reads),
    /// and answers `fault: LINE: ok` or `fault: LINE: ERROR`.
    static func readFaults(into broker: EmbeddedBroker) {
        let thread = Thread {
            while let line = readLine() {
                let text = line.trimmingCharacters(in: .whitespaces)
                guard !text.isEmpty else { continue }
                do {
                    try broker.inject(EmbeddedBrokerFault(parsing: text))
                    say("fault: \(text): ok")
                } catch {
                    say("fault: \(text): \(error)")
                }
            }
        }
        thread.start()
    }
}

extension EmbeddedBrokerEngine: ExpressibleByArgument {}
