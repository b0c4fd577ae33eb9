extension Baggage {
    /// What parsing `baggage` header values produced, and what it left out.
    public struct ParseResult: Sendable, Hashable {
        /// The list-members that were kept, in wire order.
        public var baggage: Baggage

        /// List-members dropped because they did not follow the grammar (bad key, missing `=`, a value with a
        /// byte that is not a `baggage-octet`, malformed properties). Empty list-members, as in `a=1,,b=2`, are
        /// skipped and not counted.
        public var invalidCount: Int

        /// Valid list-members dropped whole because keeping them would have passed ``Baggage/maxEntries`` or
        /// ``Baggage/maxBytes``.
        public var overLimitCount: Int

        /// All list-members dropped: ``invalidCount`` plus ``overLimitCount``.
        public var droppedCount: Int { invalidCount + overLimitCount }

        /// Creates a result.
        public init(baggage: Baggage, invalidCount: Int, overLimitCount: Int) {
            self.baggage = baggage
            self.invalidCount = invalidCount
            self.overLimitCount = overLimitCount
        }
    }

    /// Parses the values of one or more `baggage` headers, as if they were joined with `,`.
    ///
    /// The grammar is the specification's:
    /// `list-member = key OWS "=" OWS value *( OWS ";" OWS property )`, where `key` is an RFC 7230 `token`,
    /// `value` is `*baggage-octet` and `property = key OWS ["=" OWS value]`. The rules applied:
    ///
    /// - Optional whitespace (space and horizontal tab) around keys, values, `=`, `;` and `,` is trimmed.
    /// - Empty list-members (`a=1,,b=2`, a trailing comma, an empty header) are skipped.
    /// - A list-member that breaks the grammar is dropped alone; the others survive. This covers a key that is
    ///   not a token (`"a b"=1`, `=v`), a member without `=` (`k`), a value with a byte outside
    ///   `baggage-octet` (a space, `"`, `\`, or a raw non-ASCII byte) and malformed properties (`k=v;`).
    ///   A comma always ends a list-member, so `k=a,b` is the member `k=a` and the invalid member `b`.
    /// - Values are percent-decoded as UTF-8. Escapes that decode to bytes which are not valid UTF-8 are
    ///   replaced by U+FFFD, as the specification requires. A value with a malformed escape, a `%` not
    ///   followed by two hexadecimal digits (`100%`, `%ZZ`), is kept **undecoded**, as received: `%` is a
    ///   `baggage-octet`, so the member is valid, and keeping its text loses nothing. Serializing it later
    ///   emits the `%` as `%25`, so receivers decode the same text.
    /// - Properties are kept as raw text (see ``Entry/properties``).
    /// - Duplicate keys are kept, in order.
    /// - Members are kept in order while they fit the limits: once ``maxEntries`` members are kept, the rest
    ///   are dropped; a member whose serialized form (see ``serialized()``) would take the total past
    ///   ``maxBytes`` is dropped, and later, smaller members may still be kept. Members are never truncated.
    ///   So a parsed `Baggage` always serializes without dropping anything.
    @inlinable
    public static func parse(headerValues: some Sequence<String>) -> ParseResult {
        var parser = BaggageParser()
        for headerValue in headerValues {
            parser.parse(headerValue)
        }
        return parser.result
    }

    /// Parses the value of one `baggage` header. See ``parse(headerValues:)`` for the rules.
    public static func parse(headerValue: String) -> ParseResult {
        var parser = BaggageParser()
        parser.parse(headerValue)
        return parser.result
    }

    /// Parses the raw UTF-8 values of one or more `baggage` headers, such as Kafka record headers, as if
    /// they were joined with `,`, without making strings of them first. See ``parse(headerValues:)`` for the
    /// rules; a byte of 128 or above outside a percent-escape makes its list-member invalid.
    @inlinable
    public static func parse(utf8HeaderValues: some Sequence<[UInt8]>) -> ParseResult {
        var parser = BaggageParser()
        for headerValue in utf8HeaderValues {
            parser.parse(utf8: headerValue)
        }
        return parser.result
    }

    /// Parses the raw UTF-8 values of one or more `baggage` headers, dropping invalid list-members and those
    /// past the limits. See ``parse(headerValues:)`` for the rules and ``parse(utf8HeaderValues:)`` for the
    /// counts of what was dropped.
    @inlinable
    public init(utf8HeaderValues: some Sequence<[UInt8]>) {
        self = Self.parse(utf8HeaderValues: utf8HeaderValues).baggage
    }

    /// Parses the values of one or more `baggage` headers, as if they were joined with `,`, dropping invalid
    /// list-members and those past the limits. See ``parse(headerValues:)`` for the rules and the counts of
    /// what was dropped.
    @inlinable
    public init(headerValues: some Sequence<String>) {
        self = Self.parse(headerValues: headerValues).baggage
    }

    /// Parses the value of one `baggage` header, dropping invalid list-members and those past the limits.
    /// See ``parse(headerValues:)`` for the rules and the counts of what was dropped.
    public init(headerValue: String) {
        self = Self.parse(headerValue: headerValue).baggage
    }
}

