/// A small pull reader of JSON text (RFC 8259) over raw memory, for the OTLP/JSON decoder: the
/// caller asks for the value it expects next (an object's keys one by one, an array's elements,
/// a string, a number) and skips what it does not know.
///
/// Strict where JSON is: no comments, no trailing commas, no single quotes, no bare `NaN`,
/// control characters in strings must be escaped, numbers follow JSON's grammar, nothing but
/// whitespace after the value. Escapes are decoded, `\uXXXX` surrogate pairs included; a lone
/// surrogate becomes U+FFFD, as does ill-formed UTF-8 in the text. Objects and arrays may nest
/// at most ``maximumDepth`` deep, so skipping a value recurses a bounded number of times.
///
/// Strings without escapes are handed out as ranges of the input; escaped ones are decoded into
/// a scratch buffer that the reader owns: a ``JSONText`` is valid until the next call, and
/// ``deallocate()`` must be called when done. Strings are shared through a ``StringTable``.
struct JSONReader {
    typealias Failure = OTLPDecodingError

    static let maximumDepth = 256

    let base: UnsafeRawPointer
    private(set) var position: UnsafeRawPointer
    let end: UnsafeRawPointer
    private var depth = 0
    private var scratch: UnsafeMutableRawBufferPointer
    /// Where strings without escapes (ranges of the input) are looked up and kept.
    private let strings: StringTable

    init(_ bytes: UnsafeRawBufferPointer) {
        // An empty input has no base address; any non-null pointer with end == position reads
        // nothing.
        let start = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        base = start
        position = start
        end = start + bytes.count
        scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        strings = StringTable(inputSize: bytes.count)
    }

    /// Frees the scratch buffer and the string table.
    mutating func deallocate() {
        strings.destroy()
        scratch.deallocate()
        scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    }

    var offset: Int { position - base }

    /// An error at the current position.
    @inline(never)
    func error(_ what: String) -> Failure {
        Failure(reason: what + " at byte \(offset)")
    }

    @inline(never)
    private func unexpected(_ expected: String) -> Failure {
        guard position < end else { return Failure(reason: "unexpected end of input, expected \(expected)") }
        let byte = position.load(as: UInt8.self)
        let found = byte >= 0x20 && byte < 0x7F ? "'\(Character(UnicodeScalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        return error("expected \(expected), found \(found)")
    }

