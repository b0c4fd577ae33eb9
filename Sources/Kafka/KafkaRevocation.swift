import Dispatch
import Logging
import Synchronization

/// Partitions about to be taken from this consumer, handed to the handler before their offsets
/// are committed for the revoke.
///
/// The consumer's polling thread waits (up to the timeout given to `rebalances(revokeTimeout:)`)
/// until `done()` is called: the handler finishes what it holds from these partitions and
/// stores its offsets first, then the consumer commits them and lets the partitions go. The
/// same happens when the consumer closes (graceful shutdown), before it leaves the group.
public struct KafkaRevocation: Sendable {
    /// The partitions being revoked.
    public let partitions: [KafkaTopicPartition]
    let acknowledgement: Acknowledgement

    /// Says the handler is done with the partitions: what it stored is committed next.
    public func done() { acknowledgement.signal() }

    /// A semaphore the polling thread (never a task) waits on.
    final class Acknowledgement: @unchecked Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        private let signalled = Mutex(false)

        func signal() {
            let first = signalled.withLock { signalled in
                defer { signalled = true }
                return !signalled
            }
            if first { semaphore.signal() }
        }

        /// Blocking: the polling thread only. Returns false when `timeout` passed first.
        func wait(timeout: Duration) -> Bool {
            semaphore.wait(timeout: .now() + .milliseconds(Int(clamping: timeout.milliseconds))) == .success
        }
    }
}

/// A change of this member's partitions, as its handler hears it (`KafkaConsumer.rebalances`).
public enum KafkaRebalance: Sendable {
    /// Partitions now assigned to this member; their records follow, read from the committed offset.
    case assigned([KafkaTopicPartition])
    /// Partitions about to be taken away; the consumer commits for them once `done()` is called.
    case revoked(KafkaRevocation)
}

/// Where a consumer hands rebalances over, when its handler asked for them: into an
/// `AsyncStream` (`KafkaConsumer.rebalances`) or into the consumer's buffer, in line with its
/// records (`KafkaConsumer.events`).
final class RevocationHandOver: Sendable {
    private struct Listener {
        var id: UInt64
        /// Hands a rebalance over; false when it could not be (the reader is gone).
        var deliver: @Sendable (KafkaRebalance) -> Bool
        var finish: @Sendable () -> Void
        var timeout: Duration
    }

    private struct State {
        var listener: Listener?
        var lastID: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Commits at a revoke that failed every attempt (counted by the consumer's rebalance callback).
    let failedCommits = Mutex(0)

    func stream(timeout: Duration) -> AsyncStream<KafkaRebalance> {
        let (stream, continuation) = AsyncStream.makeStream(of: KafkaRebalance.self)
        let id = listen(
            deliver: { rebalance in
                if case .enqueued = continuation.yield(rebalance) { return true }
                return false
            },
            finish: { continuation.finish() }, timeout: timeout)
        // A handler that stopped reading (its task ended or was cancelled) no longer holds up revokes.
        continuation.onTermination = { [weak self] _ in self?.stopListening(id) }
        return stream
    }

    /// Hands rebalances to `deliver` from now on (replacing any earlier listener); returns the
    /// id to stop with.
    func listen(deliver: @escaping @Sendable (KafkaRebalance) -> Bool, finish: @escaping @Sendable () -> Void, timeout: Duration) -> UInt64 {
        let (id, previous) = state.withLock { state in
            state.lastID += 1
            defer { state.listener = Listener(id: state.lastID, deliver: deliver, finish: finish, timeout: timeout) }
            return (state.lastID, state.listener)
        }
        previous?.finish()
        return id
    }

    /// The listener `id` stopped reading: revokes no longer wait for it.
    func stopListening(_ id: UInt64) {
        state.withLock { state in
            if state.listener?.id == id { state.listener = nil }
        }
    }

    /// Tells the handler of newly assigned partitions (without waiting).
    func assigned(_ partitions: [KafkaTopicPartition]) {
        guard !partitions.isEmpty, let listener = state.withLock({ $0.listener }) else { return }
        _ = listener.deliver(.assigned(partitions))
    }

    /// Hands `partitions` over and waits until the handler is done with them or the timeout
    /// passed (blocking: the polling thread only). Returns at once when nobody listens.
    func handOver(_ partitions: [KafkaTopicPartition], logger: Logger) {
        guard !partitions.isEmpty, let listener = state.withLock({ $0.listener }) else { return }
        let revocation = KafkaRevocation(partitions: partitions, acknowledgement: .init())
        guard listener.deliver(.revoked(revocation)) else { return }
        // Waits in slices, so a handler that stopped reading (its task ended or was cancelled
        // with the revoke unread) does not hold the commit up for the whole timeout.
        let started = ContinuousClock.now
        while !revocation.acknowledgement.wait(timeout: .milliseconds(100)) {
            if state.withLock({ $0.listener?.id }) != listener.id {
                logger.debug("the handler stopped reading before it finished with revoked partitions \(partitions)")
                return
            }
            if ContinuousClock.now - started >= listener.timeout {
                logger.warning("the handler did not finish with revoked partitions \(partitions) within \(listener.timeout); committing what it stored")
                return
            }
        }
    }

    /// No more rebalances: the stream ends.
    func finish() {
        state.withLock { $0.listener }?.finish()
    }
}
