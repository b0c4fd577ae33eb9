import ArgumentParser
import OrderTraceBenchmarks

@main
struct OrderTrace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ordertrace",
        abstract: "A traced, event-driven order pipeline over Kafka.",
        discussion: """
            Kafka connection: KAFKA_BROKERS (default 127.0.0.1:9092), KAFKA_PROPERTIES
            ("name=value;name=value") and KAFKA_PROPERTIES_FILE pass any librdkafka property
            through (security.protocol, sasl.*, ssl.*), as does -X name=value.
            Tracing: OTEL_EXPORTER_OTLP_ENDPOINT (default http://127.0.0.1:4318),
            OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf, http/json, grpc), OTEL_SERVICE_NAME,
            OTEL_TRACES_SAMPLER(_ARG); OTEL_SDK_DISABLED=true turns it off.
            Logging: LOG_LEVEL (trace, debug, info, notice, warning, error, critical).
            """,
        subcommands: [
            BrokerCommand.self, TopicsCommand.self, ProduceCommand.self, ConsumeCommand.self, ExchangeSimCommand.self,
            GatewayCommand.self, OrderManagerCommand.self, AlgoCommand.self, ExchangeGatewayCommand.self, AllocatorCommand.self,
            AuditCommand.self, LagCommand.self, UpCommand.self, DemoCommand.self, BenchCommand.self, ExplorerCommand.self, TraceCommand.self,
        ]
    )
}
