import NIOConcurrencyHelpers

/// A value behind a lock, shareable by reference (unlike `Mutex`, which cannot be captured by a closure).
///
/// `@unchecked Sendable`: every access goes through the lock. Values that hold C pointers
/// (topic handles) are only touched under it.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NIOLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    @inline(__always)
    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

extension String {
    /// Decodes a NUL-terminated C buffer (an `errstr` librdkafka filled in).
    init(cBuffer: [CChar]) {
        let bytes = cBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
