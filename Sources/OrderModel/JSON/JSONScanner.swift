/// A strict, single-pass UTF-8 JSON scanner (RFC 8259) over a borrowed buffer.
///
/// It validates everything it passes over: string escapes, UTF-8, control characters, number grammar, literal
/// spelling and nesting (at most ``maxDepth`` levels). It never allocates, except for the fields of the one
/// object that ``parseObjectFields()`` collects.
struct JSONScanner {
    /// The deepest nesting of objects and arrays accepted.
    static let maxDepth = 64

    let bytes: UnsafeRawBufferPointer
    var index: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.index = start
        self.end = end ?? bytes.count
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    var isAtEnd: Bool { index >= end }

    func error(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset ?? index, message: message)
    }

    func unexpected(_ expectation: String) -> JSONSyntaxError {
        if index >= end { return error("unexpected end of input; expected \(expectation)") }
        let byte = bytes[index]
        let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        return error("unexpected \(shown) at offset \(index); expected \(expectation)")
    }

    /// Parses one object and appends its members to `fields`, in input order. The scanner must be at `{`.
    mutating func parseObjectFields(into fields: inout JSONFieldList) throws(JSONSyntaxError) {
        guard index < end, bytes[index] == UInt8(ascii: "{") else { throw unexpected("'{'") }
        index += 1
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard index < end, bytes[index] == UInt8(ascii: "\"") else { throw unexpected("a field name in quotes") }
            let key = try parseString()
            skipWhitespace()
            guard index < end, bytes[index] == UInt8(ascii: ":") else { throw unexpected("':'") }
            index += 1
            skipWhitespace()
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
            skipWhitespace()
            guard index < end else { throw unexpected("',' or '}'") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: ",") { continue }
            if byte == UInt8(ascii: "}") { return }
            index -= 1
            throw unexpected("',' or '}'")
        }
    }

    /// Parses any value, validating nested objects and arrays without decoding them.
    mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONToken {
        guard index < end else { throw unexpected("a value") }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "{"):
            let start = index
            try skipContainer(depth: depth, open: UInt8(ascii: "{"))
            return .object(start: start, end: index)
        case UInt8(ascii: "["):
            let start = index
            try skipContainer(depth: depth, open: UInt8(ascii: "["))
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
            throw unexpected("a value")
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        let start = index
        guard end - index >= count else { throw error("invalid literal at offset \(start)", at: start) }
        let pointer = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != pointer[offset] {
            throw error("invalid literal at offset \(start)", at: start)
        }
        index += count
    }

    private mutating func skipContainer(depth: Int, open: UInt8) throws(JSONSyntaxError) {
        guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
        let isObject = open == UInt8(ascii: "{")
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        index += 1
        skipWhitespace()
        if index < end, bytes[index] == close {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            if isObject {
                guard index < end, bytes[index] == UInt8(ascii: "\"") else { throw unexpected("a field name in quotes") }
                _ = try parseString()
                skipWhitespace()
                guard index < end, bytes[index] == UInt8(ascii: ":") else { throw unexpected("':'") }
                index += 1
                skipWhitespace()
            }
            _ = try parseValue(depth: depth + 1)
            skipWhitespace()
            guard index < end else { throw unexpected(isObject ? "',' or '}'" : "',' or ']'") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: ",") { continue }
            if byte == close { return }
            index -= 1
            throw unexpected(isObject ? "',' or '}'" : "',' or ']'")
        }
    }

    /// Parses a number token, enforcing the JSON grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    @inline(__always)
    mutating func parseNumber() throws(JSONSyntaxError) -> JSONNumberToken {
        let start = index
        var token = JSONNumberToken(start: start, end: start, isNegative: false, hasFraction: false, hasExponent: false)
        if bytes[index] == UInt8(ascii: "-") {
            token.isNegative = true
            index += 1
        }
        guard index < end, isDigit(bytes[index]) else { throw error("invalid number at offset \(start)", at: start) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < end, isDigit(bytes[index]) {
                throw error("a number at offset \(start) has a leading zero", at: start)
            }
        } else {
            while index < end, isDigit(bytes[index]) { index += 1 }
        }
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < end, isDigit(bytes[index]) else { throw error("invalid number at offset \(start)", at: start) }
            while index < end, isDigit(bytes[index]) { index += 1 }
            token.hasFraction = true
        }
        if index < end, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < end, isDigit(bytes[index]) else { throw error("invalid number at offset \(start)", at: start) }
            while index < end, isDigit(bytes[index]) { index += 1 }
            token.hasExponent = true
        }
        token.end = index
        return token
    }
}
