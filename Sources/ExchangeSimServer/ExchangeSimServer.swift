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
/// executions and remembered ids outlive the connection (for the life of this process), and every
/// connection with the same name shares it (see ``ExchangeSession``: an order's reports go to the
/// connection that last spoke about it). A connection without a
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
        let configuration = self.configuration
        // A setting no session could start with stops the server now, not each connection.
        _ = try ExchangeSimulator(configuration: Self.sessionConfiguration(configuration, connection: 0))
        let router = Router(context: BasicWebSocketRequestContext.self)
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
                logger.info("exchange session \"\(name)\" attached to connection \(number) (\(session.session.attachedCount) connections share it)")
            } else {
                let unnamed = ExchangeSession(try ExchangeSimulator(configuration: Self.sessionConfiguration(configuration, connection: number)))
                session = SessionHandle(session: unnamed, token: unnamed.attach())
                logger.info("exchange session \(number) opened")
            }
            defer { session.detach() }
            enum Event {
                case message(WebSocketMessage)
                case tick
                case closed
            }
            // The timer never ends: the end of the inbound messages must end the loop.
            let messages = chain(inbound.messages(maxSize: ExchangeProtocol.maxMessageBytes).map { Event.message($0) }, [Event.closed].async)
            let ticks = AsyncTimerSequence(interval: configuration.tickInterval, clock: ContinuousClock()).map { _ in Event.tick }
            loop: for try await event in merge(messages, ticks) {
                let replies: [ExchangeMessage]
                switch event {
                case .message(.text(let text)):
                    replies = session.handle(bytes: Array(text.utf8))
                case .message(.binary(let buffer)):
                    replies = session.handle(bytes: Array(buffer.readableBytesView))
                case .tick:
                    replies = session.tick(now: ContinuousClock.now - session.session.start)
                case .closed:
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
        session.liquidity.levels = configuration.liquidityLevels
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

/// One session's orders, shared by the connections attached to it (a gateway's replicas, or a
/// gateway and the connection it reconnects with).
///
/// Every report about an order goes to the connection that last spoke about it (sent its
/// `new_order`, repeated it, or canceled it): when another connection repeats a known order's
/// `new_order`, it gets the `order_status` and every later report of that order. Reports for an
/// order whose connection is gone go to the newest connection of the session, which takes the
/// order over. Reports for another attached connection wait until that connection's next turn
/// (its next message or tick).
final class ExchangeSession: Sendable {
    private struct State: Sendable {
        var simulator: ExchangeSimulator
        var lastToken: UInt64 = 0
        var attached: Set<UInt64> = []
        /// Who gets the reports of each order not yet done.
        var owners: [String: UInt64] = [:]
        /// Reports waiting for their connection's turn.
        var waiting: [UInt64: [ExchangeMessage]] = [:]
    }

    let start = ContinuousClock.now
    private let state: Mutex<State>

    init(_ simulator: ExchangeSimulator) {
        state = Mutex(State(simulator: simulator))
    }

    /// A new connection's token.
    func attach() -> UInt64 {
        state.withLock { state in
            state.lastToken += 1
            state.attached.insert(state.lastToken)
            return state.lastToken
        }
    }

    func detach(_ token: UInt64) {
        state.withLock { state in
            state.attached.remove(token)
            state.waiting[token] = nil
        }
    }

    var attachedCount: Int { state.withLock { $0.attached.count } }

    /// Handles a client message from `token`'s connection; returns what that connection is sent now.
    func handle(bytes: [UInt8], from token: UInt64) -> [ExchangeMessage] {
        state.withLock { state in
            guard let message = try? ExchangeClientMessage.decode(bytes) else {
                // Unreadable: the simulator's answer (an error) goes to the sender.
                return Self.route(state.simulator.handle(bytes: bytes), from: token, &state)
            }
            switch message {
            case .newOrder(let order): state.owners[order.orderId] = token
            case .cancel(let orderId): state.owners[orderId] = token
            }
            return Self.route(state.simulator.handle(message), from: token, &state)
        }
    }

    /// Advances the session's time (any attached connection may); returns what `token`'s
    /// connection is sent now.
    func tick(now: Duration, from token: UInt64) -> [ExchangeMessage] {
        state.withLock { state in
            Self.route(state.simulator.tick(now: now), from: token, &state)
        }
    }

    /// Sends each report to its order's connection: `token`'s are returned (after those that
    /// waited for it), other attached ones wait, the rest are dropped.
    private static func route(_ replies: [ExchangeMessage], from token: UInt64, _ state: inout State) -> [ExchangeMessage] {
        var own = take(&state, for: token)
        for reply in replies {
            let orderId = reply.orderId
            var owner = orderId.flatMap { state.owners[$0] } ?? token
            if !state.attached.contains(owner) {
                // Its connection is gone: the newest connection of the session takes the order.
                owner = state.attached.max() ?? token
                if let orderId { state.owners[orderId] = owner }
            }
            if let orderId, reply.endsOrder { state.owners[orderId] = nil }
            if owner == token {
                own.append(reply)
            } else {
                state.waiting[owner, default: []].append(reply)
            }
        }
        return own
    }

    private static func take(_ state: inout State, for token: UInt64) -> [ExchangeMessage] {
        state.waiting.removeValue(forKey: token) ?? []
    }
}

struct SessionHandle: Sendable {
    let session: ExchangeSession
    let token: UInt64

    func handle(bytes: [UInt8]) -> [ExchangeMessage] { session.handle(bytes: bytes, from: token) }
    func tick(now: Duration) -> [ExchangeMessage] { session.tick(now: now, from: token) }
    func detach() { session.detach(token) }
}

extension ExchangeMessage {
    /// Whether this report ends its order (nothing more is reported about it unless asked).
    var endsOrder: Bool {
        switch self {
        case .execution(let execution): execution.leavesQuantity == 0
        case .reject, .canceled: true
        case .orderStatus(let status): status.leavesQuantity == 0 || [.filled, .canceled, .rejected].contains(status.status)
        case .ack, .cancelReject, .error: false
        }
    }
}

/// The named sessions of this process, shared by every connection that names them. They are
/// kept in memory until the process ends.
final class NamedSessions: Sendable {
    private let sessions = Mutex<[String: ExchangeSession]>([:])

    /// The session `name` (made with `make` the first time), attached to the calling connection.
    func attach(_ name: String, make: () throws -> ExchangeSimulator) throws -> SessionHandle {
        let session = try sessions.withLock { sessions in
            if let session = sessions[name] { return session }
            let session = ExchangeSession(try make())
            sessions[name] = session
            return session
        }
        return SessionHandle(session: session, token: session.attach())
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