    // MARK: Structure

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < end {
            switch position.load(as: UInt8.self) {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return
            }
        }
    }

    /// The first byte of the next value (after whitespace), not consumed; nil at the end.
    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < end ? position.load(as: UInt8.self) : nil
    }

    @inline(__always)
    private mutating func consume(_ byte: UInt8, _ expected: String) throws(Failure) {
        guard peek() == byte else { throw unexpected(expected) }
        position += 1
    }

    /// Whether the next value is `null`; consumes it if so.
    mutating func consumeNull() -> Bool {
        guard peek() == UInt8(ascii: "n"), end - position >= 4,
            position.load(fromByteOffset: 1, as: UInt8.self) == UInt8(ascii: "u"),
            position.load(fromByteOffset: 2, as: UInt8.self) == UInt8(ascii: "l"),
            position.load(fromByteOffset: 3, as: UInt8.self) == UInt8(ascii: "l")
        else { return false }
        position += 4
        return true
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("objects and arrays nested more than \(Self.maximumDepth) deep") }
    }

    /// Reads the `{` of an object.
    mutating func beginObject() throws(Failure) {
        try consume(UInt8(ascii: "{"), "an object")
        try enter()
    }

    /// The key of the object's next member, positioned at its value; nil (and the object read
    /// to its `}`) when there are no more. `first` must be true before the first call.
    mutating func nextKey(_ first: inout Bool) throws(Failure) -> JSONText? {
        guard let byte = peek() else { throw unexpected("'}' or a member") }
        if byte == UInt8(ascii: "}") {  // after a member, or an empty object (a ',' needs a member)
            position += 1
            depth -= 1
            return nil
        }
        if first {
            first = false
        } else {
            guard byte == UInt8(ascii: ",") else { throw unexpected("',' or '}'") }
            position += 1
        }
        guard peek() == UInt8(ascii: "\"") else { throw unexpected("a member name") }
        let key = try text()
        try consume(UInt8(ascii: ":"), "':'")
        return key
    }

    /// Reads the `[` of an array.
    mutating func beginArray() throws(Failure) {
        try consume(UInt8(ascii: "["), "an array")
        try enter()
    }

    /// Whether the array has another element (then positioned at it); false, and the array
    /// read to its `]`, when not. `first` must be true before the first call.
    mutating func nextElement(_ first: inout Bool) throws(Failure) -> Bool {
        guard let byte = peek() else { throw unexpected("']' or a value") }
        if byte == UInt8(ascii: "]") {  // after an element, or an empty array (a ',' needs an element)
            position += 1
            depth -= 1
            return false
        }
        if first {
            first = false
            return true
        }
        guard byte == UInt8(ascii: ",") else { throw unexpected("',' or ']'") }
        position += 1
        guard let next = peek(), next != UInt8(ascii: "]") else { throw unexpected("a value") }
        return true
    }

    /// After the top-level value: only whitespace may follow.
    mutating func finish() throws(Failure) {
        guard peek() == nil else { throw error("unexpected text after the JSON value") }
    }

    /// Skips one value of any type, checking its syntax.
    mutating func skipValue() throws(Failure) {
        guard let byte = peek() else { throw unexpected("a value") }
        switch byte {
        case UInt8(ascii: "{"):
            try beginObject()
            var first = true
            while try nextKey(&first) != nil { try skipValue() }
        case UInt8(ascii: "["):
            try beginArray()
            var first = true
            while try nextElement(&first) { try skipValue() }
        case UInt8(ascii: "\""):
            _ = try text()
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try bool()
        case UInt8(ascii: "n"):
            guard consumeNull() else { throw unexpected("a value") }
        default:
            _ = try number()
        }
    }

    // MARK: Scalars

    mutating func bool() throws(Failure) -> Bool {
        switch peek() {
        case UInt8(ascii: "t"):
            if literal("true") { return true }
        case UInt8(ascii: "f"):
            if literal("false") { return false }
        default:
            break
        }
        throw unexpected("true or false")
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard end - position >= count else { return false }
        for index in 0..<count where position.load(fromByteOffset: index, as: UInt8.self) != word.utf8Start[index] {
            return false
        }
        position += count
        return true
    }

    /// A number's text (checked against JSON's grammar), not converted.
    mutating func number() throws(Failure) -> JSONText {
        skipWhitespace()
        let start = position
        guard let length = JSONNumber.length(start, end), length > 0 else { throw unexpected("a value") }
        position += length
        return JSONText(UnsafeRawBufferPointer(start: start, count: length))
    }

    /// Whether the 8 bytes of `word` hold a `"`, a `\` or a control character.
    @inline(__always)
    private static func hasSpecial(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        return (control | ((quote &- ones) & ~quote & highs) | ((backslash &- ones) & ~backslash & highs)) != 0
    }

    /// A string's contents, unescaped (ill-formed UTF-8 left as it is). Positioned at its `"`.
    mutating func text() throws(Failure) -> JSONText {
        let open = position
        var cursor = position + 1
        // Fast path: no escapes.
        while true {
            if end - cursor >= 8 && !Self.hasSpecial(cursor.loadUnaligned(as: UInt64.self)) {
                cursor += 8
                continue
            }
            guard cursor < end else { throw Failure(reason: "unterminated string starting at byte \(open - base)") }
            let byte = cursor.load(as: UInt8.self)
            if byte == UInt8(ascii: "\"") {
                position = cursor + 1
                return JSONText(UnsafeRawBufferPointer(start: open + 1, count: cursor - open - 1))
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 {
                throw Failure(reason: "unescaped control character 0x\(String(byte, radix: 16)) in string at byte \(cursor - base)")
            }
            cursor += 1
        }
        // Find the end, then unescape into the scratch buffer (never longer than the text).
        var close = cursor
        while true {
            guard close < end else { throw Failure(reason: "unterminated string starting at byte \(open - base)") }
            let byte = close.load(as: UInt8.self)
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\") {
                close += 2
                continue
            }
            if byte < 0x20 {
                throw Failure(reason: "unescaped control character 0x\(String(byte, radix: 16)) in string at byte \(close - base)")
            }
            close += 1
        }
        let rawCount = close - open - 1
        if scratch.count < rawCount {
            scratch.deallocate()
            scratch = .allocate(byteCount: max(rawCount, 256), alignment: 1)
        }
        let output = scratch.baseAddress!
        let prefix = cursor - open - 1
        output.copyMemory(from: open + 1, byteCount: prefix)
        var written = prefix
        while cursor < close {
            let byte = cursor.load(as: UInt8.self)
            if byte != UInt8(ascii: "\\") {
                output.storeBytes(of: byte, toByteOffset: written, as: UInt8.self)
                written += 1
                cursor += 1
                continue
            }
            let escapeStart = cursor
            let escaped = (cursor + 1).load(as: UInt8.self)  // close is past it
            cursor += 2
            let simple: UInt8
            switch escaped {
            case UInt8(ascii: "\""): simple = 0x22
            case UInt8(ascii: "\\"): simple = 0x5C
            case UInt8(ascii: "/"): simple = 0x2F
            case UInt8(ascii: "b"): simple = 0x08
            case UInt8(ascii: "f"): simple = 0x0C
            case UInt8(ascii: "n"): simple = 0x0A
            case UInt8(ascii: "r"): simple = 0x0D
            case UInt8(ascii: "t"): simple = 0x09
            case UInt8(ascii: "u"):
                guard let unit = Self.hex4(cursor, close) else {
                    throw Failure(reason: "bad \\u escape in string at byte \(escapeStart - base)")
                }
                cursor += 4
                var scalar = UInt32(unit)
                if unit >= 0xD800 && unit < 0xDC00 {
                    // A high surrogate: a low one must follow, or it is replaced.
                    if close - cursor >= 6, cursor.load(as: UInt8.self) == UInt8(ascii: "\\"),
                        (cursor + 1).load(as: UInt8.self) == UInt8(ascii: "u"),
                        let low = Self.hex4(cursor + 2, close), low >= 0xDC00 && low < 0xE000
                    {
                        cursor += 6
                        scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    } else {
                        scalar = 0xFFFD
                    }
                } else if unit >= 0xDC00 && unit < 0xE000 {
                    scalar = 0xFFFD
                }
                written += Self.storeUTF8(scalar, output + written)
                continue
            default:
                throw Failure(reason: "bad escape '\\\(Character(UnicodeScalar(escaped)))' in string at byte \(escapeStart - base)")
            }
            output.storeBytes(of: simple, toByteOffset: written, as: UInt8.self)
            written += 1
        }
        position = close + 1
        return JSONText(UnsafeRawBufferPointer(start: output, count: written))
    }

    /// A string, ill-formed UTF-8 repaired (U+FFFD). Positioned at its `"`.
    mutating func string() throws(Failure) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw unexpected("a string") }
        return try string(text())
    }

    /// A text just read as a string: through the string table when it is a range of the
    /// input, made anew when it was unescaped into the scratch buffer.
    func string(_ text: JSONText) -> String {
        guard let start = text.bytes.baseAddress, text.count > 0 else { return "" }
        return start >= base && start < end ? strings.string(start, text.count) : StringTable.make(start, text.count)
    }

    /// Four hex digits at `start` (before `limit`).
    @inline(__always)
    private static func hex4(_ start: UnsafeRawPointer, _ limit: UnsafeRawPointer) -> UInt16? {
        guard limit - start >= 4 else { return nil }
        var value: UInt16 = 0
        for index in 0..<4 {
            guard let digit = hexDigit(start.load(fromByteOffset: index, as: UInt8.self)) else { return nil }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    @inline(__always)
    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }

    /// Stores `scalar` (not a surrogate) as UTF-8; returns the number of bytes.
    private static func storeUTF8(_ scalar: UInt32, _ output: UnsafeMutableRawPointer) -> Int {
        func store(_ offset: Int, _ value: UInt32) {
            output.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: offset, as: UInt8.self)
        }
        switch scalar {
        case 0..<0x80:
            store(0, scalar)
            return 1
        case 0x80..<0x800:
            store(0, 0xC0 | scalar >> 6)
            store(1, 0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            store(0, 0xE0 | scalar >> 12)
            store(1, 0x80 | scalar >> 6 & 0x3F)
            store(2, 0x80 | scalar & 0x3F)
            return 3
        default:
            store(0, 0xF0 | scalar >> 18)
            store(1, 0x80 | scalar >> 12 & 0x3F)
            store(2, 0x80 | scalar >> 6 & 0x3F)
            store(3, 0x80 | scalar & 0x3F)
            return 4
        }
    }
}

