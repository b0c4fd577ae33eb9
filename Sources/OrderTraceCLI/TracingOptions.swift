import ArgumentParser
import Foundation
import KafkaTracing
import Logging
import ServiceLifecycle
import TracingSetup

/// Options for tracing a command: the OTEL_* environment, and a service name.
struct TracingOptions: ParsableArguments {
    @Option(help: "Service name on the spans (default: $OTEL_SERVICE_NAME or ordertrace-<command>).")
    var serviceName: String?

    func bootstrap(command: String) throws -> (any Service)? {
        let environment = ProcessInfo.processInfo.environment
        return try TracingBootstrap.bootstrap(serviceName: serviceName ?? environment["OTEL_SERVICE_NAME"] ?? "ordertrace-\(command)", environment: environment)
    }
}

/// Runs `work` as a service next to the tracing exporter, which runs first so it stops last and
/// flushes every span; the group shuts down when `work` is done or on SIGINT/SIGTERM.
func runTraced(_ work: some Service, tracing: (any Service)?, logger: Logger) async throws {
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    if let tracing { services.append(.init(service: tracing)) }
    services.append(.init(service: work, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
    var configuration = ServiceGroupConfiguration(services: services, logger: logger)
    configuration.gracefulShutdownSignals = [.sigterm, .sigint]
    try await ServiceGroup(configuration: configuration).run()
}
