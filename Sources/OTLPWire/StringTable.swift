/// Strings decoded from one request, looked up by their bytes so that text that repeats
/// (attribute keys, span names, common values such as `"kafka"` or a service name) is turned
/// into a `String` once per request and then shared: the same storage, no allocation, no
/// second UTF-8 validation. In a batch of similar spans nearly every key, and many values, hit.
///
/// A direct-mapped table: each slot holds the last string whose hash fell into it; a collision
/// replaces it. Entries remember where their bytes are in the input, which outlives the table,
/// so a lookup compares against the input itself. Texts longer than ``maximumLength`` bytes
/// (rarely repeated) are not kept.
///
/// The table is a pointer and a mask, copied freely into the readers; it is created and
/// destroyed (``destroy()``) by the decoder that owns the input.
struct StringTable {
    static let maximumLength = 64

    private struct Entry {
        var hash: UInt64
        var start: UnsafeRawPointer?
        var count: Int
        var string: String
    }

    private let entries: UnsafeMutablePointer<Entry>
    private let mask: Int

    /// A table sized for an input of `inputSize` bytes: one slot per 64 bytes, 16 to 4096.
    init(inputSize: Int) {
        var capacity = 16
        while capacity < 4096 && capacity * 64 < inputSize { capacity *= 2 }
        entries = .allocate(capacity: capacity)
        entries.initialize(repeating: Entry(hash: 0, start: nil, count: 0, string: ""), count: capacity)
        mask = capacity - 1
    }

    func destroy() {
        entries.deinitialize(count: mask + 1)
        entries.deallocate()
    }

    /// The UTF-8 text of `count` bytes at `start` as a string (ill-formed UTF-8 repaired with
    /// U+FFFD). `start` must point into the input, which must stay alive and unchanged as long
    /// as the table is used.
    @inline(__always)
    func string(_ start: UnsafeRawPointer, _ count: Int) -> String {
        if count == 0 { return "" }
        if count > Self.maximumLength { return Self.make(start, count) }
        let hash = Self.hash(start, count)
        let slot = entries + (Int(truncatingIfNeeded: hash >> 32) & mask)
        if slot.pointee.hash == hash && slot.pointee.count == count, let known = slot.pointee.start,
            Self.equal(known, start, count)
        {
            return slot.pointee.string
        }
        let string = Self.make(start, count)
        slot.pointee = Entry(hash: hash, start: start, count: count, string: string)
        return string
    }

    /// A new string, not looked up.
    @inline(__always)
    static func make(_ start: UnsafeRawPointer, _ count: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: count), as: UTF8.self)
    }

    /// 1 to 7 bytes as the low bytes of a word.
    @inline(__always)
    private static func partialWord(_ start: UnsafeRawPointer, _ count: Int) -> UInt64 {
        var word: UInt64 = 0
        for index in 0..<count { word |= UInt64(start.load(fromByteOffset: index, as: UInt8.self)) << (8 * UInt64(index)) }
        return word
    }

    /// A hash of `count` (1 to ``maximumLength``) bytes, reading none outside them.
    @inline(__always)
    private static func hash(_ start: UnsafeRawPointer, _ count: Int) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var hash = UInt64(truncatingIfNeeded: count) &* multiplier
        if count < 8 {
            hash = (hash ^ partialWord(start, count)) &* multiplier
        } else {
            var offset = 0
            while offset + 8 <= count {
                hash = (hash ^ start.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* multiplier
                hash ^= hash >> 29
                offset += 8
            }
            if offset < count {  // the last 8 bytes, overlapping
                hash = (hash ^ start.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)) &* multiplier
            }
        }
        return hash ^ hash >> 32
    }

    @inline(__always)
    private static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        if a == b { return true }
        if count < 8 { return partialWord(a, count) == partialWord(b, count) }
        var offset = 0
        while offset + 8 <= count {
            if a.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != b.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
                return false
            }
            offset += 8
        }
        return offset == count
            || a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }
}
