/// A small, fast, seeded generator (SplitMix64) with its own bounded draw.
///
/// The simulator does not use the standard library's `random(in:using:)`: its algorithm is not promised to
/// stay the same across toolchains, and the simulator promises the same output for the same seed.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    /// A generator for one symbol: the session seed mixed with a stable hash of the symbol's UTF-8 bytes
    /// (not `Hasher`, which is seeded per process).
    init(seed: UInt64, symbol: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a 64
        for byte in symbol.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        var mixer = SplitMix64(seed: seed ^ hash)
        state = mixer.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A uniform value in `0...bound`, by rejection (no modulo bias).
    mutating func next(upTo bound: UInt64) -> UInt64 {
        if bound == .max { return next() }
        let range = bound + 1
        let threshold = (0 &- range) % range
        while true {
            let value = next()
            if value >= threshold { return value % range }
        }
    }

    /// A uniform value in `range`.
    mutating func next(in range: ClosedRange<Int64>) -> Int64 {
        let span = UInt64(bitPattern: range.upperBound &- range.lowerBound)
        return range.lowerBound &+ Int64(bitPattern: next(upTo: span))
    }
}
