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

    /// Adds a socket for `userId`.
    func register(userId: String) -> SocketConnection {
        state.withLock { state in
            state.nextID += 1
            let connection = SocketConnection(id: state.nextID, userId: userId, capacity: outboundCapacity)
            state.byUser[userId, default: [:]][connection.id] = connection
            state.count += 1
            return connection
        }
    }

    /// Removes a socket (its queue is finished).
    func remove(_ connection: SocketConnection) {
        state.withLock { state in
            if state.byUser[connection.userId]?.removeValue(forKey: connection.id) != nil { state.count -= 1 }
            if state.byUser[connection.userId]?.isEmpty == true { state.byUser[connection.userId] = nil }
        }
        connection.finish()
    }

    /// Queues `text` on every open socket of `userId`; returns how many took it.
    func deliver(_ text: String, to userId: String) -> Int {
        let sockets = state.withLock { state in state.byUser[userId].map { Array($0.values) } ?? [] }
        var delivered = 0
        for socket in sockets where socket.enqueue(text) { delivered += 1 }
        return delivered
    }

    /// Open sockets.
    var count: Int { state.withLock { $0.count } }
}
