import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import Logging
import Pipeline
import LagMonitor
import MetricsEndpoint
import NIOCore
import NIOPosix
import ServiceLifecycle

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the whole pipeline on this machine: broker, exchange, and every component.",
        discussion: """
            Starts the embedded broker (unless --external-kafka) with the topics of the topics
            folder, then the simulated exchange and the components (order-manager, algo,
            exchange-gateway, allocator, gateway), each as its own process with its own
            service name, so traces show each hop. Their output is shown with their name in
            front. Ctrl-C (or SIGTERM) stops them in reverse order; each flushes its spans.
            Tracing is on: unless OTEL_EXPORTER_OTLP_ENDPOINT says otherwise, or another OTLP
            receiver already listens at http://127.0.0.1:4318, `up` starts the explorer first
            (`ordertrace explorer`, its own process, stopped last) and every component sends its
            spans to it; open http://127.0.0.1:8686/ to follow an order.
            """
    )

    @Option(help: "Port of the embedded broker.")
    var kafkaPort = 9092

    @Flag(help: "Use the Kafka cluster of KAFKA_BROKERS (or -b) instead of the embedded broker.")
    var externalKafka = false

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "Port of the gateway (WebSocket and HTTP).")
    var gatewayPort = 8080

    @Option(help: "Port of the simulated exchange.")
    var exchangePort = 9100

    @Option(help: "Seed of the simulated exchange's liquidity.")
    var seed: UInt64 = 1

    @Option(help: "Port of the one address for every component's metrics (Prometheus text at /metrics).")
    var metricsPort = 9464

    @Option(help: "Folder for the allocator's state (default: $ORDERTRACE_DATA_DIR or .ordertrace).")
    var dataDir: String?

    @OptionGroup var topics: TopicsDirectoryOption

    func run() async throws {
        let logger = Logs.bootstrap()
        // This process's metrics (the lag monitor's) go to the registry `up` serves with the rest.
        let registry = PrometheusMetrics.bootstrap()
        var environment = ProcessInfo.processInfo.environment
        var services: [any Service] = []
        if externalKafka {
            environment["KAFKA_BROKERS"] = try kafka.configuration().brokers.joined(separator: ",")
        } else {
            let definitions = try KafkaTopicDefinition.load(directory: topics.path)
            let broker = try await EmbeddedBroker.start(.init(port: kafkaPort, topics: definitions), logger: logger)
            say("up: embedded broker at \(broker.bootstrapServers) with \(definitions.count) topics")
            environment["KAFKA_BROKERS"] = broker.bootstrapServers
            services.append(broker)
        }
        environment["GATEWAY_PORT"] = String(gatewayPort)
        environment["EXCHANGE_URL"] = "ws://127.0.0.1:\(exchangePort)/"
        environment["ORDERTRACE_DATA_DIR"] = dataDir ?? environment["ORDERTRACE_DATA_DIR"] ?? ".ordertrace"
        var explorerURL: String?
        func isSet(_ name: String) -> Bool { !(environment[name] ?? "").isEmpty }
        if !isSet("OTEL_EXPORTER_OTLP_ENDPOINT") && !isSet("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") && !isSet("OTEL_SDK_DISABLED") {
            let otlpPort = Int(environment["EXPLORER_OTLP_PORT"] ?? "") ?? 4318
            if await Self.answers(host: "127.0.0.1", port: otlpPort) {
                say("up: another OTLP receiver listens at http://127.0.0.1:\(otlpPort); sending traces there and not starting the explorer")
            } else {
                explorerURL = "http://127.0.0.1:\(environment["EXPLORER_PORT"] ?? "8686")/"
            }
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:\(otlpPort)"
        } else if !isSet("OTEL_SDK_DISABLED") {
            say("up: sending traces to \(environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? "")")
        }
        // Every component serves /metrics on a port of its own; `up` serves them merged.
        let components = ["order-manager", "algo", "exchange-gateway", "allocator", "gateway"]
        var metricsSources: [(service: String, url: String)] = []
        var componentPorts: [String: Int] = [:]
        for component in components {
            let port = try freeTCPPort()
            componentPorts[component] = port
            metricsSources.append((service: component, url: "http://127.0.0.1:\(port)/metrics"))
        }
        // The lag monitor: the pipeline's groups, sampled every 5 s; its series in up's metrics.
        var lagConfiguration = LagMonitor.Configuration()
        lagConfiguration.groups = PipelineConsumerGroups.all().map(\.group)
        let lagAdmin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: (environment["KAFKA_BROKERS"] ?? "").split(separator: ",").map(String.init)))
        let lagMonitor = LagMonitor(admin: lagAdmin, configuration: lagConfiguration, logger: logger)
        let sources = metricsSources
        services.append(
            MetricsGatherer(
                port: metricsPort, logger: logger, local: registry, localAppending: { lagMonitor.prometheusText() }, sources: { sources },
                onListening: { port in say("up: metrics of every component at http://127.0.0.1:\(port)/metrics") }))
        services.append(lagMonitor)
        let supervisor = Supervisor(
            executable: CommandLine.executablePath,
            children: (explorerURL == nil ? [] : [("explorer", ["explorer"])]) + [
                ("exchange-sim", ["exchange-sim", "--port", String(exchangePort), "--seed", String(seed)]),
                ("order-manager", ["order-manager"]),
                ("algo", ["algo"]),
                ("exchange-gateway", ["exchange-gateway"]),
                ("allocator", ["allocator"]),
                ("gateway", ["gateway"]),
            ],
            environment: environment, childEnvironment: componentPorts.mapValues { ["METRICS_PORT": String($0)] },
            logger: logger, gatewayPort: gatewayPort, explorerURL: explorerURL)
        services.append(supervisor)
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup) },
            logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        try await ServiceGroup(configuration: configuration).run()
    }

    /// Whether something accepts TCP connections at host:port.
    static func answers(host: String, port: Int) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(300))
                .connect(host: host, port: port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }
}
