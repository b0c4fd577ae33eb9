import ArgumentParser
import Foundation
import LeanTracing
import Logging
import ServiceLifecycle
import Tracing
import TracingSetup

#if OTel
import OTel
#endif

/// Which tracer a benchmark runs.
enum TracerChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    case lean
    case otel

    /// The tracer, its export service (to run) and a label, exporting OTLP/HTTP protobuf to `endpoint`.
    func make(endpoint: String, logger: Logger) throws -> (any Tracer, any Service, String) {
        switch self {
        case .lean:
            // The sampler and buffer settings (`OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`) come from the
            // environment, as in any process; the endpoint is the bench's receiver.
            var environment = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("OTEL_") && !$0.key.contains("ENDPOINT") }
            environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = endpoint
            let (tracer, service) = try LeanTracingBackend.make(
                serviceName: "ordertrace-bench", environment: environment, logger: logger,
                propagatesBaggage: false)
            return (tracer, service, "lean tracer")
        case .otel:
            #if OTel
            var otel = OTel.Configuration.default
            otel.serviceName = "ordertrace-bench"
            otel.diagnosticLogLevel = .error
            otel.traces.otlpExporter.protocol = .httpProtobuf
            otel.traces.otlpExporter.endpoint = endpoint
            let backend = try OTel.makeTracingBackend(configuration: otel)
            return (backend.factory, backend.service, "swift-otel 1.6")
            #else
            throw ValidationError("--tracer otel needs a build with swift-otel: swift build -c release --traits OTel")
            #endif
        }
    }
}
