#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LeanTracing
import Logging
import OTLPExporter
import OTLPWire
import ServiceLifecycle
import Settings
import TraceContext

/// The lean tracer with its OTLP/HTTP export, set up from the OpenTelemetry environment:
/// `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`,
/// `_PROTOCOL` (`http/protobuf`, `http/json`), `_HEADERS`, `_COMPRESSION` (`gzip`), `_TIMEOUT`,
/// `OTEL_TRACES_SAMPLER(_ARG)`, the span limits, and `OTEL_BSP_SCHEDULE_DELAY`,
/// `OTEL_BSP_MAX_QUEUE_SIZE` (default 65,536), `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
public enum LeanTracingBackend {
    /// The tracer (bootstrap it, or use it with `withTracer`) and the service that exports its
    /// spans (run it first in the process's ServiceGroup).
    /// - Parameter propagatesBaggage: whether the tracer's inject and extract also carry the
    ///   `baggage` header; a caller that writes and reads baggage itself (the Kafka layer does,
    ///   combining repeated headers) turns it off to do that work once.
    public static func make(serviceName: String, environment: [String: String], logger: Logger, propagatesBaggage: Bool = true) throws -> (tracer: LeanTracer, service: any Service) {
        let protocolName = (environment["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] ?? environment["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? "http/protobuf").lowercased()
        guard protocolName == "http/protobuf" || protocolName == "http/json" else {
            throw ConfigurationError(
                setting: "OTEL_EXPORTER_OTLP_PROTOCOL", problem: "the lean tracer exports OTLP over HTTP only (http/protobuf or http/json), not \(protocolName)",
                remedy: "use ORDERTRACE_TRACER=otel (a build with the OTel trait) for grpc")
        }
        let sampler = try Sampler.fromEnvironment(environment)
        let capacity = try EnvironmentReader(environment).positiveInteger("OTEL_BSP_MAX_QUEUE_SIZE") ?? 65_536
        let exporterConfiguration = OTLPHTTPExporterConfiguration(environment: environment)
        let json = exporterConfiguration.contentType == OTLPHTTPExporterConfiguration.jsonContentType
        // For a protobuf export each span is encoded as it ends, while its values are still in
        // the cache; the export then only frames the bytes.
        let tracer = LeanTracer(
            sampler: sampler, limits: .fromEnvironment(environment), bufferCapacity: capacity, propagatesBaggage: propagatesBaggage, encodesSpans: !json)
        let exporter = OTLPHTTPExporter(configuration: exporterConfiguration, logger: logger)
        let origin = ExportOrigin(resourceAttributes: resourceAttributes(serviceName: serviceName, environment: environment), scopeName: "ordertrace", scopeVersion: "1")
        let service = LeanTracingService(tracer: tracer, configuration: .fromEnvironment(environment), logger: logger) { batch in
            // The tracer keeps values only for the JSON export.
            let body: [UInt8]
            switch batch {
            case .protobuf(let encoded): body = OTLPTraceEncoder.protobuf(encoded, origin: origin)
            case .spans(let spans): body = OTLPTraceEncoder.json(spans, origin: origin)
            }
            switch await exporter.export(body: body) {
            case .success: return true
            case .failure(let reason, _):
                logger.warning("OTLP export of \(batch.count) spans failed: \(reason)")
                return false
            }
        }
        return (tracer, ExporterLifetime(service: service, exporter: exporter))
    }

    /// `service.name`, `service.instance.id` (random per process), `host.name`, the SDK's
    /// name, then `OTEL_RESOURCE_ATTRIBUTES` (`key=value,...`, percent-encoded values).
    static func resourceAttributes(serviceName: String, environment: [String: String]) -> [Attribute] {
        var attributes: [Attribute] = [
            Attribute("service.name", .string(serviceName)),
            Attribute("service.instance.id", .string(Hex.string(UInt64.random(in: 1...UInt64.max)) + Hex.string(UInt64.random(in: 1...UInt64.max)))),
            Attribute("host.name", .string(hostName())),
            Attribute("telemetry.sdk.name", .string("ordertrace-lean")),
            Attribute("telemetry.sdk.language", .string("swift")),
        ]
        for pair in (environment["OTEL_RESOURCE_ATTRIBUTES"] ?? "").split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = (parts[1].trimmingCharacters(in: .whitespaces).removingPercentEncoding) ?? String(parts[1])
            guard !key.isEmpty, key != "service.name" else { continue }
            attributes.removeAll { $0.key == key }
            attributes.append(Attribute(key, .string(value)))
        }
        return attributes
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Runs the export service, then closes the exporter's connection.
struct ExporterLifetime: Service {
    let service: LeanTracingService
    let exporter: OTLPHTTPExporter

    func run() async throws {
        try await service.run()
        await exporter.shutdown()
    }
}
