import NIOCore
import Synchronization

/// What a consumer hands its handler, in the order it happened (`KafkaConsumer.events`).
public enum KafkaConsumerEvent: Sendable {
    /// Records, in partition order. Adjacent polls are joined up to the largest batch.
    case records([KafkaMessage])
    /// Partitions now assigned to this member; their records follow.
    case assigned([KafkaTopicPartition])
    /// Partitions about to be taken away: the polling thread waits for `done()` before it commits.
    case revoked(KafkaRevocation)
    /// The tick interval (`KafkaConsumer.setTicks`) passed. At most one waits at a time.
    case tick
}

/// The bounded hand-over between a consumer's polling thread and the task that handles messages.
///
/// Whole batches cross it (never one task hop per message), and, for a handler that asked for
/// `KafkaConsumer.events`, its rebalances and ticks too, in one queue: one wake-up of the
/// handler per hand-over, whatever it carries. When the buffered message count reaches the high
/// watermark the polling thread stops polling, so backpressure reaches the broker; once the
/// handler drains it below the low watermark, it asks the polling thread to poll again. All
/// decisions are made under the lock and acted on after it is released.
final class ConsumerBuffer: Sendable {
    private struct State {
        var items = CircularBuffer<KafkaConsumerEvent>()
        var bufferedCount = 0
        var waiter: CheckedContinuation<KafkaConsumerEvent?, Never>?
        var isFinished = false
        var isPaused = false
        var isResumeRequested = false
        var isTickQueued = false
        var assignment: Set<KafkaTopicPartition> = []
        /// The generation of each assigned partition's current assignment.
        var generations: [KafkaTopicPartition: UInt64] = [:]
        var lastGeneration: UInt64 = 0
    }

    private let state = Mutex(State())
    private let highWatermark: Int
    private let lowWatermark: Int
    /// The most messages `next()` hands out at once: buffered batches are joined up to it.
    private let maxBatchSize: Int

    init(highWatermark: Int, lowWatermark: Int, maxBatchSize: Int = 1_000) {
        self.highWatermark = max(1, highWatermark)
        self.lowWatermark = min(max(0, lowWatermark), self.highWatermark - 1)
        self.maxBatchSize = max(1, maxBatchSize)
    }

    /// The first queued item; records joined with the records right after them while the total
    /// stays within `maxBatchSize`: a handler that fell behind takes what waits in one step (one
    /// delivery round trip for all of it), not one small poll's worth at a time.
    private func take(_ state: inout State) -> KafkaConsumerEvent? {
        guard let first = state.items.popFirst() else { return nil }
        switch first {
        case .records(var batch):
            while case .records(let following)? = state.items.first, batch.count + following.count <= maxBatchSize {
                batch.append(contentsOf: following)
                state.items.removeFirst()
            }
            state.bufferedCount -= batch.count
            return .records(batch)
        case .tick:
            state.isTickQueued = false
            return first
        case .assigned, .revoked:
            return first
        }
    }

    // MARK: Polling thread side

