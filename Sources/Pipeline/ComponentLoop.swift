import Kafka
import KafkaTracing
import Logging
import Synchronization
import TraceContext
import Tracing

/// What a component's loop hands its handler, one at a time, in the order it happened.
public enum ComponentEvent: Sendable {
    /// Records of partitions this member holds, in partition order. Records of an assignment
    /// that was revoked in the meantime are left out: their next owner reads them.
    case records([KafkaMessage])
    /// Partitions newly assigned to this member; their records follow.
    case assigned([KafkaTopicPartition])
    /// Partitions about to be taken from this member (a rebalance, or the consumer's close at
    /// graceful shutdown). Finish what can be finished of them now (what the step sends is
    /// delivered and its records stored before the commit) and drop the rest of their state:
    /// records still held are not committed and are read again by the next owner.
    case revoked([KafkaTopicPartition])
    /// The loop's tick interval passed.
    case tick
    /// The consumer closed: the last event.
    case end
}

/// What a component does with one event: records to send (each the child of its own context),
/// and which consumed records are done once they are delivered.
///
/// Every record handed in with `.records` is done when its step's records are delivered,
/// unless the handler holds it (`hold`); a held record is done when a later step finishes it
/// (`finish`), or when `ComponentOffsets/finish(_:)` is called from elsewhere.
public struct ComponentStep {
    public private(set) var items: [(KafkaProducerRecord, MessagingParent)] = []
    var held: Set<KafkaRecordID> = []
    var finished: [KafkaRecordID] = []
    /// Whether the loop's ticks are wanted from now on (`nil`: as they were; they start on). A
    /// handler whose ticks serve only what it holds (the order manager's open batch windows)
    /// turns them off while it holds nothing: the loop then sleeps until the next record or
    /// rebalance instead of waking every tick.
    public var wantsTicks: Bool?

    public init() {}

    /// Sends `record` in `context` once the handler returns.
    public mutating func send(_ record: KafkaProducerRecord, context: ServiceContext) {
        items.append((record, .context(context)))
    }

    /// Sends `record` as a child of `parent` once the handler returns.
    public mutating func send(_ record: KafkaProducerRecord, parent: MessagingParent) {
        items.append((record, parent))
    }

    /// Sends records, each in its own context.
    public mutating func send(contentsOf records: some Sequence<(KafkaProducerRecord, ServiceContext)>) {
        items.append(contentsOf: records.lazy.map { ($0.0, .context($0.1)) })
    }

    /// Keeps a record of this step pending: its offset (and every later one of its partition) is
    /// not committed until it is finished.
    public mutating func hold(_ record: KafkaRecordID) {
        held.insert(record)
    }

    /// Records held before (or in this step) that are done once this step is delivered.
    public mutating func finish(_ records: some Sequence<KafkaRecordID>) {
        finished.append(contentsOf: records)
    }
}

/// The offsets of a component's consumed records: one policy for every component.
///
/// Work is tied to the record's identity (partition, offset, assignment generation) through an
/// `OffsetTracker`: an offset is stored only once every record before it in its partition is
/// done, a revoke forgets the partition's pending records (they are not committed; the next
/// owner reads them), and records of an assignment that was revoked are not handed to the
/// handler, nor can finishing them move an offset.
public final class ComponentOffsets: Sendable {
    private struct State: Sendable {
        var tracker = OffsetTracker()
        /// Per revoked partition, the last assignment generation revoked: older records are not ours.
        var revokedThrough: [KafkaTopicPartition: UInt64] = [:]
    }

    private let consumer: KafkaConsumer
    private let state = Mutex(State())

    init(consumer: KafkaConsumer) {
        self.consumer = consumer
    }

    /// Marks held records done and stores the offsets that moved. Safe from any task.
    public func finish(_ records: some Sequence<KafkaRecordID>) {
        let safe = state.withLock { $0.tracker.finish(records) }
        if !safe.isEmpty { consumer.storeOffsets(lastProcessed: safe) }
    }

    /// How many consumed records are pending (held, or in a step not delivered yet).
    public var pendingCount: Int { state.withLock { $0.tracker.pendingCount } }

    /// How many records of `partition` are pending.
    public func pendingCount(of partition: KafkaTopicPartition) -> Int {
        state.withLock { $0.tracker.pendingCount(of: partition) }
    }

