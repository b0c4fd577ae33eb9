import Foundation
import Hummingbird
import LagStatus
import Lineage
import Logging
import NIOCore
import OTLPWire
import ServiceLifecycle
import Synchronization
import TraceStore

/// `ordertrace explorer`: receives OTLP/HTTP traces, stores them, and serves the lineage
/// explorer (web UI and JSON API, `docs/explorer-api.md`).
///
/// One process, two ports: OTLP at ``ExplorerConfiguration/otlpPort`` (4318) and the UI at
/// ``ExplorerConfiguration/uiPort`` (8686). On graceful shutdown both servers stop first, then
/// the store writes what it has accepted and closes.
///
/// Given a ``LagOverviewSource`` (the lag monitor, which the caller runs), it also serves the
/// consumer-lag page (`/lag`) and `GET /api/lag`; without one, both say that lag monitoring is off.
public final class Explorer: Service, Sendable {
    public let configuration: ExplorerConfiguration
    public let store: TraceStore
    /// Where the lag page's data comes from; `nil` when lag monitoring is off.
    public let lag: (any LagOverviewSource)?
    let logger: Logger
    let counters = Mutex(RequestCounters())
    private let onListening: @Sendable (_ otlpPort: Int, _ uiPort: Int) async -> Void
    private let ports = Mutex<(otlp: Int?, ui: Int?)>((nil, nil))

    struct RequestCounters {
        /// Requests refused with 400/413/415.
        var rejected = 0
        /// Requests refused with 503 because the store was behind.
        var busy = 0
    }

    /// Opens the store; call ``run()`` to serve.
    /// - Parameters:
    ///   - lag: What the lag page shows (a running lag monitor); `nil`: lag monitoring is off.
    ///   - onListening: Called once both servers listen, with their ports (useful with port 0).
    /// - Throws: When the store cannot be opened.
    public init(
        configuration: ExplorerConfiguration, lag: (any LagOverviewSource)? = nil, logger: Logger = Logger(label: "ordertrace.explorer"),
        onListening: @escaping @Sendable (_ otlpPort: Int, _ uiPort: Int) async -> Void = { _, _ in }
    ) throws {
        self.configuration = configuration
        self.lag = lag
        self.logger = logger
        self.onListening = onListening
        self.store = try TraceStore(configuration: configuration.store, logger: logger)
    }

    public func run() async throws {
        let store = self.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.writeLoop() }
            do {
                try await withThrowingTaskGroup(of: Void.self) { servers in
                    servers.addTask { try await self.makeOTLPApplication().run() }
                    servers.addTask { try await self.makeUIApplication().run() }
                    try await servers.waitForAll()
                }
            } catch {
                store.stopWriting()
                try? await group.waitForAll()
                try? store.close()
                throw error
            }
            store.stopWriting()
            try await group.waitForAll()
        }
        try store.close()
    }

    private func listening(otlp: Int? = nil, ui: Int? = nil) async {
        let both = ports.withLock { ports -> (Int, Int)? in
            if let otlp { ports.otlp = otlp }
            if let ui { ports.ui = ui }
            guard let otlp = ports.otlp, let ui = ports.ui else { return nil }
            return (otlp, ui)
        }
        if let (otlp, ui) = both {
            logger.info("explorer listening", metadata: ["otlp": "http://\(configuration.otlpHost):\(otlp)/v1/traces", "ui": "http://\(configuration.uiHost):\(ui)/"])
            await onListening(otlp, ui)
        }
    }

    private func makeOTLPApplication() -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/traces") { request, _ in
            try await self.receive(request)
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.otlpHost, port: configuration.otlpPort), serverName: "ordertrace-explorer"),
            onServerRunning: { channel in await self.listening(otlp: channel.localAddress?.port ?? self.configuration.otlpPort) },
            logger: logger)
    }

    private func makeUIApplication() -> some ApplicationProtocol {
        let router = Router()
        let api = ExplorerAPI(store: store, limits: LineageLimits(maxTraces: configuration.maxLineageTraces, maxSpans: configuration.maxLineageSpans), explorer: self)
        api.register(on: router)
        if let web = Self.webFolder {
            // The UI's few files, read once and served from memory (`/` is the index, `/lag` the
            // lag page).
            var pages: [String: (contentType: String, body: ByteBuffer)] = [:]
            let types = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"]
            for name in (try? FileManager.default.contentsOfDirectory(atPath: web)) ?? [] {
                guard let type = types[(name as NSString).pathExtension], let bytes = FileManager.default.contents(atPath: web + "/" + name) else { continue }
                pages["/" + name] = (type, ByteBuffer(bytes: bytes))
            }
            pages["/"] = pages["/index.html"]
            pages["/lag"] = pages["/lag.html"]
            for (path, page) in pages {
                router.get(RouterPath(path)) { _, _ in
                    var headers = HTTPFields()
                    headers[.contentType] = page.contentType
                    headers[.cacheControl] = "no-cache"
                    return Response(status: .ok, headers: headers, body: .init(byteBuffer: page.body))
                }
            }
        } else {
            logger.warning("the web UI's files are missing; only the API is served")
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.uiHost, port: configuration.uiPort), serverName: "ordertrace-explorer"),
            onServerRunning: { channel in await self.listening(ui: channel.localAddress?.port ?? self.configuration.uiPort) },
            logger: logger)
    }

    /// The folder of the UI's files (`Web`, a resource of this module).
    static var webFolder: String? {
        Bundle.module.url(forResource: "Web", withExtension: nil)?.path
    }
}
