/// The pieces of the store's byte formats (outbox headers and records, changelog rows):
/// big-endian integers, and runs of bytes after a 4-byte length (-1 for none).
extension [UInt8] {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    /// `field`'s length (4 bytes) and bytes, or the length -1 when there is none.
    mutating func appendField(_ field: (some Collection<UInt8>)?) {
        guard let field else { return appendBigEndian(Int32(-1)) }
        appendBigEndian(Int32(field.count))
        append(contentsOf: field)
    }
}

/// Reads what those appends wrote. A read past the end returns nil and leaves the position as
/// it was; each format says what that means (an error, or the end of what is readable).
struct StoredBytesReader {
    let bytes: [UInt8]
    private(set) var position: Int

    init(_ bytes: [UInt8], from position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var isAtEnd: Bool { position >= bytes.count }

    /// The next `count` bytes.
    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, position + count <= bytes.count else { return nil }
        defer { position += count }
        return bytes[position..<position + count]
    }

    /// A big-endian unsigned integer of `width` bytes.
    mutating func integer(_ width: Int) -> UInt64? {
        take(width).map { $0.reduce(0) { $0 << 8 | UInt64($1) } }
    }

    /// The 4-byte length of a field (-1: none).
    mutating func length() -> Int32? {
        integer(4).map { Int32(truncatingIfNeeded: $0) }
    }
}