/// Counts list-members and bytes against ``Baggage/maxEntries`` and ``Baggage/maxBytes``.
struct LimitBudget {
    private(set) var count = 0
    private(set) var bytes = 0

    /// Whether all ``Baggage/maxEntries`` slots are taken.
    var isFull: Bool { count >= Baggage.maxEntries }

    /// Takes a member of `memberBytes` serialized bytes (plus its separating comma) if it fits.
    mutating func admit(memberBytes: Int) -> Bool {
        guard count < Baggage.maxEntries else { return false }
        let needed = count == 0 ? memberBytes : memberBytes + 1
        guard needed <= Baggage.maxBytes - bytes else { return false }
        count += 1
        bytes += needed
        return true
    }
}

/// Parses header values into entries; keeps its state across several header values.
@usableFromInline
struct BaggageParser {
    private var entries: [Baggage.Entry] = []
    private var budget = LimitBudget()
    private var invalidCount = 0
    private var overLimitCount = 0

    @usableFromInline
    init() {}

    @usableFromInline
    var result: Baggage.ParseResult {
        Baggage.ParseResult(
            baggage: Baggage(entries: entries),
            invalidCount: invalidCount,
            overLimitCount: overLimitCount
        )
    }

    @usableFromInline
    mutating func parse(_ headerValue: String) {
        let parsed: Void? = headerValue.utf8.withContiguousStorageIfAvailable { bytes in
            parse(bytes)
        }
        if parsed == nil {
            var headerValue = headerValue
            headerValue.withUTF8 { bytes in
                parse(bytes)
            }
        }
    }

    @usableFromInline
    mutating func parse(utf8 headerValue: [UInt8]) {
        headerValue.withUnsafeBufferPointer { bytes in
            parse(bytes)
        }
    }

