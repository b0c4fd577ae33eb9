import Synchronization

/// Counts what the receiver was sent.
final class ExportCounter: Sendable {
    private let counts = Mutex((requests: 0, bytes: 0))

    func add(bytes: Int) {
        counts.withLock { counts in
            counts.requests += 1
            counts.bytes += bytes
        }
    }

    var requests: Int { counts.withLock { $0.requests } }
    var bytes: Int { counts.withLock { $0.bytes } }
}
