/// Ids and reasons built from other ids must stay within the contract's byte limits.
enum BoundedText {
    /// `base + suffix` when it fits in `maxBytes` UTF-8 bytes; otherwise the start of `base`, `#`,
    /// a 64-bit FNV-1a hash of all of `base` in hex, then `suffix`: still unique in practice and
    /// the same every time for the same input.
    static func identifier(_ base: String, suffix: String, maxBytes: Int = 128) -> String {
        if base.utf8.count + suffix.utf8.count <= maxBytes { return base + suffix }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in base.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        let tag = "#" + String(repeating: "0", count: 16 - hex.count) + hex
        return prefix(base, maxBytes: max(0, maxBytes - suffix.utf8.count - tag.utf8.count)) + tag + suffix
    }

    /// The longest prefix of `text` (whole characters) of at most `maxBytes` UTF-8 bytes.
    static func prefix(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var result = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            if bytes + size > maxBytes { break }
            result.append(character)
            bytes += size
        }
        return result
    }
}
