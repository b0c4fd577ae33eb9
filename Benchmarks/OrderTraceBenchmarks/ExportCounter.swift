import Foundation

/// Counts what the receiver was sent.
final class ExportCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var _requests = 0
    private var _bytes = 0
    func add(bytes: Int) {
        lock.lock()
        _requests += 1
        _bytes += bytes
        lock.unlock()
    }
    var requests: Int { lock.lock(); defer { lock.unlock() }; return _requests }
    var bytes: Int { lock.lock(); defer { lock.unlock() }; return _bytes }
}
