extension JSONParser {
    /// Parses a string at `index` (which is at its opening quote): escapes decoded, surrogate pairs joined,
    /// raw control characters refused, the result checked to be valid UTF-8.
    mutating func parseString() throws(ExchangeProtocolError) -> String {
        let start = index
        index += 1  // opening quote
        // Fast path: no escapes.
        var scan = index
        var isASCII = true
        while scan < bytes.count {
            let byte = bytes[scan]
            if byte == UInt8(ascii: "\"") {
                let text: String
                if isASCII {
                    // ASCII is valid UTF-8; skip the validating initializer, which is slower.
                    text = String(decoding: bytes[index..<scan], as: UTF8.self)
                } else {
                    guard let validated = String(validating: bytes[index..<scan], as: UTF8.self) else {
                        throw Self.notJSON("the string at byte \(start) is not valid UTF-8")
                    }
                    text = validated
                }
                index = scan + 1
                return text
            }
            if byte >= 0x80 { isASCII = false }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 {
                throw Self.notJSON("a control character (byte \(byte)) at byte \(scan) must be escaped in a string")
            }
            scan += 1
        }
        // Slow path: decode escapes into a buffer.
        var buffer = Array(bytes[index..<scan])
        index = scan
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    throw Self.notJSON("the string at byte \(start) is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &buffer)
            case 0..<0x20:
                throw Self.notJSON("a control character (byte \(byte)) at byte \(index) must be escaped in a string")
            default:
                buffer.append(byte)
                index += 1
            }
        }
        throw Self.notJSON("the string that starts at byte \(start) is not terminated")
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(ExchangeProtocolError) {
        let escapeOffset = index
        index += 1  // backslash
        guard index < bytes.count else { throw Self.notJSON("the message ends inside an escape") }
        let letter = bytes[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            let first = try parseHex4()
            var scalarValue = UInt32(first)
            if (0xD800...0xDBFF).contains(first) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { throw Self.notJSON("the escape at byte \(escapeOffset) is a lone high surrogate") }
                index += 2
                let second = try parseHex4()
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw Self.notJSON("the escape at byte \(escapeOffset) is a high surrogate without a low one")
                }
                scalarValue = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(first) {
                throw Self.notJSON("the escape at byte \(escapeOffset) is a lone low surrogate")
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw Self.notJSON("the escape at byte \(escapeOffset) is not a Unicode scalar")
            }
            buffer.append(contentsOf: scalar.utf8)
        default:
            throw Self.notJSON("'\\\(Self.printable(letter))' at byte \(escapeOffset) is not a JSON escape")
        }
    }

    private mutating func parseHex4() throws(ExchangeProtocolError) -> UInt16 {
        guard index + 4 <= bytes.count else { throw Self.notJSON("the message ends inside a \\u escape") }
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = bytes[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Self.notJSON("'\(Self.printable(byte))' at byte \(index + offset) is not a hex digit")
            }
            value = value << 4 | UInt16(digit)
        }
        index += 4
        return value
    }
}
