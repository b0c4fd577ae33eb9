/// A strict, single-pass UTF-8 JSON scanner (RFC 8259) over a borrowed buffer.
///
/// It validates everything it passes over: string escapes, UTF-8, control characters, number grammar, literal
/// spelling and nesting (at most ``maxDepth`` levels of arrays and objects). With ``rejectsDuplicateKeys`` an
/// object with the same key twice, at any depth, is an error too. It never allocates, except for the fields of
/// the one object that ``parseObjectFields(into:)`` collects (and, with ``rejectsDuplicateKeys``, the keys of
/// large objects). Errors say what and where, as a byte offset into the buffer.
package struct JSONScanner {
    /// The deepest nesting of arrays and objects accepted by default.
    package static let defaultMaxDepth = 64

    package let bytes: UnsafeRawBufferPointer
    package var index: Int
    package let end: Int
    /// The deepest nesting of arrays and objects accepted (the outermost counts as 1).
    package let maxDepth: Int
    /// Whether an object with the same key twice is an error (else the caller decides what it means).
    package let rejectsDuplicateKeys: Bool

    package init(
        _ bytes: UnsafeRawBufferPointer, start: Int = 0, end: Int? = nil, maxDepth: Int = defaultMaxDepth,
        rejectsDuplicateKeys: Bool = false
    ) {
        self.bytes = bytes
        self.index = start
        self.end = end ?? bytes.count
        self.maxDepth = maxDepth
        self.rejectsDuplicateKeys = rejectsDuplicateKeys
    }

    @inline(__always)
    package mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    package var isAtEnd: Bool { index >= end }

    package func error(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset ?? index, message: message)
    }

    /// `unexpected 'x' at byte 7 <context>`, or `the message ends <context>` at the end.
    package func unexpected(_ context: String) -> JSONSyntaxError {
        if index >= end { return error("the message ends \(context)") }
        return error("unexpected '\(Self.printable(bytes[index]))' at byte \(index) \(context)")
    }

    /// A byte as a readable character, or its hex value.
    static func printable(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return String(Character(Unicode.Scalar(byte))) }
        let hex = String(byte, radix: 16, uppercase: true)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }

    /// Parses one whole input that must be one value with optional whitespace around it.
    ///
    /// - Returns: `nil` when the value is an object, with the scanner at its `{` (the caller reads its fields);
    ///   otherwise the value, which the caller refuses as not an object.
    package mutating func parseDocumentStart() throws(JSONSyntaxError) -> JSONToken? {
        skipWhitespace()
        if isAtEnd { throw error("empty input") }
        if bytes[index] == UInt8(ascii: "{") { return nil }
        let value = try parseValue(depth: 0)
        try finishDocument()
        return value
    }

    /// Checks that only whitespace follows the value.
    package mutating func finishDocument() throws(JSONSyntaxError) {
        skipWhitespace()
        guard isAtEnd else { throw unexpected("after the end of the JSON value") }
    }

    /// Parses one object and appends its members to `fields`, in input order. The scanner must be at `{`.
    ///
    /// When it throws, the members read before the error are in `fields`. With a `limit`, it stops
    /// once `fields` holds that many, in the middle of the object (what follows is not read).
    package mutating func parseObjectFields(into fields: inout JSONFieldList, limit: Int = .max) throws(JSONSyntaxError) {
        guard index < end, bytes[index] == UInt8(ascii: "{") else { throw unexpected("where '{' should start an object") }
        guard maxDepth >= 1 else { throw tooDeep() }
        index += 1
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        var keys = KeySet()
        while true {
            let key = try parseKey(into: &keys)
            // Strings and numbers, the common values, without the general dispatch.
            let value: JSONToken
            if index < end, bytes[index] == UInt8(ascii: "\"") {
                value = .string(try parseString())
            } else if index < end, isDigit(bytes[index]) {
                value = .number(try parseNumber())
            } else {
                value = try parseValue(depth: 1)
            }
            fields.append(
                JSONField(
                    keyStart: key.start, keyEnd: key.end,
                    keyHead: keyHead(bytes.baseAddress! + key.start, count: key.end - key.start),
                    keyHasEscapes: key.hasEscapes, value: value))
            if fields.count >= limit { return }
            skipWhitespace()
            guard index < end else { throw error("the message ends inside an object") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: ",") { continue }
            if byte == UInt8(ascii: "}") { return }
            index -= 1
            throw unexpected("where ',' or '}' should follow an object member")
        }
    }

    /// Parses any value inside `depth` containers, validating nested objects and arrays without decoding them.
    package mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONToken {
        guard index < end else { throw unexpected("where a value should start") }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "{"):
            let start = index
            try skipContainer(depth: depth + 1, open: UInt8(ascii: "{"))
            return .object(start: start, end: index)
        case UInt8(ascii: "["):
            let start = index
            try skipContainer(depth: depth + 1, open: UInt8(ascii: "["))
            return .array(start: start, end: index)
        case UInt8(ascii: "t"):
            try parseLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try parseLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try parseLiteral("null")
            return .null
        default:
            throw unexpected("where a value should start")
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        let start = index
        guard end - index >= count, memoryEqual(bytes.baseAddress! + index, literal.utf8Start, count) else {
            throw error("the literal at byte \(start) is not true, false or null", at: start)
        }
        index += count
    }

    /// Parses `"key" :` and the whitespace around it; with ``rejectsDuplicateKeys``, refuses a key that `keys`
    /// already holds.
    @inline(__always)
    private mutating func parseKey(into keys: inout KeySet) throws(JSONSyntaxError) -> JSONStringToken {
        skipWhitespace()
        guard index < end, bytes[index] == UInt8(ascii: "\"") else { throw unexpected("where an object key (a string) should start") }
        let key = try parseString()
        if rejectsDuplicateKeys { try keys.insert(key, scanner: self) }
        skipWhitespace()
        guard index < end, bytes[index] == UInt8(ascii: ":") else { throw unexpected("where ':' should follow an object key") }
        index += 1
        skipWhitespace()
        return key
    }

    private func tooDeep() -> JSONSyntaxError {
        JSONSyntaxError(offset: index, message: "the message nests arrays and objects more than \(maxDepth) deep", isTooDeep: true)
    }

    /// Skips the array or object at `index`, the `depth`th container from the outside.
    private mutating func skipContainer(depth: Int, open: UInt8) throws(JSONSyntaxError) {
        guard depth <= maxDepth else { throw tooDeep() }
        let isObject = open == UInt8(ascii: "{")
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        index += 1
        skipWhitespace()
        if index < end, bytes[index] == close {
            index += 1
            return
        }
        var keys = KeySet()
        while true {
            if isObject {
                _ = try parseKey(into: &keys)
            } else {
                skipWhitespace()
            }
            _ = try parseValue(depth: depth)
            skipWhitespace()
            guard index < end else { throw error(isObject ? "the message ends inside an object" : "the message ends inside an array") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: ",") { continue }
            if byte == close { return }
            index -= 1
            throw unexpected(isObject ? "where ',' or '}' should follow an object member" : "where ',' or ']' should follow an array element")
        }
    }

    /// Parses a number token, enforcing the JSON grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    @inline(__always)
    package mutating func parseNumber() throws(JSONSyntaxError) -> JSONNumberToken {
        let start = index
        var token = JSONNumberToken(start: start, end: start, isNegative: false, hasFraction: false, hasExponent: false)
        if bytes[index] == UInt8(ascii: "-") {
            token.isNegative = true
            index += 1
        }
        guard index < end, isDigit(bytes[index]) else { throw unexpected("where a digit should follow '-'") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < end, isDigit(bytes[index]) {
                throw unexpected("after a leading zero (a number has none)")
            }
        } else {
            while index < end, isDigit(bytes[index]) { index += 1 }
        }
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < end, isDigit(bytes[index]) else { throw unexpected("where a digit should follow '.'") }
            while index < end, isDigit(bytes[index]) { index += 1 }
            token.hasFraction = true
        }
        if index < end, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < end, isDigit(bytes[index]) else { throw unexpected("where a digit of the exponent should be") }
            while index < end, isDigit(bytes[index]) { index += 1 }
            token.hasExponent = true
        }
        token.end = index
        return token
    }
}

