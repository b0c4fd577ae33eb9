import Synchronization

/// Tracks the delivery reports of records sent together, and resumes their sender once all
/// are in: one continuation per batch, not per record.
///
/// Each record's librdkafka opaque is the address of its slot in `slots`; a slot holds the
/// batch's own address, so the C callback finds the batch and the record's index without a
/// lookup table or an allocation per record.
final class DeliveryBatch: Sendable {
    typealias Outcome = Result<KafkaDeliveryReport, KafkaError>

    private struct State {
        var outcomes: [Outcome?]
        var remaining: Int
        var continuation: CheckedContinuation<[Outcome], Never>?
        var finished: [Outcome]?
    }

    private nonisolated(unsafe) let slots: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private let topics: [String]
    private let state: Locked<State>
    /// Called on librdkafka's polling thread as each record's report arrives (for spans that end
    /// on delivery). Must be quick and must not block.
    private let onEach: (@Sendable (Int, Outcome) -> Void)?

    init(topics: [String], onEach: (@Sendable (Int, Outcome) -> Void)?) {
        self.topics = topics
        self.onEach = onEach
        self.slots = .allocate(capacity: max(topics.count, 1))
        self.state = Locked(State(outcomes: Array(repeating: nil, count: topics.count), remaining: topics.count))
        let selfAddress = Unmanaged.passUnretained(self).toOpaque()
        slots.initialize(repeating: selfAddress, count: max(topics.count, 1))
    }

    deinit {
        slots.deallocate()
    }

    /// Keeps the batch alive until its last report; balanced in `record`.
    func retainUntilComplete() {
        _ = Unmanaged.passRetained(self)
    }

    func slot(_ index: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(slots + index)
    }

    /// Called from the C delivery callback.
    static func complete(slot: UnsafeMutableRawPointer, error: Int32, partition: Int32, offset: Int64?) {
        let batchAddress = slot.load(as: UnsafeMutableRawPointer.self)
        let batch = Unmanaged<DeliveryBatch>.fromOpaque(batchAddress).takeUnretainedValue()
        let index = (slot - UnsafeMutableRawPointer(batch.slots)) / MemoryLayout<UnsafeMutableRawPointer>.stride
        let outcome: Outcome
        if error == 0 {
            outcome = .success(KafkaDeliveryReport(topic: batch.topics[index], partition: partition, offset: offset))
        } else {
            outcome = .failure(
                KafkaError(
                    code: .delivery,
                    message: "delivery to \(batch.topics[index]) failed: \(RDKafkaClient.errorDescription(error))",
                    brokerCode: error, isRetriable: RDKafkaClient.isRetriable(error), isFatal: error == RDKafkaClient.fatalCode))
        }
        batch.record(index, outcome)
    }

    /// Records an outcome: from a delivery report, or at once for a record that never got queued.
    func record(_ index: Int, _ outcome: Outcome) {
        onEach?(index, outcome)
        let (isLast, resume): (Bool, CheckedContinuation<[Outcome], Never>?) = state.withLock { state in
            state.outcomes[index] = outcome
            state.remaining -= 1
            guard state.remaining == 0 else { return (false, nil) }
            let all = state.outcomes.map { $0! }
            state.finished = all
            defer { state.continuation = nil }
            return (true, state.continuation)
        }
        guard isLast else { return }
        resume?.resume(returning: state.withLock { $0.finished! })
        Unmanaged.passUnretained(self).release()
    }

    /// Waits for every record's outcome, in the order the records were given.
    func outcomes() async -> [Outcome] {
        await withCheckedContinuation { continuation in
            let ready: [Outcome]? = state.withLock { state in
                if let finished = state.finished { return finished }
                state.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
