import Testing

@testable import OTLPExporter

@Suite("OTLP exporter environment variables", .timeLimit(.minutes(1)))
struct EnvironmentTests {
    typealias Configuration = OTLPHTTPExporterConfiguration

    @Test("traces endpoint: signal-specific verbatim, else base + /v1/traces, else the default")
    func tracesEndpoint() {
        #expect(Configuration.tracesEndpoint(environment: [:]) == "http://127.0.0.1:4318/v1/traces")
        #expect(Configuration.tracesEndpoint(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"])
            == "http://collector:4318/v1/traces")
        #expect(Configuration.tracesEndpoint(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"])
            == "http://collector:4318/v1/traces")
        #expect(Configuration.tracesEndpoint(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://gw/otlp/"])
            == "http://gw/otlp/v1/traces")
        #expect(Configuration.tracesEndpoint(environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:9999/custom",
        ]) == "http://traces:9999/custom")
        #expect(Configuration.tracesEndpoint(environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:9999/"])
            == "http://traces:9999/")
        #expect(Configuration.tracesEndpoint(environment: [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
        ]) == "http://collector:4318/v1/traces")
    }

    @Test("headers: k=v lists, trimmed and percent-decoded; the traces list replaces the general one")
    func headers() {
        func pairs(_ environment: [String: String]) -> [[String]] {
            Configuration.headers(environment: environment).map { [$0.0, $0.1] }
        }
        #expect(pairs([:]).isEmpty)
        #expect(pairs(["OTEL_EXPORTER_OTLP_HEADERS": "api-key=secret,tenant=desk"]) == [["api-key", "secret"], ["tenant", "desk"]])
        #expect(pairs(["OTEL_EXPORTER_OTLP_HEADERS": " Authorization = Basic%20dXNlcjpwYXNz%3D , x=a%2Cb "])
            == [["Authorization", "Basic dXNlcjpwYXNz="], ["x", "a,b"]])
        #expect(pairs(["OTEL_EXPORTER_OTLP_HEADERS": "k=a=b,novalue,=empty-key,,e="]) == [["k", "a=b"], ["e", ""]])
        #expect(pairs(["OTEL_EXPORTER_OTLP_HEADERS": "k=100%,m=%zz%e2%82%ac"]) == [["k", "100%"], ["m", "%zz€"]])
        #expect(pairs([
            "OTEL_EXPORTER_OTLP_HEADERS": "general=1",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "traces=2",
        ]) == [["traces", "2"]])
    }

    @Test("compression: gzip or none; the traces setting wins")
    func compression() {
        #expect(Configuration.compression(environment: [:]) == .none)
        #expect(Configuration.compression(environment: ["OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"]) == .gzip)
        #expect(Configuration.compression(environment: ["OTEL_EXPORTER_OTLP_COMPRESSION": " GZIP "]) == .gzip)
        #expect(Configuration.compression(environment: ["OTEL_EXPORTER_OTLP_COMPRESSION": "none"]) == .none)
        #expect(Configuration.compression(environment: ["OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"]) == .none)
        #expect(Configuration.compression(environment: [
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "none",
        ]) == .none)
        #expect(Configuration.compression(environment: [
            "OTEL_EXPORTER_OTLP_COMPRESSION": "none",
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip",
        ]) == .gzip)
    }

    @Test("a whole configuration from the environment")
    func configurationFromEnvironment() {
        let configuration = Configuration(environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=secret",
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2500",
        ])
        #expect(configuration.endpoint == "http://collector:4318/v1/traces")
        #expect(configuration.headers.map { [$0.0, $0.1] } == [["api-key", "secret"]])
        #expect(configuration.compression == .gzip)
        #expect(configuration.contentType == "application/json")
        #expect(configuration.timeout == .milliseconds(2500))

        let defaults = Configuration(environment: [:])
        #expect(defaults.endpoint == "http://127.0.0.1:4318/v1/traces")
        #expect(defaults.contentType == "application/x-protobuf")
        #expect(defaults.compression == .none)
        #expect(defaults.timeout == .seconds(10))
        #expect(defaults.maxAttempts == 5)
    }
}