    private mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) {
        let end = bytes.count
        if entries.isEmpty {
            // Size the array once: at most one entry per comma-separated list-member.
            var members = 1
            for byte in bytes where byte == ASCII.comma {
                members &+= 1
            }
            entries.reserveCapacity(min(members, Baggage.maxEntries))
        }
        var start = 0
        while start <= end {
            var memberEnd = start
            while memberEnd < end && bytes[memberEnd] != ASCII.comma {
                memberEnd &+= 1
            }
            member(bytes, from: start, to: memberEnd)
            start = memberEnd &+ 1
        }
    }

    /// Handles the list-member `bytes[lower..<upper]`, surrounding whitespace included.
    private mutating func member(_ bytes: UnsafeBufferPointer<UInt8>, from lower: Int, to upper: Int) {
        var lower = lower
        var upper = upper
        while lower < upper && ASCII.isOWS(bytes[lower]) { lower &+= 1 }
        while upper > lower && ASCII.isOWS(bytes[upper &- 1]) { upper &-= 1 }
        guard lower < upper else { return }  // empty list-member

        guard let member = Self.scanMember(bytes, from: lower, to: upper) else {
            invalidCount += 1
            return
        }
        guard !budget.isFull else {
            overLimitCount += 1
            return
        }

        let keyLength = member.keyEnd &- lower
        let propertiesLength = member.propertiesStart.map { upper &- $0 &+ 1 } ?? 0
        let value: String
        let valueLength: Int
        if member.valueHasPercent {
            value = Self.percentDecoded(bytes, from: member.valueStart, to: member.valueEnd)
            valueLength = Baggage.encodedLength(ofValue: value)
        } else {
            value = ""  // made below, once the member is known to fit
            valueLength = member.valueEnd &- member.valueStart
        }
        guard budget.admit(memberBytes: keyLength &+ 1 &+ valueLength &+ propertiesLength) else {
            overLimitCount += 1
            return
        }

        entries.append(
            Baggage.Entry(
                key: Self.string(bytes, from: lower, to: member.keyEnd),
                value: member.valueHasPercent ? value : Self.string(bytes, from: member.valueStart, to: member.valueEnd),
                properties: member.propertiesStart.map { Self.string(bytes, from: $0, to: upper) }
            )
        )
    }

    /// Where the parts of a valid list-member are.
    private struct MemberLayout {
        var keyEnd: Int
        var valueStart: Int
        var valueEnd: Int
        var valueHasPercent: Bool
        /// The start of the raw property text, which runs to the member's end; `nil` without properties.
        var propertiesStart: Int?
    }

    /// Checks `bytes[lower..<upper]`, already trimmed, against the `list-member` grammar.
    private static func scanMember(_ bytes: UnsafeBufferPointer<UInt8>, from lower: Int, to upper: Int) -> MemberLayout? {
        var index = lower
        while index < upper && ByteClass.tchar.contains(bytes[index]) { index &+= 1 }
        guard index > lower else { return nil }  // empty or non-token key
        let keyEnd = index

        while index < upper && ASCII.isOWS(bytes[index]) { index &+= 1 }
        guard index < upper && bytes[index] == ASCII.equals else { return nil }
        index &+= 1
        while index < upper && ASCII.isOWS(bytes[index]) { index &+= 1 }

        let valueStart = index
        var valueHasPercent = false
        while index < upper {
            let byte = bytes[index]
            guard ByteClass.baggageOctet.contains(byte) else { break }
            if byte == ASCII.percent { valueHasPercent = true }
            index &+= 1
        }
        let valueEnd = index

        while index < upper && ASCII.isOWS(bytes[index]) { index &+= 1 }
        guard index < upper else {
            return MemberLayout(
                keyEnd: keyEnd,
                valueStart: valueStart,
                valueEnd: valueEnd,
                valueHasPercent: valueHasPercent,
                propertiesStart: nil
            )
        }
        guard bytes[index] == ASCII.semicolon else { return nil }  // a byte that may not be in a value
        index &+= 1
        while index < upper && ASCII.isOWS(bytes[index]) { index &+= 1 }
        guard isPropertyList(bytes, from: index, to: upper) else { return nil }
        return MemberLayout(
            keyEnd: keyEnd,
            valueStart: valueStart,
            valueEnd: valueEnd,
            valueHasPercent: valueHasPercent,
            propertiesStart: index
        )
    }

    /// Whether `bytes[lower..<upper]` is `property *( OWS ";" OWS property )` with no outer whitespace.
    static func isPropertyList(_ bytes: UnsafeBufferPointer<UInt8>, from lower: Int, to upper: Int) -> Bool {
        var index = lower
        while true {
            let keyStart = index
            while index < upper && ByteClass.tchar.contains(bytes[index]) { index &+= 1 }
            guard index > keyStart else { return false }
            while index < upper && ASCII.isOWS(bytes[index]) { index &+= 1 }
            if index == upper { return true }
            if bytes[index] == ASCII.equals {
                index &+= 1
                while index < upper && ASCII.isOWS(bytes[index]) { index &+= 1 }
                while index < upper && ByteClass.baggageOctet.contains(bytes[index]) { index &+= 1 }
                while index < upper && ASCII.isOWS(bytes[index]) { index &+= 1 }
                if index == upper { return true }
            }
            guard bytes[index] == ASCII.semicolon else { return false }
            index &+= 1
            while index < upper && ASCII.isOWS(bytes[index]) { index &+= 1 }
        }
    }

    /// The text of `bytes[lower..<upper]`, which the grammar has already limited to US-ASCII.
    @inline(__always)
    private static func string(_ bytes: UnsafeBufferPointer<UInt8>, from lower: Int, to upper: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[lower..<upper]), as: UTF8.self)
    }

    /// Percent-decodes a value as UTF-8, replacing invalid UTF-8 with U+FFFD; a value with a malformed escape
    /// is returned undecoded.
    private static func percentDecoded(_ bytes: UnsafeBufferPointer<UInt8>, from lower: Int, to upper: Int) -> String {
        var escapes = 0
        var index = lower
        while index < upper {
            if bytes[index] == ASCII.percent {
                guard upper - index > 2,
                    ByteClass.hexDigit.contains(bytes[index &+ 1]),
                    ByteClass.hexDigit.contains(bytes[index &+ 2])
                else {
                    return string(bytes, from: lower, to: upper)  // malformed escape: keep the value as received
                }
                escapes &+= 1
                index &+= 3
            } else {
                index &+= 1
            }
        }
        let decodedLength = upper &- lower &- 2 &* escapes
        // This initializer repairs bytes that are not valid UTF-8, replacing them with U+FFFD.
        return String(unsafeUninitializedCapacity: decodedLength) { out in
            var read = lower
            var write = 0
            while read < upper {
                let byte = bytes[read]
                if byte == ASCII.percent {
                    out[write] = ASCII.hexValue(bytes[read &+ 1]) &<< 4 | ASCII.hexValue(bytes[read &+ 2])
                    read &+= 3
                } else {
                    out[write] = byte
                    read &+= 1
                }
                write &+= 1
            }
            return write
        }
    }
}
