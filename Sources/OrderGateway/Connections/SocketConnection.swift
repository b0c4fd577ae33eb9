import Synchronization

/// One open WebSocket of one user: its bounded queue of outbound text messages (updates and
/// replies), drained by that socket's writer only, a run at a time.
///
/// Enqueuing never waits: a socket whose queue is full has fallen too far behind, so it is marked
/// overflowed (and later closed with a reason) instead of holding up the caller, which may be the
/// delivery of an update to every other socket.
final class SocketConnection: Sendable {
    let id: Int
    let userId: String
    private let capacity: Int
    private struct State {
        /// Queued, not yet taken by the writer.
        var texts: [String] = []
        /// The writer, while it waits for texts.
        var writer: CheckedContinuation<Void, Never>?
        /// Texts were held (queued without waking the writer) since the last `wakeWriter()`.
        var isHolding = false
        var closeReason: String?
        var closeWaiter: CheckedContinuation<Void, Never>?
        /// No more texts: the writer gets what is queued, then `nil`.
        var isDone = false
    }
    private let state = Mutex(State())

    init(id: Int, userId: String, capacity: Int) {
        self.id = id
        self.userId = userId
        self.capacity = max(1, capacity)
    }

    /// What ``hold(_:)`` did with a text.
    enum Holding {
        /// Queued; the first held since the writer was last woken: wake it after the run.
        case first
        /// Queued behind others already held.
        case more
        /// Not queued: the socket is closing, or has just fallen a full queue behind.
        case refused
    }

    /// Queues `text` for the socket and wakes its writer. Returns `false` when the socket is
    /// closing or has fallen `capacity` messages behind (it is then closed).
    @discardableResult
    func enqueue(_ text: String) -> Bool {
        switch hold(text) {
        case .first, .more:
            wakeWriter()
            return true
        case .refused:
            return false
        }
    }

    /// Queues `text` without waking the writer: a run of updates read together reaches the
    /// socket as one write of the run (``SocketFrameWriter``), not one per update. The caller
    /// wakes the writer with ``wakeWriter()`` once the run is queued (a writer that is already
    /// awake takes the texts anyway).
    ///
    /// A run that fills half the queue wakes the writer at once: held texts count against the
    /// queue's bound, and a long run must not overflow a socket whose writer was never woken.
    func hold(_ text: String) -> Holding {
        let (outcome, writer) = state.withLock { state -> (Holding?, CheckedContinuation<Void, Never>?) in
            if state.isDone || state.closeReason != nil { return (.refused, nil) }
            guard state.texts.count < capacity else { return (nil, nil) }
            state.texts.append(text)
            defer { state.isHolding = true }
            var writer: CheckedContinuation<Void, Never>?
            if state.texts.count >= (capacity + 1) / 2 {
                writer = state.writer
                state.writer = nil
            }
            return (state.isHolding ? .more : .first, writer)
        }
        writer?.resume()
        guard let outcome else {
            overflow()
            return .refused
        }
        return outcome
    }

    /// Wakes the writer if it waits and texts are queued.
    func wakeWriter() {
        let writer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.isHolding = false
            guard !state.texts.isEmpty else { return nil }
            defer { state.writer = nil }
            return state.writer
        }
        writer?.resume()
    }

    /// Takes every queued text (at least one), waiting while there is none. Returns `nil` once
    /// the queue is finished and empty, or when the task is cancelled.
    func takeAll() async -> [String]? {
        while true {
            let taken = state.withLock { state -> [String]?? in
                if !state.texts.isEmpty {
                    defer { state.texts = [] }
                    return .some(state.texts)
                }
                return state.isDone || Task.isCancelled ? .some(nil) : nil
            }
            if let taken { return taken }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (writer: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.texts.isEmpty || state.isDone || Task.isCancelled { return true }
                        state.writer = writer
                        return false
                    }
                    if resumeNow { writer.resume() }
                }
            } onCancel: {
                let writer = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    defer { state.writer = nil }
                    return state.writer
                }
                writer?.resume()
            }
        }
    }

    /// Whether the writer waits in ``takeAll()`` (for tests).
    var isWriterWaiting: Bool { state.withLock { $0.writer != nil } }

    /// Why the gateway closes the socket, when it does (a full queue).
    var closeReason: String? { state.withLock { $0.closeReason } }

    private func overflow() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.closeReason == nil else { return nil }
            state.closeReason = "too slow: \(capacity) messages waiting; reconnect and read faster"
            defer { state.closeWaiter = nil }
            return state.closeWaiter
        }
        finishQueue()
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
            defer { state.closeWaiter = nil }
            return state.closeWaiter
        }
        finishQueue()
        waiter?.resume()
    }

    /// No more texts: the writer takes what is queued, then `nil`.
    private func finishQueue() {
        let writer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.isDone = true
            defer { state.writer = nil }
            return state.writer
        }
        writer?.resume()
    }
}
