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
/// A connection to `ws://host:port/?session=NAME` attaches to the named session: its books, orders,
/// executions and remembered ids outlive the connection (for the life of this process), and a later
/// connection with the same name takes it over (the older connection is closed). A connection without a
/// name is a session of its own that ends with it. Each session has its own execution id prefix, so ids
/// never repeat across sessions, connections or restarts of one server. Client messages
/// and clock ticks are handled one at a time in one loop, so every reply goes out in the order
/// the session made it (an order's ack before its executions). Unreadable input gets an `error`
/// message back; it never ends the connection or the process. It speaks no trace headers, as
/// real exchanges don't. The protocol is in `docs/exchange-protocol.md`.
public struct ExchangeSimServer: Service {
    public let configuration: ExchangeSimServerConfiguration
    private let logger: Logger
    private let onListening: @Sendable (Int) async -> Void
    private let connections = Connections()
    private let sessions = NamedSessions()

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
        let sessions = self.sessions
        router.ws("/") { request, _ in
            // A session name that is not usable is refused, rather than silently served as a session of its own.
            if let name = request.uri.queryParameters["session"], !ExchangeSessionName.isValid(name) { return .dontUpgrade }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let number = connections.next()
            let name = context.request.uri.queryParameters["session"].map(String.init)
            let session: SessionHandle
            if let name {
                session = try sessions.attach(name) { try ExchangeSimulator(configuration: Self.sessionConfiguration(configuration, connection: number)) }
                logger.info("exchange session \"\(name)\" attached to connection \(number)")
            } else {
                session = SessionHandle(
                    session: ExchangeSession(try ExchangeSimulator(configuration: Self.sessionConfiguration(configuration, connection: number))), token: 0)
                logger.info("exchange session \(number) opened")
            }
            enum Event {
                case message(WebSocketMessage)
                case tick
                case closed
            }
            // The timer never ends: the end of the inbound messages must end the loop.
            let messages = chain(inbound.messages(maxSize: ExchangeProtocol.maxMessageBytes).map { Event.message($0) }, [Event.closed].async)
            let ticks = AsyncTimerSequence(interval: configuration.tickInterval, clock: ContinuousClock()).map { _ in Event.tick }
            loop: for try await event in merge(messages, ticks) {
                let replies: [ExchangeMessage]?
                switch event {
                case .message(.text(let text)):
                    replies = session.run { $0.handle(bytes: Array(text.utf8)) }
                case .message(.binary(let buffer)):
                    replies = session.run { $0.handle(bytes: buffer.readableBytesView) }
                case .tick:
                    replies = session.run { $0.tick(now: ContinuousClock.now - session.session.start) }
                case .closed:
                    break loop
                }
                guard let replies else {
                    logger.info("exchange session \"\(name ?? "")\" was taken over by a newer connection: closing connection \(number)")
                    break loop
                }
                for reply in replies {
                    try await outbound.write(.text(String(decoding: reply.encoded(), as: UTF8.self)))
                }
            }
            logger.info("exchange connection \(number) closed")
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
        // Unique per session (named by the connection that made it) and per server start, so a fill id never repeats.
        session.executionIdPrefix = "E\(startStamp)-\(connection)-"
        return session
    }

    private static let startStamp = String(UInt64(ContinuousClock.now.duration(to: .now).components.attoseconds) ^ UInt64.random(in: 0...UInt64.max), radix: 36)
}

/// What a session name may be: 1 to 128 of `A-Z a-z 0-9 . _ : -`.
enum ExchangeSessionName {
    static func isValid(_ name: some StringProtocol) -> Bool {
        !name.isEmpty && name.utf8.count <= 128
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }
}

/// One exchange session: a simulator and which connection owns it now.
final class ExchangeSession: Sendable {
    private struct State: Sendable {
        var simulator: ExchangeSimulator
        var owner: UInt64 = 0
    }

    /// Time zero of the session's simulated clock.
    let start = ContinuousClock.now
    private let state: Mutex<State>

    init(_ simulator: ExchangeSimulator) {
        state = Mutex(State(simulator: simulator))
    }

    /// Makes a new connection the owner; returns its token. The previous owner's next `run` gives nil.
    func takeOver() -> UInt64 {
        state.withLock { state in
            state.owner += 1
            return state.owner
        }
    }

    /// Runs `body` on the simulator if `token` still owns the session; nil when a newer connection took it over.
    func run(token: UInt64, _ body: (inout ExchangeSimulator) -> [ExchangeMessage]) -> [ExchangeMessage]? {
        state.withLock { state in
            guard state.owner == token else { return nil }
            return body(&state.simulator)
        }
    }
}

/// A connection's hold on a session.
struct SessionHandle: Sendable {
    let session: ExchangeSession
    let token: UInt64

    func run(_ body: (inout ExchangeSimulator) -> [ExchangeMessage]) -> [ExchangeMessage]? {
        session.run(token: token, body)
    }
}

/// The named sessions of this process. They are kept in memory until the process ends.
final class NamedSessions: Sendable {
    private let sessions = Mutex<[String: ExchangeSession]>([:])

    /// The session `name` (made with `make` the first time), now owned by the calling connection.
    func attach(_ name: String, make: () throws -> ExchangeSimulator) throws -> SessionHandle {
        let session = try sessions.withLock { sessions in
            if let session = sessions[name] { return session }
            let session = ExchangeSession(try make())
            sessions[name] = session
            return session
        }
        return SessionHandle(session: session, token: session.takeOver())
    }
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
