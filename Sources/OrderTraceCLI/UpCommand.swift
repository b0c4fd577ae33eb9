import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import LocalHTTP
import Logging
import Pipeline
import LagMonitor
import MetricsEndpoint
import OrderGateway
import NIOCore
import NIOPosix
import ExchangeSimServer
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
            front. It waits until each serves, then prints where everything is. Each component's
            log goes to <data dir>/logs/<name>.log (warnings and errors also here; --verbose shows
            all of it). Ctrl-C (or SIGTERM) stops them in reverse order; each flushes its spans. A
            child whose `up` was killed stops by itself.
            Tracing is on: unless OTEL_EXPORTER_OTLP_ENDPOINT says otherwise, or another OTLP
            receiver already listens at http://127.0.0.1:4318, `up` starts the explorer first
            (`ordertrace explorer`, its own process, stopped last) and every component sends its
            spans to it; open http://127.0.0.1:8686/ to follow an order.
            """
    )

    @Option(help: "Port of the embedded broker.")
    var kafkaPort = 9092

    @Option(help: "The embedded broker's implementation: native, or mock (librdkafka's mock cluster).")
    var brokerEngine: EmbeddedBrokerEngine = .native

    @Option(help: "Megabytes a partition of the embedded broker keeps before its oldest records are deleted (native engine).")
    var brokerRetainedMb = 8

    @Flag(help: "Use the Kafka cluster of KAFKA_BROKERS (or -b) instead of the embedded broker.")
    var externalKafka = false

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "Port of the gateway (WebSocket and HTTP).")
    var gatewayPort = 8080

    @Option(help: "Port of the simulated exchange.")
    var exchangePort = 9100

    @Option(help: "Seed of the simulated exchange's liquidity.")
    var seed: UInt64 = 1

    @Option(help: "Price levels of the simulated exchange's liquidity on each side of every book (0 to 1000); more levels let more be bought and sold in each 250 ms before market orders are canceled for want of liquidity.")
    var liquidityLevels = ExchangeSimServerConfiguration().liquidityLevels

    @Option(help: "Port of the one address for every component's metrics (Prometheus text at /metrics).")
    var metricsPort = 9464

    @Option(help: "Folder for the allocator's state, the explorer's store and the logs (default: $ORDERTRACE_DATA_DIR or .ordertrace).")
    var dataDir: String?

    @Flag(help: "Show every component's log here, each line prefixed with its name (otherwise only warnings and errors; all of it is in <data dir>/logs/).")
    var verbose = false

    @Option(help: "Processes of each of order-manager, algo, exchange-gateway and allocator (1 to 8), sharing their component's consumer group (each allocator after the first keeps its state in <data dir>/allocator-<n>/, rebuilt from the changelog when partitions move to it); the gateway runs once.")
    var replicas = 1

    @OptionGroup var topics: TopicsDirectoryOption

    /// The components that run as several replicas with --replicas.
    static let replicated: Set<String> = ["order-manager", "algo", "exchange-gateway", "allocator"]

    func validate() throws {
        guard (1...8).contains(replicas) else { throw ValidationError("--replicas must be 1 to 8") }
        guard brokerRetainedMb >= 1 else { throw ValidationError("--broker-retained-mb must be at least 1") }
        let levels = ExchangeSimServerConfiguration.liquidityLevelRange
        guard levels.contains(liquidityLevels) else {
            throw ValidationError("--liquidity-levels must be \(levels.lowerBound) to \(levels.upperBound)")
        }
    }

    func brokerConfiguration(topics: [KafkaTopicDefinition]) -> EmbeddedBrokerConfiguration {
        var configuration = EmbeddedBrokerConfiguration(port: kafkaPort, topics: topics, engine: brokerEngine)
        configuration.retainedBytesPerPartition = brokerRetainedMb * 1024 * 1024
        return configuration
    }

    func run() async throws {
        // Its own notes at info only with --verbose: the terminal is for the banner, warnings and errors.
        let logger = Logs.bootstrap(defaultLevel: verbose ? .info : .warning)
        // This process's metrics (the lag monitor's) go to the registry `up` serves with the rest.
        let registry = PrometheusMetrics.bootstrap()
        var environment = ProcessInfo.processInfo.environment
        var services: [any Service] = []
        if externalKafka {
            environment["KAFKA_BROKERS"] = try kafka.configuration().brokers.joined(separator: ",")
        } else {
            let definitions = try KafkaTopicDefinition.load(directory: topics.path)
            let broker = try await EmbeddedBroker.start(brokerConfiguration(topics: definitions), logger: logger)
            say("up: embedded broker at \(broker.bootstrapServers) with \(definitions.count) topics\(brokerEngine == .mock ? " (librdkafka's mock)" : "")")
            environment["KAFKA_BROKERS"] = broker.bootstrapServers
            // The mock holds an empty fetch for the whole wait, even when records arrive
            // meanwhile: with the consumers' 50 ms, every hop of an order waited up to 50 ms.
            // 5 ms costs a few idle fetches a second per consumer. The native broker answers a
            // waiting fetch as soon as records arrive.
            if brokerEngine == .mock, (environment["KAFKA_FETCH_MAX_WAIT_MS"] ?? "").isEmpty { environment["KAFKA_FETCH_MAX_WAIT_MS"] = "5" }
            services.append(broker)
        }
        environment["GATEWAY_PORT"] = String(gatewayPort)
        environment["EXCHANGE_URL"] = "ws://127.0.0.1:\(exchangePort)/"
        let dataDirectory = dataDir ?? environment["ORDERTRACE_DATA_DIR"] ?? ".ordertrace"
        environment["ORDERTRACE_DATA_DIR"] = dataDirectory
        func isSet(_ name: String) -> Bool { !(environment[name] ?? "").isEmpty }
        // The demo users, asked for explicitly (the gateway accepts them on loopback only) and said
        // once in the banner.
        let demoUsers = !isSet("ORDERTRACE_TOKENS") && !isSet("ORDERTRACE_TOKENS_FILE")
        if demoUsers {
            environment["ORDERTRACE_DEMO"] = "1"
        }
        var explorerURL: String?
        var otlpEndpoint: String?
        if !isSet("OTEL_EXPORTER_OTLP_ENDPOINT") && !isSet("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") && !isSet("OTEL_SDK_DISABLED") {
            let otlpPort = Int(environment["EXPLORER_OTLP_PORT"] ?? "") ?? 4318
            if await Self.answers(host: "127.0.0.1", port: otlpPort) {
                say("up: another OTLP receiver listens at http://127.0.0.1:\(otlpPort); sending traces there and not starting the explorer")
            } else {
                explorerURL = "http://127.0.0.1:\(environment["EXPLORER_PORT"] ?? "8686")/"
            }
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:\(otlpPort)"
            otlpEndpoint = "http://127.0.0.1:\(otlpPort)/v1/traces"
        } else if !isSet("OTEL_SDK_DISABLED") {
            otlpEndpoint = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"].map { $0 + "/v1/traces" }
        }
        // Every component serves /metrics on a port the system picks (METRICS_PORT=0) and says
        // which; `up` serves them merged.
        var children: [(name: String, component: String)] = []
        for component in ["order-manager", "algo", "exchange-gateway", "allocator", "gateway"] {
            let count = Self.replicated.contains(component) ? replicas : 1
            for replica in 1...count { children.append((replica == 1 ? component : "\(component)-\(replica)", component)) }
        }
        let metricsAddresses = MetricsAddresses(children: children)
        let gatheredMetrics = MetricsAddresses(components: ["up"])
        // The lag monitor: the pipeline's groups, sampled every 5 s; its series in up's metrics.
        let brokers = environment["KAFKA_BROKERS"] ?? ""
        var lagConfiguration = LagMonitor.Configuration()
        lagConfiguration.groups = PipelineConsumerGroups.all().map(\.group)
        if !externalKafka {
            // What the embedded broker keeps of a partition before it deletes (in order updates
            // of about 375 bytes on the broker: 14,000 for the mock's 5 MB), so that AT RISK warns
            // before the first deletion, not after.
            lagConfiguration.rules.retainedRecords = Int64(brokerConfiguration(topics: []).retainedBytes / 375)
        }
        let lagAdmin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: brokers.split(separator: ",").map(String.init)))
        let lagMonitor = LagMonitor(admin: lagAdmin, configuration: lagConfiguration, logger: logger)
        services.append(
            MetricsGatherer(
                port: metricsPort, logger: logger, local: registry, localAppending: { lagMonitor.prometheusText() },
                sources: { metricsAddresses.sources },
                onListening: { port in gatheredMetrics.observe(MetricsAnnouncement.line(component: "up", host: "127.0.0.1", port: port)[...], of: "up") }))
        services.append(lagMonitor)
        // Each allocator replica keeps its state in a folder of its own, as it would on a machine
        // of its own: a partition that moves to it is rebuilt from the changelog.
        let components = children.map { child in
            var own = ["METRICS_PORT": "0"]
            if child.component == "allocator", child.name != child.component, !isSet("ALLOCATOR_DB") {
                own["ALLOCATOR_DB"] = "\(dataDirectory)/\(child.name)/allocator.sqlite"
            }
            return Supervisor.Child(name: child.name, arguments: [child.component], environment: own, service: child.component)
        }
        let exchangeHealth = "http://127.0.0.1:\(exchangePort)/health"
        let explorerHealth = explorerURL.map { $0 + "api/orders" }
        let banner = Banner(
            gatewayPort: gatewayPort, explorerURL: explorerURL, otlpEndpoint: otlpEndpoint, brokers: brokers,
            demoUsers: demoUsers, logDirectory: dataDirectory + "/logs", executable: CommandLine.executablePath)
        let supervisor = Supervisor(
            executable: CommandLine.executablePath,
            children: (explorerURL == nil ? [] : [.init(name: "explorer", arguments: ["explorer"])])
                + [.init(name: "exchange-sim", arguments: [
                    "exchange-sim", "--port", String(exchangePort), "--seed", String(seed), "--liquidity-levels", String(liquidityLevels),
                ])]
                + components,
            environment: environment,
            logDirectory: dataDirectory + "/logs",
            verbose: verbose,
            onLine: { line, child in metricsAddresses.observe(line, of: child) },
            notReady: {
                var pending: [String] = []
                if let explorerHealth, await Self.httpStatus(explorerHealth) != 200 { pending.append("explorer") }
                if await Self.httpStatus(exchangeHealth) != 200 { pending.append("exchange-sim") }
                for source in metricsAddresses.sources {
                    guard let url = source.url, await Self.httpStatus(url.replacingOccurrences(of: "/metrics", with: "/ready")) == 200 else {
                        pending.append(source.service)
                        continue
                    }
                }
                return pending
            },
            banner: { elapsed in banner.text(metricsURL: gatheredMetrics.sources.first?.url ?? nil, elapsed: elapsed) },
            logger: logger)
        services.append(supervisor)
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup) },
            logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        try await ServiceGroup(configuration: configuration).run()
    }

    /// The status of a GET of `url`, or nil when nothing answers within 2 s.
    static func httpStatus(_ url: String) async -> Int? {
        await HTTPGet.fetch(url, timeout: .seconds(2), maxBodyBytes: 1 << 20)?.status
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
