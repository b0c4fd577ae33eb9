/// A strict RFC 8259 parser over UTF-8 bytes, without Foundation.
///
/// It never traps on input: every malformed byte sequence ends in an ``ExchangeProtocolError`` that says what
/// and where. Nesting is limited to ``maxDepth`` (so deep input cannot exhaust the stack); an object with the
/// same key twice is refused (the meaning would be ambiguous); strings must be valid UTF-8 and escapes must
/// form valid scalars.
struct JSONParser {
    static let maxDepth = 32

    let bytes: [UInt8]
    var index = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses exactly one JSON value, with optional whitespace around it.
    static func parse(_ bytes: [UInt8]) throws(ExchangeProtocolError) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        if parser.index == bytes.count {
            throw notJSON("the message is empty")
        }
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.index != bytes.count {
            throw parser.unexpected("after the end of the JSON value")
        }
        return value
    }

    private mutating func parseValue(depth: Int) throws(ExchangeProtocolError) -> JSONValue {
        guard index < bytes.count else { throw Self.notJSON("the message ends where a value should start") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        default:
            throw unexpected("where a value should start")
        }
    }

    private mutating func parseObject(depth: Int) throws(ExchangeProtocolError) -> JSONValue {
        try checkDepth(depth)
        index += 1  // {
        var fields = JSONObject()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(fields)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw unexpectedOrEnd("where an object key (a string) should start")
            }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw unexpectedOrEnd("where ':' should follow an object key")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            if !fields.insert(key, value) {
                throw Self.notJSON("the key \"\(Self.excerpt(key))\" appears twice in one object (byte \(keyOffset))")
            }
            skipWhitespace()
            guard index < bytes.count else { throw Self.notJSON("the message ends inside an object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(fields)
            }
            throw unexpected("where ',' or '}' should follow an object member")
        }
    }

    private mutating func parseArray(depth: Int) throws(ExchangeProtocolError) -> JSONValue {
        try checkDepth(depth)
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw Self.notJSON("the message ends inside an array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            throw unexpected("where ',' or ']' should follow an array element")
        }
    }

    /// Scans a number by JSON's grammar and returns its text.
    private mutating func parseNumber() throws(ExchangeProtocolError) -> ArraySlice<UInt8> {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, DecimalText.isDigit(bytes[index]) else {
            throw unexpectedOrEnd("where a digit should follow '-'")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, DecimalText.isDigit(bytes[index]) else {
                throw unexpectedOrEnd("where a digit should follow '.'")
            }
            skipDigits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard index < bytes.count, DecimalText.isDigit(bytes[index]) else {
                throw unexpectedOrEnd("where a digit of the exponent should be")
            }
            skipDigits()
        }
        return bytes[start..<index]
    }

    private mutating func skipDigits() {
        while index < bytes.count, DecimalText.isDigit(bytes[index]) { index += 1 }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(ExchangeProtocolError) {
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected in
            index + count <= bytes.count && bytes[index..<index + count].elementsEqual(expected)
        }
        guard matches else { throw unexpected("where a value should start") }
        index += count
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func checkDepth(_ depth: Int) throws(ExchangeProtocolError) {
        if depth > Self.maxDepth {
            throw ExchangeProtocolError(
                code: .tooLarge,
                message: "the message nests arrays and objects more than \(Self.maxDepth) deep"
            )
        }
    }

    private func unexpected(_ context: String) -> ExchangeProtocolError {
        Self.notJSON("unexpected '\(Self.printable(bytes[index]))' at byte \(index) \(context)")
    }

    private func unexpectedOrEnd(_ context: String) -> ExchangeProtocolError {
        index < bytes.count ? unexpected(context) : Self.notJSON("the message ends \(context)")
    }

    static func notJSON(_ detail: String) -> ExchangeProtocolError {
        ExchangeProtocolError(code: .notJSON, message: "not JSON: \(detail)")
    }

    /// A byte as a readable character, or its hex value.
    static func printable(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return String(UnicodeScalar(byte)) }
        let hex = String(byte, radix: 16, uppercase: true)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }

    /// At most 40 characters of `text`, for messages.
    static func excerpt(_ text: String) -> String {
        text.count <= 40 ? text : String(text.prefix(40)) + "..."
    }
}