/// Text read by ``JSONReader``: a string's unescaped contents or a number's digits. Valid until
/// the reader's next call.
struct JSONText {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var count: Int { bytes.count }

    /// Whether the text is `name` or, when given, `other` (for the two spellings of a field).
    @inline(__always)
    func `is`(_ name: StaticString, _ other: StaticString? = nil) -> Bool {
        if equals(name) { return true }
        if let other { return equals(other) }
        return false
    }

    @inline(__always)
    func equals(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count == count else { return false }
        let characters = literal.utf8Start
        for index in 0..<count where bytes[index] != characters[index] { return false }
        return true
    }

    /// The text as a string, ill-formed UTF-8 repaired.
    var string: String {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: bytes.count), as: UTF8.self)
    }
}

/// JSON numbers: their grammar, and their conversions to protobuf's integer and double types.
enum JSONNumber {
    /// The length of the number (JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`)
    /// at `start`, or nil when there is none there.
    static func length(_ start: UnsafeRawPointer, _ end: UnsafeRawPointer) -> Int? {
        var cursor = start
        func byte() -> UInt8? { cursor < end ? cursor.load(as: UInt8.self) : nil }
        func isDigit(_ byte: UInt8?) -> Bool { byte.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false }
        if byte() == UInt8(ascii: "-") { cursor += 1 }
        guard isDigit(byte()) else { return nil }
        if byte() == UInt8(ascii: "0") {
            cursor += 1
        } else {
            while isDigit(byte()) { cursor += 1 }
        }
        if byte() == UInt8(ascii: ".") {
            cursor += 1
            guard isDigit(byte()) else { return nil }
            while isDigit(byte()) { cursor += 1 }
        }
        if byte() == UInt8(ascii: "e") || byte() == UInt8(ascii: "E") {
            cursor += 1
            if byte() == UInt8(ascii: "+") || byte() == UInt8(ascii: "-") { cursor += 1 }
            guard isDigit(byte()) else { return nil }
            while isDigit(byte()) { cursor += 1 }
        }
        return cursor - start
    }

