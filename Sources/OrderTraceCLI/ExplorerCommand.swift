import ArgumentParser
import CommandLineSupport
import Explorer
import Foundation
import Kafka
import LagMonitor
import Logging
import Pipeline
import ServiceLifecycle

struct ExplorerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explorer",
        abstract: "Receive traces (OTLP/HTTP), keep them in SQLite, and show each order's whole life at http://127.0.0.1:8686/.",
        discussion: """
            OTLP/HTTP (protobuf or JSON, gzip or not) at http://EXPLORER_HOST:EXPLORER_OTLP_PORT/v1/traces
            (127.0.0.1:4318); the web UI and its JSON API (docs/explorer-api.md) at
            http://EXPLORER_HOST:EXPLORER_PORT/ (8686). Store: EXPLORER_DB (default
            $ORDERTRACE_DATA_DIR/explorer.sqlite, data dir .ordertrace), kept for
            EXPLORER_RETENTION_HOURS (24) and at most EXPLORER_MAX_MB (2048), oldest first.

            With Kafka brokers (KAFKA_BROKERS or -b; `ordertrace up` passes them) the explorer also \
            runs a lag monitor over the pipeline's consumer groups, those the cluster lists and those \
            named with --lag-group, and shows it live at http://EXPLORER_HOST:EXPLORER_PORT/lag \
            (GET /api/lag). Without brokers the lag page says that lag monitoring is off.
            """
    )

    @OptionGroup var kafka: KafkaOptions

    @Option(name: .customLong("lag-group"), help: "A consumer group for the lag page besides the pipeline's and the listed ones (repeatable).")
    var lagGroups: [String] = []

    @Option(name: .customLong("lag-interval"), help: "Seconds between two lag samples.")
    var lagInterval: Double = 5

    func validate() throws {
        guard lagInterval > 0, lagInterval <= 3600 else { throw ValidationError("--lag-interval needs a number of seconds from 0 to 3600") }
    }

    /// The lag monitor, when Kafka brokers are given (`-b` or `KAFKA_BROKERS`).
    private func makeLagMonitor(logger: Logger) throws -> LagMonitor? {
        let fromEnvironment = ProcessInfo.processInfo.environment["KAFKA_BROKERS"] ?? ""
        guard kafka.bootstrapServers != nil || !fromEnvironment.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        let admin: KafkaAdmin
        do {
            admin = try KafkaAdmin(configuration: kafka.configuration())
        } catch let error as KafkaError {
            throw error.validationError
        }
        var configuration = LagMonitor.Configuration()
        var seen = Set<String>()
        configuration.groups = (PipelineConsumerGroups.all().map(\.group) + lagGroups).filter { seen.insert($0).inserted }
        configuration.interval = .milliseconds(Int64(lagInterval * 1000))
        return LagMonitor(admin: admin, configuration: configuration, logger: logger)
    }

    func run() async throws {
        let logger = Logs.bootstrap()
        let configuration: ExplorerConfiguration
        do {
            configuration = try ExplorerConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        } catch {
            throw CommandError(description: "\(error)")
        }
        let monitor = try makeLagMonitor(logger: logger)
        let explorer = try Explorer(configuration: configuration, lag: monitor, logger: logger) { otlpPort, uiPort in
            say("explorer: receiving OTLP at http://\(configuration.otlpHost):\(otlpPort)/v1/traces")
            say("explorer: open http://\(configuration.uiHost):\(uiPort)/ (store \(configuration.store.path))")
            if monitor != nil {
                say("explorer: consumer lag at http://\(configuration.uiHost):\(uiPort)/lag")
            }
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = (monitor.map { [.init(service: $0)] } ?? []) + [.init(service: explorer)]
        services.appendParentWatch(ProcessInfo.processInfo.environment, logger: logger)
        var serviceConfiguration = ServiceGroupConfiguration(services: services, logger: logger)
        serviceConfiguration.gracefulShutdownSignals = [.sigterm, .sigint]
        let group = ServiceGroup(configuration: serviceConfiguration)
        try await group.run()
    }
}

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Print the lineage of an id (client order, batch, exchange order, fill, trace or span id) from the explorer.",
        discussion: "Reads the explorer's API at --explorer (default $EXPLORER_URL or http://127.0.0.1:8686)."
    )

    @Argument(help: "A client order id, batch id, exchange order id, fill id, trace id or span id.")
    var id: String

    @Flag(help: "Print the API's JSON document instead of the tree.")
    var json = false

    @Option(help: "The explorer's address.")
    var explorer: String?

    func run() async throws {
        let client = ExplorerClient(baseURL: explorer ?? ProcessInfo.processInfo.environment["EXPLORER_URL"] ?? "http://127.0.0.1:8686")
        do {
            if json {
                let data = try await client.lineageJSON(of: id)
                FileHandle.standardOutput.write(data)
                FileHandle.standardOutput.write(Data("\n".utf8))
            } else {
                say(LineageText.render(try await client.lineage(of: id)))
            }
        } catch let failure as ExplorerClient.Failure {
            throw CommandError(description: failure.description)
        }
    }
}
