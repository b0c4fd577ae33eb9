@testable import TracingSetup
import Settings
import Testing

@Suite("Tracing bootstrap environment")
struct TracingBootstrapTests {
    @Test("the default endpoint is 127.0.0.1:4318, and an explicit one is kept")
    func endpoint() {
        #expect(TracingBootstrap.effectiveEnvironment([:])["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318")
        let explicit = TracingBootstrap.effectiveEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"])
        #expect(explicit["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318")
    }

    @Test("baggage is taken out of OTEL_PROPAGATORS (swift-otel would stop the process); others stay")
    func propagators() {
        #expect(TracingBootstrap.effectiveEnvironment(["OTEL_PROPAGATORS": "tracecontext, baggage"])["OTEL_PROPAGATORS"] == "tracecontext")
        #expect(TracingBootstrap.effectiveEnvironment(["OTEL_PROPAGATORS": "baggage"])["OTEL_PROPAGATORS"] == "tracecontext")
        #expect(TracingBootstrap.effectiveEnvironment(["OTEL_PROPAGATORS": "b3,tracecontext"])["OTEL_PROPAGATORS"] == "b3,tracecontext")
    }

    @Test("OTEL_SDK_DISABLED=true turns tracing off: no service, nothing bootstrapped")
    func disabled() throws {
        #expect(try TracingBootstrap.bootstrap(serviceName: "test", environment: ["OTEL_SDK_DISABLED": "true"]) == nil)
    }

    @Test("ORDERTRACE_TRACER picks the tracer; an unknown one, or otel in a build without swift-otel, is a clear error")
    func tracerChoice() throws {
        #expect(try TracingBootstrap.Backend(environment: [:]) == .lean)
        #expect(try TracingBootstrap.Backend(environment: ["ORDERTRACE_TRACER": "OTel"]) == .otel)
        #expect(throws: ConfigurationError.self) { try TracingBootstrap.Backend(environment: ["ORDERTRACE_TRACER": "jaeger"]) }
        if !TracingBootstrap.hasSwiftOTel {
            let error = #expect(throws: ConfigurationError.self) {
                try TracingBootstrap.bootstrap(serviceName: "test", environment: ["ORDERTRACE_TRACER": "otel"])
            }
            #expect(error?.description.contains("--traits OTel") == true)
        }
    }
}
