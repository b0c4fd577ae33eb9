import Dispatch
import Logging
import Synchronization

/// Partitions about to be taken from this consumer, handed to the handler before their offsets
/// are committed for the revoke.
///
/// The consumer's polling thread waits (up to the timeout given to `revocations(timeout:)`)
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

/// Where a consumer hands revocations over, when its handler asked for them.
final class RevocationHandOver: Sendable {
    private struct Listener {
        var id: UInt64
        var continuation: AsyncStream<KafkaRevocation>.Continuation
        var timeout: Duration
    }

    private struct State {
        var listener: Listener?
        var lastID: UInt64 = 0
    }

    private let state = Mutex(State())

    func stream(timeout: Duration) -> AsyncStream<KafkaRevocation> {
        let (stream, continuation) = AsyncStream.makeStream(of: KafkaRevocation.self)
        let (id, previous) = state.withLock { state in
            state.lastID += 1
            defer { state.listener = Listener(id: state.lastID, continuation: continuation, timeout: timeout) }
            return (state.lastID, state.listener)
        }
        // A handler that stopped reading (its task ended or was cancelled) no longer holds up revokes.
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { state in
                if state.listener?.id == id { state.listener = nil }
            }
        }
        previous?.continuation.finish()
        return stream
    }

    /// Hands `partitions` over and waits until the handler is done with them or the timeout
    /// passed (blocking: the polling thread only). Returns at once when nobody listens.
    func handOver(_ partitions: [KafkaTopicPartition], logger: Logger) {
        guard !partitions.isEmpty, let listener = state.withLock({ $0.listener }) else { return }
        let revocation = KafkaRevocation(partitions: partitions, acknowledgement: .init())
        guard case .enqueued = listener.continuation.yield(revocation) else { return }
        if !revocation.acknowledgement.wait(timeout: listener.timeout) {
            logger.warning("the handler did not finish with revoked partitions \(partitions) within \(listener.timeout); committing what it stored")
        }
    }

    /// No more revocations: the stream ends.
    func finish() {
        state.withLock { $0.listener }?.continuation.finish()
    }
}