    /// Hands a batch over. Returns `true` when the polling thread should stop polling.
    func push(_ batch: [KafkaMessage]) -> Bool {
        let (waiter, shouldPause): (CheckedContinuation<KafkaConsumerEvent?, Never>?, Bool) = state.withLock { state in
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, false)
            }
            state.items.append(.records(batch))
            state.bufferedCount += batch.count
            if !state.isPaused && state.bufferedCount >= highWatermark {
                state.isPaused = true
                state.isResumeRequested = false
                return (nil, true)
            }
            return (nil, false)
        }
        waiter?.resume(returning: .records(batch))
        return shouldPause
    }

    /// Queues a rebalance or a tick behind what is buffered (a tick only when none waits).
    /// Records go through `push(_:)`, which counts them against the watermarks. Returns false
    /// once the buffer is finished.
    @discardableResult
    func enqueue(_ event: KafkaConsumerEvent) -> Bool {
        if case .records = event { preconditionFailure("records are pushed with push(_:), which counts them") }
        let (waiter, queued): (CheckedContinuation<KafkaConsumerEvent?, Never>?, Bool) = state.withLock { state in
            guard !state.isFinished else { return (nil, false) }
            if case .tick = event {
                guard !state.isTickQueued else { return (nil, true) }
            }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, true)
            }
            if case .tick = event { state.isTickQueued = true }
            state.items.append(event)
            return (nil, true)
        }
        waiter?.resume(returning: event)
        return queued
    }

    /// Whether the handler asked to resume since the last call (clears the request).
    func takeResumeRequest() -> Bool {
        state.withLock { state in
            guard state.isResumeRequested else { return false }
            state.isResumeRequested = false
            state.isPaused = false
            return true
        }
    }

    var isPaused: Bool { state.withLock { $0.isPaused } }

    var assignment: [KafkaTopicPartition] { state.withLock { Array($0.assignment) }.sorted() }

    func assigned(_ partitions: [KafkaTopicPartition]) {
        state.withLock { state in
            state.assignment.formUnion(partitions)
            state.lastGeneration += 1
            for partition in partitions { state.generations[partition] = state.lastGeneration }
            assignmentChanges.add(1, ordering: .releasing)
        }
    }

    /// Grows at every assign and revoke: a generation looked up while it had one value is still
    /// the partition's while it keeps it (the polling thread reuses one look-up for a run of
    /// records of one partition).
    var assignmentChangeCount: UInt64 { assignmentChanges.load(ordering: .acquiring) }
    private let assignmentChanges = Atomic<UInt64>(0)

    /// The generation of a partition's current assignment; `nil` when it is not assigned.
    func generation(of partition: KafkaTopicPartition) -> UInt64? {
        state.withLock { $0.generations[partition] }
    }

    /// Forgets revoked partitions and drops what was buffered for them: another member will
    /// read those messages from the committed offset.
    func revoked(_ partitions: [KafkaTopicPartition]) {
        let revoked = Set(partitions)
        state.withLock { state in
            state.assignment.subtract(revoked)
            for partition in revoked { state.generations[partition] = nil }
            assignmentChanges.add(1, ordering: .releasing)
            guard !state.items.isEmpty else { return }
            var kept = CircularBuffer<KafkaConsumerEvent>()
            var count = 0
            for item in state.items {
                guard case .records(let batch) = item else {
                    kept.append(item)
                    continue
                }
                let remaining = batch.filter { !revoked.contains(KafkaTopicPartition(topic: $0.topic, partition: $0.partition)) }
                if !remaining.isEmpty {
                    kept.append(.records(remaining))
                    count += remaining.count
                }
            }
            state.items = kept
            state.bufferedCount = count
        }
    }

    /// No more batches will come: a waiting or later `next()` returns `nil` once the buffer is empty.
    func finish() {
        let waiter: CheckedContinuation<KafkaConsumerEvent?, Never>? = state.withLock { state in
            state.isFinished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    // MARK: Handler side

    /// The next batch of records, or `nil` once finished (or when the waiting task is
    /// cancelled); other events are skipped (only `KafkaConsumer.events` asks for them).
    func next(wake: () -> Void) async -> [KafkaMessage]? {
        while let event = await nextEvent(wake: wake) {
            if case .records(let batch) = event { return batch }
        }
        return nil
    }

    /// The next event, or `nil` once finished (or when the waiting task is cancelled).
    /// `wake` is called (outside the lock) when the polling thread may poll again.
    func nextEvent(wake: () -> Void) async -> KafkaConsumerEvent? {
        enum Taken {
            case event(KafkaConsumerEvent, resume: Bool)
            case finished
            case wait
        }
        let taken: Taken = state.withLock { state in
            if let event = take(&state) {
                if state.isPaused && !state.isResumeRequested && state.bufferedCount <= lowWatermark {
                    state.isResumeRequested = true
                    return .event(event, resume: true)
                }
                return .event(event, resume: false)
            }
            return state.isFinished ? .finished : .wait
        }
        switch taken {
        case .event(let event, let resume):
            if resume { wake() }
            return event
        case .finished:
            return nil
        case .wait:
            if Task.isCancelled { return nil }
            // Paused with an empty buffer cannot happen for long, but make sure fetching resumes.
            let mustWake = state.withLock { state in
                guard state.isPaused && !state.isResumeRequested else { return false }
                state.isResumeRequested = true
                return true
            }
            if mustWake { wake() }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let ready: KafkaConsumerEvent?? = state.withLock { state in
                        if let event = take(&state) {
                            return .some(event)
                        }
                        if state.isFinished { return .some(nil) }
                        state.waiter = continuation
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            } onCancel: {
                let waiter: CheckedContinuation<KafkaConsumerEvent?, Never>? = state.withLock { state in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(returning: nil)
            }
        }
    }
}
