import Synchronization

/// A bounded multi-producer, single-consumer queue between tasks. `send` waits while it is full
/// (backpressure); the consumer takes everything waiting, up to a maximum, in one call.
/// Cancellation of a waiting task ends its wait (`send` then returns `false`, `next` `nil`).
final class BoundedQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var head = 0
        var isFinished = false
        var nextWaiterID = 0
        var senders: [Int: CheckedContinuation<Void, Never>] = [:]
        var receiver: (id: Int, continuation: CheckedContinuation<Void, Never>)?
        var canceled: Set<Int> = []
        var count: Int { items.count - head }
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Appends `element`, waiting while the queue is full. Returns `false` when it was not
    /// taken: the queue is finished, or the task was canceled while waiting.
    func send(_ element: Element) async -> Bool {
        while true {
            let (taken, finished, wake) = state.withLock { state -> (Bool, Bool, CheckedContinuation<Void, Never>?) in
                if state.isFinished { return (false, true, nil) }
                guard state.count < capacity else { return (false, false, nil) }
                state.items.append(element)
                defer { state.receiver = nil }
                return (true, false, state.receiver?.continuation)
            }
            wake?.resume()
            if taken { return true }
            if finished || Task.isCancelled { return false }
            await wait { state, id, continuation in
                if state.isFinished || state.count < self.capacity { return false }
                state.senders[id] = continuation
                return true
            } cancel: { state, id in
                state.senders.removeValue(forKey: id)
            }
        }
    }

    /// Up to `max` elements, in order, waiting while there are none. `nil` once the queue is
    /// finished and empty, or when the task is canceled.
    func next(max: Int) async -> [Element]? {
        while true {
            let (batch, wake) = state.withLock { state -> ([Element]?, [CheckedContinuation<Void, Never>]) in
                guard state.count > 0 else { return (state.isFinished ? [] : nil, []) }
                let end = min(state.items.count, state.head + Swift.max(1, max))
                let batch = Array(state.items[state.head..<end])
                state.head = end
                if state.head == state.items.count {
                    state.items.removeAll(keepingCapacity: true)
                    state.head = 0
                } else if state.head > 1_024, state.head * 2 > state.items.count {
                    state.items.removeFirst(state.head)
                    state.head = 0
                }
                defer { state.senders = [:] }
                return (batch, Array(state.senders.values))
            }
            for continuation in wake { continuation.resume() }
            if let batch { return batch.isEmpty ? nil : batch }
            if Task.isCancelled { return nil }
            await wait { state, id, continuation in
                if state.isFinished || state.count > 0 { return false }
                state.receiver = (id, continuation)
                return true
            } cancel: { state, id in
                guard let receiver = state.receiver, receiver.id == id else { return nil }
                state.receiver = nil
                return receiver.continuation
            }
        }
    }

    /// No more elements are taken; waiting senders return `false`, the consumer drains what is left.
    func finish() {
        let wake = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isFinished = true
            var wake = Array(state.senders.values)
            if let receiver = state.receiver { wake.append(receiver.continuation) }
            state.senders = [:]
            state.receiver = nil
            return wake
        }
        for continuation in wake { continuation.resume() }
    }

    /// Suspends until resumed: `register` stores the continuation (or returns `false` to go on
    /// at once); `cancel` removes it again and returns it to resume.
    private func wait(
        register: (inout State, Int, CheckedContinuation<Void, Never>) -> Bool,
        cancel: @escaping @Sendable (inout State, Int) -> CheckedContinuation<Void, Never>?
    ) async {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let waits = state.withLock { state in
                    if state.canceled.remove(id) != nil { return false }
                    return register(&state, id, continuation)
                }
                if !waits { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if let continuation = cancel(&state, id) { return continuation }
                state.canceled.insert(id)
                return nil
            }
            continuation?.resume()
        }
    }
}