extension JSONScanner {
    /// The key bytes of one object read so far, to find a key that appears twice: compared one by one while the
    /// object is small, through a set once it is large, so thousands of keys stay linear.
    struct KeySet {
        private var keys: [JSONStringToken] = []
        private var large: Set<[UInt8]>?
        private static let scanLimit = 16

        mutating func insert(_ key: JSONStringToken, scanner: JSONScanner) throws(JSONSyntaxError) {
            if large != nil {
                guard large!.insert(scanner.unescapedBytes(key)).inserted else { throw duplicate(key, scanner) }
                return
            }
            for other in keys where scanner.sameKey(other, key) { throw duplicate(key, scanner) }
            keys.append(key)
            if keys.count > Self.scanLimit { large = Set(keys.map { scanner.unescapedBytes($0) }) }
        }

        private func duplicate(_ key: JSONStringToken, _ scanner: JSONScanner) -> JSONSyntaxError {
            let text = String(decoding: scanner.unescapedBytes(key), as: UTF8.self)
            let shown = text.count <= 40 ? text : String(text.prefix(40)) + "..."
            return scanner.error("the key \"\(shown)\" appears twice in one object (byte \(key.start - 1))", at: key.start - 1)
        }
    }

    /// The bytes of a string token (a key or a value), unescaped.
    package func unescapedBytes(_ token: JSONStringToken) -> [UInt8] {
        token.hasEscapes ? unescape(token) : Array(bytes[token.start..<token.end])
    }

    /// A string token (a key or a value) as text, unescaped; made straight from the input when
    /// there is nothing to unescape (no array between).
    package func string(_ token: JSONStringToken) -> String {
        if token.hasEscapes { return String(decoding: unescape(token), as: UTF8.self) }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[token.start..<token.end]), as: UTF8.self)
    }

    private func sameKey(_ a: JSONStringToken, _ b: JSONStringToken) -> Bool {
        if a.hasEscapes || b.hasEscapes { return unescapedBytes(a) == unescapedBytes(b) }
        let length = a.end - a.start
        return length == b.end - b.start && memoryEqual(bytes.baseAddress! + a.start, bytes.baseAddress! + b.start, length)
    }
}
