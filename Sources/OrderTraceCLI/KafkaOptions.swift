import ArgumentParser
import Kafka
import Logging

/// Options every command that talks to Kafka shares.
struct KafkaOptions: ParsableArguments {
    @Option(name: [.customShort("b"), .customLong("bootstrap-servers")], help: "Bootstrap servers, host:port,... (default: $KAFKA_BROKERS or 127.0.0.1:9092).")
    var bootstrapServers: String?

    @Option(name: .customShort("X"), help: ArgumentHelp("A librdkafka property, name=value (repeatable).", valueName: "name=value"))
    var properties: [String] = []

    /// The configuration from the environment, then the command line.
    func configuration() throws -> KafkaConfiguration {
        var configuration = try KafkaConfiguration.fromEnvironment()
        if let bootstrapServers {
            configuration.brokers = bootstrapServers.split(separator: ",").map(String.init)
        }
        for property in properties {
            try configuration.properties.merge(KafkaConfiguration.parseProperties(property, source: "-X")) { $1 }
        }
        return configuration
    }
}

struct TopicsDirectoryOption: ParsableArguments {
    @Option(name: .customLong("topics-dir"), help: "Folder of topic definitions (default: $ORDERTRACE_TOPICS_DIR or ./topics).")
    var topicsDirectory: String?

    var path: String {
        topicsDirectory ?? KafkaConfiguration.processEnvironment()["ORDERTRACE_TOPICS_DIR"] ?? "topics"
    }
}

enum Logs {
    /// Sets up logging once per process: to stderr, at $LOG_LEVEL (default info).
    static func bootstrap() -> Logger {
        let level = KafkaConfiguration.processEnvironment()["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "ordertrace")
    }
}

/// An error for the command line: its message alone, without the usage text.
struct CommandError: Error, CustomStringConvertible {
    var description: String
}

extension KafkaError {
    /// An error a person can act on, for the command line.
    var validationError: CommandError { CommandError(description: message) }
}
