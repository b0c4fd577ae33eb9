import Synchronization

/// Tracks the delivery reports of records sent together, and resumes their sender once all
/// are in: one continuation per batch, not per record.
///
/// Each record's librdkafka opaque is the address of its slot in `slots`; a slot holds the
/// batch's own address, so the C callback finds the batch and the record's index without a
/// lookup table. A report costs three plain stores and one atomic decrement: each index is
/// written once, and the decrement that reaches zero publishes every store to the waiter.
final class DeliveryBatch: Sendable {
    typealias Outcome = Result<KafkaDeliveryReport, KafkaError>

    private nonisolated(unsafe) let slots: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private nonisolated(unsafe) let partitions: UnsafeMutablePointer<Int32>
    private nonisolated(unsafe) let offsets: UnsafeMutablePointer<Int64>
    /// 0 when delivered, else librdkafka's error code; `errors` holds failures found before queueing.
    private nonisolated(unsafe) let codes: UnsafeMutablePointer<Int32>
    private let earlyErrors = Mutex<[Int: KafkaError]>([:])
    private let count: Int
    private let topics: [String]
    private let remaining: Atomic<Int>
    private let waiter = Mutex<(continuation: CheckedContinuation<[Outcome], Never>?, isComplete: Bool)>((nil, false))
    /// Called on librdkafka's polling thread as each record's report arrives (for spans that end
    /// on delivery). Must be quick and must not block.
    private let onEach: (@Sendable (Int, Outcome) -> Void)?

    init(topics: [String], onEach: (@Sendable (Int, Outcome) -> Void)?) {
        self.topics = topics
        self.onEach = onEach
        count = topics.count
        let capacity = max(count, 1)
        slots = .allocate(capacity: capacity)
        partitions = .allocate(capacity: capacity)
        offsets = .allocate(capacity: capacity)
        codes = .allocate(capacity: capacity)
        remaining = Atomic(count)
        slots.initialize(repeating: Unmanaged.passUnretained(self).toOpaque(), count: capacity)
        partitions.initialize(repeating: -1, count: capacity)
        offsets.initialize(repeating: -1, count: capacity)
        codes.initialize(repeating: 0, count: capacity)
    }

    deinit {
        slots.deallocate()
        partitions.deallocate()
        offsets.deallocate()
        codes.deallocate()
    }

    /// Keeps the batch alive until its last report; balanced when the last one arrives.
    func retainUntilComplete() {
        _ = Unmanaged.passRetained(self)
    }

    func slot(_ index: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(slots + index)
    }

    /// Called from the C delivery callback.
    static func complete(slot: UnsafeMutableRawPointer, error: Int32, partition: Int32, offset: Int64?) {
        let batchAddress = slot.load(as: UnsafeMutableRawPointer.self)
        // The batch keeps itself alive until its last report (`retainUntilComplete`): no retain
        // and release of it per report, which several threads would contend for.
        Unmanaged<DeliveryBatch>.fromOpaque(batchAddress)._withUnsafeGuaranteedRef { batch in
            let index = (slot - UnsafeMutableRawPointer(batch.slots)) / MemoryLayout<UnsafeMutableRawPointer>.stride
            batch.codes[index] = error
            batch.partitions[index] = partition
            batch.offsets[index] = offset ?? -1
            if let onEach = batch.onEach { onEach(index, batch.outcome(index)) }
            batch.countDown()
        }
    }

    /// Records a record that never got queued.
    func fail(_ index: Int, _ error: KafkaError) {
        earlyErrors.withLock { $0[index] = error }
        codes[index] = error.brokerCode ?? -1
        onEach?(index, .failure(error))
        countDown()
    }

    private func countDown() {
        guard remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        let continuation = waiter.withLock { state in
            state.isComplete = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: allOutcomes())
        Unmanaged.passUnretained(self).release()
    }

    private func outcome(_ index: Int) -> Outcome {
        let code = codes[index]
        if code == 0 {
            return .success(KafkaDeliveryReport(topic: topics[index], partition: partitions[index], offset: offsets[index] >= 0 ? offsets[index] : nil))
        }
        if let early = earlyErrors.withLock({ $0[index] }) { return .failure(early) }
        return .failure(
            KafkaError(
                code: .delivery, message: "delivery to \(topics[index]) failed: \(RDKafkaClient.errorDescription(code))",
                brokerCode: code, isRetriable: RDKafkaClient.isRetriable(code), isFatal: code == RDKafkaClient.fatalCode))
    }

    private func allOutcomes() -> [Outcome] {
        (0..<count).map(outcome)
    }

    /// Waits for every record's outcome, in the order the records were given.
    func outcomes() async -> [Outcome] {
        await withCheckedContinuation { continuation in
            let isComplete = waiter.withLock { state in
                if !state.isComplete { state.continuation = continuation }
                return state.isComplete
            }
            if isComplete {
                _ = remaining.load(ordering: .acquiring)
                continuation.resume(returning: allOutcomes())
            }
        }
    }
}
