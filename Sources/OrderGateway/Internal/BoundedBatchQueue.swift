import Synchronization

/// A bounded single-consumer queue: producers wait while it is full; the consumer takes
/// everything that is there at once (so a run of items becomes one batch).
final class BoundedBatchQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var isFinished = false
        var consumer: CheckedContinuation<Void, Never>?
        var producers: [(id: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var nextProducerID = 0
    }
    private enum PushOutcome { case added(CheckedContinuation<Void, Never>?), full, finished }
    private enum TakeOutcome { case items([Element], [CheckedContinuation<Void, Never>]), done, wait }
    private let state: Mutex<State>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        state = Mutex(State())
    }

    /// Adds `element`, waiting while the queue is full. Returns `false` (and drops nothing else)
    /// when the queue is finished or the task is cancelled while waiting.
    func push(_ element: Element) async -> Bool {
        while true {
            let outcome = state.withLock { state -> PushOutcome in
                if state.isFinished { return .finished }
                guard state.items.count < capacity else { return .full }
                state.items.append(element)
                defer { state.consumer = nil }
                return .added(state.consumer)
            }
            switch outcome {
            case .added(let consumer):
                consumer?.resume()
                return true
            case .finished:
                return false
            case .full:
                if Task.isCancelled { return false }
                let id = state.withLock { state in
                    state.nextProducerID += 1
                    return state.nextProducerID
                }
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = state.withLock { state -> Bool in
                            if state.isFinished || state.items.count < capacity || Task.isCancelled { return true }
                            state.producers.append((id, continuation))
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                        guard let index = state.producers.firstIndex(where: { $0.id == id }) else { return nil }
                        return state.producers.remove(at: index).continuation
                    }
                    waiter?.resume()
                }
            }
        }
    }

    /// Takes every waiting element (at least one), waiting while there is none. Returns `nil`
    /// once the queue is finished and empty. Cancellation does not interrupt it: call `finish()`.
    func takeAll() async -> [Element]? {
        while true {
            let outcome = state.withLock { state -> TakeOutcome in
                if !state.items.isEmpty {
                    let items = state.items
                    state.items = []
                    let producers = state.producers.map(\.continuation)
                    state.producers = []
                    return .items(items, producers)
                }
                return state.isFinished ? .done : .wait
            }
            switch outcome {
            case .items(let items, let producers):
                for producer in producers { producer.resume() }
                return items
            case .done:
                return nil
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.items.isEmpty || state.isFinished { return true }
                        state.consumer = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    /// No more pushes; the consumer gets what is left, then `nil`.
    func finish() {
        let (consumer, producers) = state.withLock { state in
            state.isFinished = true
            defer {
                state.consumer = nil
                state.producers = []
            }
            return (state.consumer, state.producers.map(\.continuation))
        }
        consumer?.resume()
        for producer in producers { producer.resume() }
    }
}
