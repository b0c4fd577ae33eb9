import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import KafkaTracing
import Logging
import MetricsEndpoint
import OrderGateway
import Pipeline
import ServiceLifecycle

/// What every pipeline component command shares: Kafka and tracing options, and how its
/// services run.
struct ComponentOptions: ParsableArguments {
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var tracing: TracingOptions
}

extension ComponentOptions {
    /// Runs a component: tracing first (so it stops last and flushes), then its producer, then
    /// the component, which consumes and stops first on SIGTERM/SIGINT.
    func run(
        _ name: String,
        consumerGroup: String? = nil,
        consumerTopics: (PipelineTopics) -> [String] = { _ in [] },
        make: (_ environment: [String: String], _ kafka: KafkaConfiguration, _ consumer: KafkaConsumer?, _ producer: KafkaProducer, _ logger: Logger) throws -> any Service
    ) async throws {
        let logger = Logs.bootstrap()
        let environment = ProcessInfo.processInfo.environment
        // Metrics first: a metric made before the bootstrap would report nowhere.
        let metricsPort = environment["METRICS_PORT"].flatMap(Int.init)
        let registry = metricsPort.map { _ in PrometheusMetrics.bootstrap() }
        let tracingService = try tracing.bootstrap(command: name)
        var kafkaConfiguration = try kafka.configuration()
        if environment["KAFKA_CLIENT_ID"] == nil { kafkaConfiguration.clientID = "ordertrace-\(name)" }
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafkaConfiguration), logger: logger)
        var consumer: KafkaConsumer?
        if let consumerGroup {
            let topics = consumerTopics(PipelineTopics.fromEnvironment(environment))
            consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(kafka: kafkaConfiguration, groupID: consumerGroup, topics: topics), logger: logger)
        }
        let component = try make(environment, kafkaConfiguration, consumer, producer, logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let tracingService { services.append(.init(service: tracingService)) }
        // Prometheus text at http://METRICS_HOST:METRICS_PORT/metrics. With port 0 (what `up`
        // gives) the system picks a free port; the line saying where is how `up` learns it.
        if let metricsPort, let registry {
            let host = environment["METRICS_HOST"] ?? "127.0.0.1"
            services.append(
                .init(
                    service: MetricsServer(
                        registry: registry, host: host, port: metricsPort, logger: logger,
                        ready: { [consumer] in Self.isReady(component, consumer: consumer) },
                        onListening: { port in say(MetricsAnnouncement.line(component: name, host: host, port: port)) })))
        }
        services.append(.init(service: producer))
        services.appendParentWatch(environment, logger: logger)
        services.append(.init(service: component, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        // A shutdown that cannot finish (its broker is gone, a delivery never ends) is cancelled
        // after 90 s, and the process stops hard 30 s later: it never hangs, and what it had not
        // stored as done is read again by the next one.
        configuration.maximumGracefulShutdownDuration = .seconds(90)
        configuration.maximumCancellationDuration = .seconds(30)
        say("\(name): running (Kafka \(kafkaConfiguration.brokers.joined(separator: ",")))")
        try await ServiceGroup(configuration: configuration).run()
    }

    /// Whether the component serves: its consumer holds partitions (and the gateway listens).
    static func isReady(_ component: any Service, consumer: KafkaConsumer?) -> Bool {
        if let gateway = component as? OrderGateway { return gateway.isReady }
        return consumer.map { !$0.assignment.isEmpty } ?? true
    }
}
