import Foundation
import Synchronization

/// A dedicated OS thread for librdkafka's blocking calls (poll with a timeout, flush, commit),
/// so they never occupy a thread of Swift's cooperative pool. `join()` waits for it without
/// blocking either.
final class BlockingThread: Sendable {
    private struct State {
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var cancellableWaiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            body()
            let (waiters, cancellable) = state.withLock { state in
                state.finished = true
                defer {
                    state.waiters = []
                    state.cancellableWaiters = [:]
                }
                return (state.waiters, Array(state.cancellableWaiters.values))
            }
            for waiter in waiters { waiter.resume() }
            for waiter in cancellable { waiter.resume() }
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

    /// Returns once the thread's body has returned, or throws `CancellationError` as soon as the
    /// task is cancelled: the thread goes on by itself, and the caller no longer waits for it.
    func joinUnlessCancelled() async throws {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { state in
                    if state.finished { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.cancellableWaiters[id] = continuation
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            state.withLock { $0.cancellableWaiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}
