import Hummingbird
import LocalHTTP
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// One address for the metrics of several processes (`ordertrace up`'s `127.0.0.1:9464/metrics`):
/// each request reads every process's `/metrics` and answers them merged, each sample labelled
/// with its process (``PrometheusText/merge(_:)``). A process that does not answer (or whose
/// address is not known yet: `url` nil) is left out of that answer, and
/// `ordertrace_scrape_up{service}` says so.
public struct MetricsGatherer: Service {
    public let host: String
    public let port: Int
    let sources: @Sendable () -> [(service: String, url: String?)]
    /// This process's own metrics, if it has any (labelled `service="up"`): the registry's, then
    /// what `localAppending` writes.
    let local: PrometheusCollectorRegistry?
    let localAppending: (@Sendable () -> String)?
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    public init(
        host: String = "127.0.0.1", port: Int = 9464, logger: Logger, local: PrometheusCollectorRegistry? = nil,
        localAppending: (@Sendable () -> String)? = nil,
        sources: @escaping @Sendable () -> [(service: String, url: String?)],
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.logger = logger
        self.sources = sources
        self.local = local
        self.localAppending = localAppending
        self.onListening = onListening
    }

    public func run() async throws {
        let sources = self.sources
        let local = self.local
        let localAppending = self.localAppending
        let router = Router()
        router.get("/metrics") { _, _ in
            let listed = sources()
            let texts = await withTaskGroup(of: (Int, String, String?).self) { group in
                for (index, source) in listed.enumerated() {
                    group.addTask {
                        guard let url = source.url else { return (index, source.service, nil) }
                        return (index, source.service, await Self.fetch(url))
                    }
                }
                var results: [(Int, String, String?)] = []
                for await result in group { results.append(result) }
                return results.sorted { $0.0 < $1.0 }
            }
            var all = texts.compactMap { item in item.2.map { (service: item.1, text: $0) } }
            if let local { all.insert((service: "up", text: local.emitToString() + (localAppending?() ?? "")), at: 0) }
            var merged = PrometheusText.merge(all)
            merged += "# HELP ordertrace_scrape_up Whether the process answered this scrape (1) or not (0).\n"
            merged += "# TYPE ordertrace_scrape_up gauge\n"
            for (_, service, text) in texts {
                merged += "ordertrace_scrape_up{service=\"\(service)\"} \(text == nil ? 0 : 1)\n"
            }
            return textResponse(Array(merged.utf8))
        }
        try await serve(router, host: host, port: port, logger: logger, onListening: onListening)
    }

    static func fetch(_ url: String) async -> String? {
        guard let response = await HTTPGet.fetch(url), response.status == 200 else { return nil }
        return String(decoding: response.body, as: UTF8.self)
    }
}
