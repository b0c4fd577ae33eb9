import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// Serves `GET /metrics`: the registry in Prometheus text format (0.0.4), then what `appending`
/// writes (series kept outside the registry, such as the lag monitor's); and `GET /ready`: `200`
/// once the process serves (its consumer holds its partitions, say), `503` before.
public struct MetricsServer: Service {
    public let host: String
    public let port: Int
    let registry: PrometheusCollectorRegistry
    let appending: (@Sendable () -> String)?
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void
    let ready: @Sendable () -> Bool

    public init(
        registry: PrometheusCollectorRegistry, host: String = "127.0.0.1", port: Int, logger: Logger,
        appending: (@Sendable () -> String)? = nil,
        ready: @escaping @Sendable () -> Bool = { true },
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.ready = ready
        self.registry = registry
        self.appending = appending
        self.host = host
        self.port = port
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let registry = self.registry
        let appending = self.appending
        let router = Router()
        router.get("/metrics") { _, _ in
            var body = registry.emitToBuffer()
            if let appending { body += appending().utf8 }
            return textResponse(body)
        }
        let ready = self.ready
        router.get("/ready") { _, _ in
            Response(status: ready() ? .ok : .serviceUnavailable)
        }
        try await serve(router, host: host, port: port, logger: logger, onListening: onListening)
    }
}

/// Runs `router` at host:port under the caller's service group (no signal handling of its own).
func serve(
    _ router: Router<BasicRequestContext>, host: String, port: Int, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void
) async throws {
    let app = Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "ordertrace-metrics"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
        logger: logger)
    try await app.run()
}

/// A `200` with Prometheus text.
func textResponse(_ body: [UInt8]) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
}
