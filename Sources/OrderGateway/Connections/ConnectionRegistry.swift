import Synchronization

/// The open WebSockets, by user: who gets an update. Thread-safe; holds its lock only to change
/// or copy the table, never while enqueuing.
final class ConnectionRegistry: Sendable {
    private struct State {
        var nextID = 0
        var byUser: [String: [Int: SocketConnection]] = [:]
        var count = 0
    }
    private let state = Mutex(State())
    let outboundCapacity: Int

    init(outboundCapacity: Int) {
        self.outboundCapacity = outboundCapacity
    }

    /// Why one more socket of `userId` would break a limit, or `nil` when it fits.
    func refusal(userId: String, limits: SocketLimits) -> SocketRefusal? {
        state.withLock { state in Self.refusal(state, userId: userId, limits: limits) }
    }

    private static func refusal(_ state: State, userId: String, limits: SocketLimits) -> SocketRefusal? {
        if state.byUser[userId]?.count ?? 0 >= limits.perUser {
            return .perUser(limit: limits.perUser)
        }
        if state.count >= limits.total {
            return .total(limit: limits.total)
        }
        return nil
    }

    /// Adds a socket for `userId` when it fits `limits`; otherwise says which limit it breaks.
    func register(userId: String, limits: SocketLimits) -> Result<SocketConnection, SocketRefusal> {
        state.withLock { state in
            if let refusal = Self.refusal(state, userId: userId, limits: limits) { return .failure(refusal) }
            return .success(Self.add(&state, userId: userId, capacity: outboundCapacity))
        }
    }

    /// Adds a socket for `userId`, whatever the limits.
    func register(userId: String) -> SocketConnection {
        state.withLock { state in Self.add(&state, userId: userId, capacity: outboundCapacity) }
    }

    private static func add(_ state: inout State, userId: String, capacity outboundCapacity: Int) -> SocketConnection {
        state.nextID += 1
        let connection = SocketConnection(id: state.nextID, userId: userId, capacity: outboundCapacity)
        state.byUser[userId, default: [:]][connection.id] = connection
        state.count += 1
        return connection
    }

    /// Removes a socket (its queue is finished).
    func remove(_ connection: SocketConnection) {
        state.withLock { state in
            if state.byUser[connection.userId]?.removeValue(forKey: connection.id) != nil { state.count -= 1 }
            if state.byUser[connection.userId]?.isEmpty == true { state.byUser[connection.userId] = nil }
        }
        connection.finish()
    }

    /// Queues `text` on every open socket of `userId` without waking their writers: `wakes`
    /// gathers the sockets to wake once a run of updates is queued. Returns how many took it.
    func deliver(_ text: String, to userId: String, wakes: inout WriterWakes) -> Int {
        let sockets = state.withLock { state in state.byUser[userId].map { Array($0.values) } ?? [] }
        var delivered = 0
        for socket in sockets {
            switch socket.hold(text) {
            case .first:
                wakes.sockets.append(socket)
                delivered += 1
            case .more:
                delivered += 1
            case .refused:
                break
            }
        }
        return delivered
    }

    /// Whether `userId` has an open socket.
    func hasSockets(_ userId: String) -> Bool {
        state.withLock { $0.byUser[userId] != nil }
    }

    /// Open sockets.
    var count: Int { state.withLock { $0.count } }
}

/// Sockets with texts queued for a run of updates, whose writers are to be woken once the run
/// is queued: one wake-up (and one write) per socket for the run, not one per update.
struct WriterWakes {
    fileprivate(set) var sockets: [SocketConnection] = []

    mutating func wakeAll() {
        for socket in sockets { socket.wakeWriter() }
        sockets.removeAll(keepingCapacity: true)
    }
}

/// The most open WebSockets: per user and in all.
struct SocketLimits: Sendable {
    var perUser: Int
    var total: Int
}

/// Why a WebSocket was refused: one of the limits of ``SocketLimits``.
enum SocketRefusal: Error, Sendable, Equatable {
    case perUser(limit: Int)
    case total(limit: Int)

    /// What the client is told.
    var reason: String {
        switch self {
        case .perUser(let limit):
            "too many open WebSockets for this user (at most \(limit), GATEWAY_MAX_SOCKETS_PER_USER): close one first"
        case .total(let limit):
            "the gateway holds its most open WebSockets (\(limit), GATEWAY_MAX_SOCKETS): try again later"
        }
    }
}
