import AsyncAlgorithms
import ExchangeProtocol
import ExchangeSimulator
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import Synchronization

/// The simulated external exchange behind a WebSocket (`ws://127.0.0.1:9100` by default).
///
/// Each connection is one `ExchangeSimulator` session with its own books and its own execution
/// id prefix (so ids never repeat across connections or restarts of one server). Client messages
/// and clock ticks are handled one at a time in one loop, so every reply goes out in the order
/// the session made it (an order's ack before its executions). Unreadable input gets an `error`
/// message back; it never ends the connection or the process. It speaks no trace headers, as
/// real exchanges don't. The protocol is in `docs/exchange-protocol.md`.
public struct ExchangeSimServer: Service {
    public let configuration: ExchangeSimServerConfiguration
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void
    private let connections = Connections()

    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public init(configuration: ExchangeSimServerConfiguration = .init(), logger: Logger = Logger(label: "ordertrace.exchange-sim"), onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let router = Router(context: BasicWebSocketRequestContext.self)
        let configuration = self.configuration
        let logger = self.logger
        let connections = self.connections
        router.ws("/") { _, _ in
            .upgrade([:])
        } onUpgrade: { inbound, outbound, _ in
            let number = connections.next()
            var session = try ExchangeSimulator(configuration: Self.sessionConfiguration(configuration, connection: number))
            logger.info("exchange session \(number) opened")
            let start = ContinuousClock.now
            enum Event {
                case message(WebSocketMessage)
                case tick
                case closed
            }
            // The timer never ends: the end of the inbound messages must end the loop.
            let messages = chain(inbound.messages(maxSize: ExchangeProtocol.maxMessageBytes).map { Event.message($0) }, [Event.closed].async)
            let ticks = AsyncTimerSequence(interval: configuration.tickInterval, clock: ContinuousClock()).map { _ in Event.tick }
            for try await event in merge(messages, ticks) {
                let replies: [ExchangeMessage]
                switch event {
                case .message(.text(let text)):
                    replies = session.handle(bytes: Array(text.utf8))
                case .message(.binary(let buffer)):
                    replies = session.handle(bytes: buffer.readableBytesView)
                case .tick:
                    replies = session.tick(now: ContinuousClock.now - start)
                case .closed:
                    replies = []
                }
                if case .closed = event { break }
                for reply in replies {
                    try await outbound.write(.text(String(decoding: reply.encoded(), as: UTF8.self)))
                }
            }
            logger.info("exchange session \(number) closed")
        }
        let onListening = self.onListening
        let http = Router()
        http.get("/health") { _, _ in "ok" }
        let app = Application(
            router: http,
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "ordertrace-exchange-sim"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
        try await app.runService()
    }

    static func sessionConfiguration(_ configuration: ExchangeSimServerConfiguration, connection: Int) -> ExchangeSimulatorConfiguration {
        var session = ExchangeSimulatorConfiguration(seed: configuration.seed)
        // Unique per connection and per server start, so a fill id never repeats.
        session.executionIdPrefix = "E\(startStamp)-\(connection)-"
        return session
    }

    private static let startStamp = String(UInt64(ContinuousClock.now.duration(to: .now).components.attoseconds) ^ UInt64.random(in: 0...UInt64.max), radix: 36)
}

/// Numbers connections.
private final class Connections: Sendable {
    private let count = Mutex(0)
    func next() -> Int {
        count.withLock { count in
            count += 1
            return count
        }
    }
}
