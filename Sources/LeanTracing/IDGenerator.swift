import OTLPWire
import Synchronization

/// Span and trace ids: SplitMix64 over a counter seeded once from the operating system. One
/// atomic add per id, no lock and no system call; SplitMix64 is a bijection, so ids never repeat
/// within a process, and the seed makes them unpredictable across processes.
final class IDGenerator: Sendable {
    private let counter: Atomic<UInt64>

    init(seed: UInt64 = UInt64.random(in: 1...UInt64.max)) {
        counter = Atomic(seed)
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    private func next() -> UInt64 {
        Self.mix(counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue)
    }

    func spanID() -> UInt64 {
        while true {
            let id = next()
            if id != 0 { return id }
        }
    }

    func traceID() -> TraceID {
        while true {
            let id = TraceID(high: next(), low: next())
            if id.isValid { return id }
        }
    }
}
