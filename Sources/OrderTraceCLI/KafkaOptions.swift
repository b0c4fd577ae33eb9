import ArgumentParser
import Kafka

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