    /// The records still ours, each tracked from now on. The array is handed back as it came
    /// when none is left out (the usual case: no record is copied).
    func admit(_ messages: [KafkaMessage]) -> (messages: [KafkaMessage], ids: [KafkaRecordID]) {
        state.withLock { state in
            let revokedThrough = state.revokedThrough
            func isStale(_ message: KafkaMessage) -> Bool {
                guard let through = revokedThrough[KafkaTopicPartition(topic: message.topic, partition: message.partition)] else { return false }
                return message.assignmentGeneration <= through
            }
            if revokedThrough.isEmpty || !messages.contains(where: isStale) { return (messages, state.tracker.add(contentsOf: messages)) }
            let admitted = messages.filter { !isStale($0) }
            return (admitted, state.tracker.add(contentsOf: admitted))
        }
    }

    /// Forgets revoked partitions: their pending records, and every record of their generation
    /// (or older) that may still be on its way.
    func revoke(_ partitions: [KafkaTopicPartition]) {
        let generations = partitions.map { consumer.assignmentGeneration(of: $0) }
        state.withLock { state in
            state.tracker.forget(partitions)
            for (partition, generation) in zip(partitions, generations) {
                // A partition's generation is the newest assignment's; without one, every record
                // already read of it is from an older assignment.
                let through = generation ?? state.revokedThrough[partition] ?? 0
                state.revokedThrough[partition] = max(through, state.revokedThrough[partition] ?? 0)
            }
        }
    }
}

extension ComponentKafka {
    /// The loop of a consumer-driven component: runs the consumer, and hands `handle` its
    /// records, its partitions' assignments and revokes, ticks (every `tick`, when given) and
    /// the end, one at a time. After each event, what the step sends is delivered
    /// (`send(_:logger:)`) and then the records it finished are stored as done.
    ///
    /// A revoke (also the close's, at graceful shutdown) reaches `handle` before the consumer
    /// commits for it: the commit covers what the handler finished, and nothing it holds of
    /// those partitions. The loop returns after `.end`, or throws what `handle` or a delivery
    /// threw (the records of that step are then not stored, so they are read again).
    public func run(
        tick: Duration? = nil, revokeTimeout: Duration = .seconds(60), logger: Logger,
        _ handle: (ComponentEvent, inout ComponentStep) async throws -> Void
    ) async throws {
        // Records, rebalances and ticks come through one queue, filled by the consumer's polling
        // thread: one wake-up of this task per hand-over, whatever it carries. Asked for before
        // the consumer runs, so that its first assignment is in it.
        let events = consumer.events(revokeTimeout: revokeTimeout)
        consumer.setTicks(tick)
        try await run {
            try await loop(events, tick: tick, logger: logger, handle)
        }
    }

    private func loop(
        _ events: KafkaConsumer.Events, tick: Duration?, logger: Logger, _ handle: (ComponentEvent, inout ComponentStep) async throws -> Void
    ) async throws {
        // Once this loop is over (the end, an error, cancellation), the consumer's close must not
        // wait for it to take the close's revoke.
        defer { events.stopReading() }
        func applyTicks(_ step: ComponentStep) {
            if tick != nil, let wanted = step.wantsTicks { consumer.setTicks(wanted ? tick : nil) }
        }
        for await event in events {
            var step = ComponentStep()
            switch event {
            case .records(let messages):
                let (current, ids) = offsets.admit(messages)
                guard !current.isEmpty else { continue }
                try await handle(.records(current), &step)
                step.finished += step.held.isEmpty ? ids : ids.filter { !step.held.contains($0) }
            case .assigned(let partitions):
                try await handle(.assigned(partitions), &step)
            case .revoked(let revocation):
                do {
                    try await handle(.revoked(revocation.partitions), &step)
                    applyTicks(step)
                    try await deliver(step, logger: logger)
                } catch {
                    revocation.done()
                    throw error
                }
                offsets.revoke(revocation.partitions)
                revocation.done()
                continue
            case .tick:
                guard tick != nil else { continue }
                try await handle(.tick, &step)
            }
            applyTicks(step)
            try await deliver(step, logger: logger)
        }
        // The consumer closed.
        var step = ComponentStep()
        try await handle(.end, &step)
        try await deliver(step, logger: logger)
    }

    private func deliver(_ step: ComponentStep, logger: Logger) async throws {
        try await send(step.items, logger: logger)
        if !step.finished.isEmpty { offsets.finish(step.finished) }
    }
}
