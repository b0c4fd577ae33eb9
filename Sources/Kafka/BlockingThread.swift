import Foundation
import Synchronization

/// A dedicated OS thread for librdkafka's blocking calls (poll with a timeout, flush, commit),
/// so they never occupy a thread of Swift's cooperative pool. `join()` waits for it without
/// blocking either.
final class BlockingThread: Sendable {
    private struct State {
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            body()
            let waiters = state.withLock { state in
                state.finished = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = name
        thread.start()
    }

    /// Returns once the thread's body has returned.
    func join() async {
        await withCheckedContinuation { continuation in
            let finished = state.withLock { state in
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if finished { continuation.resume() }
        }
    }
}