    /// Whether all of `text` is one JSON number.
    static func isNumber(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let start = text.baseAddress, !text.isEmpty else { return false }
        return length(start, start + text.count) == text.count
    }

    /// The number as a double (nil when `text` is not a number).
    static func double(_ text: UnsafeRawBufferPointer) -> Double? {
        guard isNumber(text) else { return nil }
        return Double(JSONText(text).string)
    }

    /// The number as an integer in `-magnitudeLimit...magnitudeLimit` (or `0...magnitudeLimit`
    /// when `allowNegative` is false): exactly from its digits, or, written with a fraction or
    /// an exponent, when its value is a whole number. `negative` tells the sign.
    static func integer(_ text: UnsafeRawBufferPointer, allowNegative: Bool, limit: UInt64, negativeLimit: UInt64) -> (negative: Bool, magnitude: UInt64)? {
        guard isNumber(text) else { return nil }
        var index = 0
        let negative = text[0] == UInt8(ascii: "-")
        if negative { index = 1 }
        var magnitude: UInt64 = 0
        var plain = true
        while index < text.count {
            let byte = text[index]
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
                plain = false
                break
            }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
            guard !overflow1 && !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        if !plain {
            guard let value = double(text), value.rounded() == value, value.magnitude < 18_446_744_073_709_551_616.0 else {
                return nil
            }
            magnitude = UInt64(value.magnitude)
        }
        if negative && magnitude != 0 {
            guard allowNegative, magnitude <= negativeLimit else { return nil }
        } else {
            guard magnitude <= limit else { return nil }
        }
        return (negative && magnitude != 0, magnitude)
    }
}
