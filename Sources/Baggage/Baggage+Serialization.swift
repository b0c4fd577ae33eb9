extension Baggage {
    /// A serialized `baggage` header value, and what was left out of it.
    public struct SerializationResult: Sendable, Hashable {
        /// The header value: list-members joined by `,`, without whitespace. Empty when nothing was emitted.
        public var headerValue: String

        /// How many entries the header value holds.
        public var emittedCount: Int

        /// Entries left out because they cannot be written as a valid list-member: a key that is not an
        /// RFC 7230 `token`, or property text that does not follow the `property` grammar.
        public var invalidCount: Int

        /// Entries left out whole because emitting them would have passed ``Baggage/maxEntries`` or
        /// ``Baggage/maxBytes``.
        public var overLimitCount: Int

        /// All entries left out: ``invalidCount`` plus ``overLimitCount``.
        public var droppedCount: Int { invalidCount + overLimitCount }

        /// Creates a result.
        public init(headerValue: String, emittedCount: Int, invalidCount: Int, overLimitCount: Int) {
            self.headerValue = headerValue
            self.emittedCount = emittedCount
            self.invalidCount = invalidCount
            self.overLimitCount = overLimitCount
        }
    }

    /// The `baggage` header value for these entries; what ``serialized()`` returns, without the counts.
    public var headerValue: String {
        serialized().headerValue
    }

    /// Serializes the entries into a `baggage` header value that fits the limits.
    ///
    /// Each entry becomes `key=value` or `key=value;properties`, and entries are joined by `,` in order:
    ///
    /// - Keys are written as they are. An entry whose key is not an RFC 7230 `token` (as can happen with
    ///   entries built in code) is left out and counted in ``SerializationResult/invalidCount``.
    /// - Values are percent-encoded as UTF-8: exactly the bytes that are not `baggage-octet`s, and `%`
    ///   itself, become `%XX` with upper-case hexadecimal digits; every other byte is written as is.
    /// - Properties are written raw after a `;`. An entry whose property text does not follow the
    ///   `property *( OWS ";" OWS property )` grammar, without outer whitespace, is left out and counted as
    ///   invalid.
    /// - Entries are taken in order while they fit: once ``maxEntries`` entries are written the rest are left
    ///   out, and an entry that would take the header past ``maxBytes`` bytes is left out while later,
    ///   smaller entries may still be written. An entry is never truncated. Left-out entries are counted in
    ///   ``SerializationResult/overLimitCount``.
    public func serialized() -> SerializationResult {
        entries.withUnsafeBufferPointer { entries in
            guard !entries.isEmpty else {
                return SerializationResult(headerValue: "", emittedCount: 0, invalidCount: 0, overLimitCount: 0)
            }
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: entries.count) { valueLengths in
                Self.serialize(entries, valueLengths: valueLengths)
            }
        }
    }

    private static func serialize(
        _ entries: UnsafeBufferPointer<Entry>,
        valueLengths: UnsafeMutableBufferPointer<Int>
    ) -> SerializationResult {
        // Pass 1: choose the entries, noting each chosen value's encoded length (-1: left out).
        var budget = LimitBudget()
        var invalidCount = 0
        var overLimitCount = 0
        for index in entries.indices {
            guard isToken(entries[index].key), entries[index].properties.map(isPropertyList) ?? true else {
                valueLengths[index] = -1
                invalidCount += 1
                continue
            }
            let valueLength = encodedLength(ofValue: entries[index].value)
            var memberLength = entries[index].key.utf8.count &+ 1 &+ valueLength
            if let properties = entries[index].properties {
                memberLength &+= 1 &+ properties.utf8.count
            }
            if budget.admit(memberBytes: memberLength) {
                valueLengths[index] = valueLength
            } else {
                valueLengths[index] = -1
                overLimitCount += 1
            }
        }

        // Pass 2: write them.
        let totalLength = budget.bytes
        let headerValue =
            totalLength == 0
            ? ""
            : String(unsafeUninitializedCapacity: totalLength) { out in
                var write = 0
                for index in entries.indices where valueLengths[index] >= 0 {
                    if write > 0 {
                        out[write] = ASCII.comma
                        write &+= 1
                    }
                    copy(entries[index].key, into: out, at: &write)
                    out[write] = ASCII.equals
                    write &+= 1
                    if valueLengths[index] == entries[index].value.utf8.count {
                        copy(entries[index].value, into: out, at: &write)
                    } else {
                        percentEncode(entries[index].value, into: out, at: &write)
                    }
                    if let properties = entries[index].properties {
                        out[write] = ASCII.semicolon
                        write &+= 1
                        copy(properties, into: out, at: &write)
                    }
                }
                assert(write == totalLength, "serialized length differs from the computed one")
                return write
            }
        return SerializationResult(
            headerValue: headerValue,
            emittedCount: budget.count,
            invalidCount: invalidCount,
            overLimitCount: overLimitCount
        )
    }

    /// The length of `value` once percent-encoded for a header.
    static func encodedLength(ofValue value: String) -> Int {
        withUTF8(value) { bytes in
            var length = bytes.count
            for byte in bytes where !ByteClass.valueSafe.contains(byte) {
                length &+= 2
            }
            return length
        }
    }

    /// Whether `key` is an RFC 7230 `token` (`1*tchar`).
    static func isToken(_ key: String) -> Bool {
        withUTF8(key) { bytes in
            guard !bytes.isEmpty else { return false }
            for byte in bytes where !ByteClass.tchar.contains(byte) {
                return false
            }
            return true
        }
    }

    /// Whether `properties` is property text that can be emitted after a `;`.
    static func isPropertyList(_ properties: String) -> Bool {
        withUTF8(properties) { bytes in
            BaggageParser.isPropertyList(bytes, from: 0, to: bytes.count)
        }
    }

    /// Calls `body` with the UTF-8 bytes of `string`, without copying a native string.
    @inline(__always)
    private static func withUTF8<R>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = string.utf8.withContiguousStorageIfAvailable(body) {
            return result
        }
        var string = string
        return string.withUTF8(body)
    }

    @inline(__always)
    private static func copy(_ string: String, into out: UnsafeMutableBufferPointer<UInt8>, at write: inout Int) {
        withUTF8(string) { bytes in
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            (out.baseAddress! + write).initialize(from: source, count: bytes.count)
            write &+= bytes.count
        }
    }

    private static func percentEncode(_ value: String, into out: UnsafeMutableBufferPointer<UInt8>, at write: inout Int) {
        withUTF8(value) { bytes in
            for byte in bytes {
                if ByteClass.valueSafe.contains(byte) {
                    out[write] = byte
                    write &+= 1
                } else {
                    out[write] = ASCII.percent
                    out[write &+ 1] = ASCII.hexDigit(byte &>> 4)
                    out[write &+ 2] = ASCII.hexDigit(byte & 0x0F)
                    write &+= 3
                }
            }
        }
    }
}
