import Synchronization

/// One open WebSocket of one user: its bounded queue of outbound text messages (updates and
/// replies), drained by that socket's writer only.
///
/// Enqueuing never waits: a socket whose queue is full has fallen too far behind, so it is marked
/// overflowed (and later closed with a reason) instead of holding up the caller, which may be the
/// delivery of an update to every other socket.
final class SocketConnection: Sendable {
    let id: Int
    let userId: String
    /// What the writer writes, in order.
    let outbound: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let capacity: Int
    private struct State {
        var closeReason: String?
        var closeWaiter: CheckedContinuation<Void, Never>?
        var isDone = false
    }
    private let state = Mutex(State())

    init(id: Int, userId: String, capacity: Int) {
        self.id = id
        self.userId = userId
        self.capacity = capacity
        (outbound, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    /// Queues `text` for the socket. Returns `false` when the socket is closing or has fallen
    /// `capacity` messages behind (it is then closed).
    @discardableResult
    func enqueue(_ text: String) -> Bool {
        switch continuation.yield(text) {
        case .enqueued:
            return true
        case .dropped:
            overflow()
            return false
        case .terminated:
            return false
        @unknown default:
            return false
        }
    }

    /// Why the gateway closes the socket, when it does (a full queue).
    var closeReason: String? { state.withLock { $0.closeReason } }

    private func overflow() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.closeReason == nil else { return nil }
            state.closeReason = "too slow: \(capacity) messages waiting; reconnect and read faster"
            defer { state.closeWaiter = nil }
            return state.closeWaiter
        }
        continuation.finish()
        waiter?.resume()
    }

    /// Returns once the socket must be closed (overflow) or `finish()` was called.
    func waitUntilClosing() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closeReason != nil || state.isDone || Task.isCancelled { return true }
                    state.closeWaiter = waiter
                    return false
                }
                if resumeNow { waiter.resume() }
            }
        } onCancel: {
            finish()
        }
    }

    /// Ends the outbound queue and wakes `waitUntilClosing`.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.isDone = true
            defer { state.closeWaiter = nil }
            return state.closeWaiter
        }
        continuation.finish()
        waiter?.resume()
    }
}
