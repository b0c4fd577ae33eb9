import LocalHTTP
import Logging
import MetricsEndpoint
import Prometheus
import Synchronization
import Testing

@Suite("A component's /metrics and /ready, read with LocalHTTP's GET", .timeLimit(.minutes(1)))
struct MetricsServerTests {
    @Test("/metrics answers the registry, /ready follows the readiness check, other paths 404, a closed port nil")
    func serveAndFetch() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(name: "widgets_total").increment(by: Int64(3))
        let ready = Mutex(false)
        let (ports, portsContinuation) = AsyncStream.makeStream(of: Int.self)
        let server = MetricsServer(
            registry: registry, port: 0, logger: Logger(label: "test"), ready: { ready.withLock { $0 } },
            onListening: { portsContinuation.yield($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let metrics = try #require(await HTTPGet.fetch("http://127.0.0.1:\(port)/metrics"))
            #expect(metrics.status == 200)
            #expect(String(decoding: metrics.body, as: UTF8.self).contains("widgets_total 3"))
            #expect(await HTTPGet.fetch("http://127.0.0.1:\(port)/ready")?.status == 503)
            ready.withLock { $0 = true }
            #expect(await HTTPGet.fetch("http://127.0.0.1:\(port)/ready")?.status == 200)
            #expect(await HTTPGet.fetch("http://127.0.0.1:\(port)/nothing")?.status == 404)
            #expect(await HTTPGet.fetch("http://127.0.0.1:\(port)/metrics", maxBodyBytes: 4) == nil)
            group.cancelAll()
        }
        #expect(await HTTPGet.fetch("https://127.0.0.1:1/") == nil)
        #expect(await HTTPGet.fetch("http://127.0.0.1/no-port") == nil)
        #expect(await HTTPGet.fetch("http://127.0.0.1:1/", timeout: .seconds(5)) == nil)
    }
}
