import ArgumentParser

@main
struct OrderTrace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ordertrace",
        abstract: "A traced, event-driven order pipeline over Kafka.",
        discussion: """
            Kafka connection: KAFKA_BROKERS (default 127.0.0.1:9092), KAFKA_PROPERTIES
            ("name=value;name=value") and KAFKA_PROPERTIES_FILE pass any librdkafka property
            through (security.protocol, sasl.*, ssl.*), as does -X name=value.
            Logging: LOG_LEVEL (trace, debug, info, notice, warning, error, critical).
            """,
        subcommands: [BrokerCommand.self, TopicsCommand.self, BenchCommand.self]
    )
}
