import Foundation
import LeanTracing
import Logging
import ServiceLifecycle
import Settings
import Tracing

#if OTel
import OTel
#endif

/// Sets up tracing for a process, once, from the standard OpenTelemetry environment.
///
/// - `OTEL_SERVICE_NAME` (default: the component's name);
/// - `OTEL_EXPORTER_OTLP_ENDPOINT` (default `http://127.0.0.1:4318`; spans go to `/v1/traces`);
/// - `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (default), `http/json` or `grpc`;
/// - `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`;
/// - `OTEL_SDK_DISABLED=true` turns tracing off;
/// - `ORDERTRACE_TRACER`: `lean` (default: `LeanTracer`, OTLP over HTTP only) or `otel` (swift-otel,
///   in a build with the `OTel` package trait: `swift build --traits OTel`).
///
/// With swift-otel, W3C Trace Context is propagated by swift-otel and W3C Baggage by this
/// project (swift-otel's baggage propagator is not implemented, so `baggage` is taken out of
/// `OTEL_PROPAGATORS`). The lean tracer propagates both.

public enum TracingBootstrap {
    /// Bootstraps the global tracer. Returns the service that exports spans, to run first in the
    /// process's `ServiceGroup` (so it stops last and flushes what the others traced), or `nil`
    /// when tracing is disabled.
    /// - Throws: swift-otel's configuration error for an invalid setting.
    public static func bootstrap(serviceName: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (any Service)? {
        let environment = effectiveEnvironment(environment)
        if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return nil }
        switch try Backend(environment: environment) {
        case .lean:
            // The Kafka layer writes and reads `baggage` itself (for either tracer), so the
            // tracer's own baggage propagation would only do that work twice.
            let (tracer, service) = try LeanTracingBackend.make(
                serviceName: serviceName, environment: environment, logger: Logger(label: "ordertrace.tracing"), propagatesBaggage: false)
            InstrumentationSystem.bootstrap(tracer)
            return service
        case .otel:
            #if OTel
            var configuration = OTel.Configuration.default
            configuration.serviceName = serviceName
            configuration.logs.enabled = false
            configuration.metrics.enabled = false
            configuration.traces.otlpExporter.protocol = .httpProtobuf
            configuration.propagators = [.traceContext]
            return try OTel.bootstrap(configuration: configuration, environment: environment)
            #else
            throw ConfigurationError(
                setting: "ORDERTRACE_TRACER", problem: "otel needs a build with swift-otel, and this one has none",
                remedy: "build with the OTel package trait (swift build --traits OTel, or make test-otel), or use lean")
            #endif
        }
    }

    /// Whether this build includes swift-otel (the `OTel` package trait).
    public static var hasSwiftOTel: Bool {
        #if OTel
        true
        #else
        false
        #endif
    }

    /// Which tracer runs: `ORDERTRACE_TRACER=lean` (the default: this project's tracer) or
    /// `otel` (swift-otel).
    public enum Backend: String, Sendable {
        case lean
        case otel

        public init(environment: [String: String]) throws {
            let name = environment["ORDERTRACE_TRACER"].flatMap { $0.isEmpty ? nil : $0.lowercased() } ?? "lean"
            guard let backend = Backend(rawValue: name) else {
                throw ConfigurationError(setting: "ORDERTRACE_TRACER", problem: "\"\(name)\" is not a tracer", remedy: "use lean or otel")
            }
            self = backend
        }
    }

    /// The environment as swift-otel should see it: the project's default endpoint, and no
    /// `baggage` propagator.
    static func effectiveEnvironment(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        if environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == nil && environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == nil {
            environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4318"
        }
        if let propagators = environment["OTEL_PROPAGATORS"] {
            let kept = propagators.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0 != "baggage" && !$0.isEmpty }
            environment["OTEL_PROPAGATORS"] = kept.isEmpty ? "tracecontext" : kept.joined(separator: ",")
        }
        return environment
    }
}
