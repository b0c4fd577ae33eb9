extension JSONScanner {
    /// Parses a string token (the scanner is at its opening quote), validating escapes and UTF-8.
    @inline(__always)
    package mutating func parseString() throws(JSONSyntaxError) -> JSONStringToken {
        index += 1
        let start = index
        var hasEscapes = false
        while true {
            // Eight plain bytes at a time: no quote, backslash, control character or non-ASCII byte.
            while end - index >= 8 {
                let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                let ones: UInt64 = 0x0101_0101_0101_0101
                let high: UInt64 = 0x8080_8080_8080_8080
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5C)
                let special =
                    ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word) | word
                if special & high != 0 { break }
                index += 8
            }
            guard index < end else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let token = JSONStringToken(start: start, end: index, hasEscapes: hasEscapes)
                index += 1
                return token
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                try skipEscape()
            } else if byte < 0x20 {
                throw error("a control character (byte \(byte)) at byte \(index) must be escaped in a string")
            } else if byte < 0x80 {
                index += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw error("the string that starts at byte \(start - 1) is not terminated", at: start - 1)
    }

    private mutating func skipEscape() throws(JSONSyntaxError) {
        let escapeStart = index
        index += 1
        guard index < end else { throw error("the message ends inside an escape", at: escapeStart) }
        switch bytes[index] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 1
        case UInt8(ascii: "u"):
            index += 1
            let unit = try readHex4(escapeStart: escapeStart)
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard end - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw error("the escape at byte \(escapeStart) is a lone high surrogate", at: escapeStart)
                }
                index += 2
                let low = try readHex4(escapeStart: escapeStart)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw error("the escape at byte \(escapeStart) is a high surrogate without a low one", at: escapeStart)
                }
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw error("the escape at byte \(escapeStart) is a lone low surrogate", at: escapeStart)
            }
        default:
            throw error("'\\\(Self.printable(bytes[index]))' at byte \(escapeStart) is not a JSON escape", at: escapeStart)
        }
    }

    private mutating func readHex4(escapeStart: Int) throws(JSONSyntaxError) -> UInt32 {
        guard end - index >= 4 else { throw error("the message ends inside a \\u escape", at: escapeStart) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = hexValue(bytes[index]) else {
                throw error("'\(Self.printable(bytes[index]))' at byte \(index) is not a hex digit")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// Skips one multi-byte UTF-8 sequence, rejecting overlong forms, surrogates and values past U+10FFFF.
    private mutating func skipUTF8Sequence() throws(JSONSyntaxError) {
        let lead = bytes[index]
        let count: Int
        var lowerBound: UInt8 = 0x80
        var upperBound: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: count = 2
        case 0xE0: count = 3; lowerBound = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED: count = 3; upperBound = 0x9F
        case 0xF0: count = 4; lowerBound = 0x90
        case 0xF1...0xF3: count = 4
        case 0xF4: count = 4; upperBound = 0x8F
        default: throw error("invalid UTF-8 at byte \(index) in a string")
        }
        guard end - index >= count else { throw error("invalid UTF-8 at byte \(index) in a string") }
        let second = bytes[index + 1]
        guard second >= lowerBound && second <= upperBound else { throw error("invalid UTF-8 at byte \(index) in a string") }
        for offset in 2..<max(count, 2) where bytes[index + offset] & 0xC0 != 0x80 {
            throw error("invalid UTF-8 at byte \(index) in a string")
        }
        index += count
    }

    /// The unescaped bytes of a string token that has escapes.
    package func unescape(_ token: JSONStringToken) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(token.end - token.start)
        var position = token.start
        while position < token.end {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                position += 1
                continue
            }
            let kind = bytes[position + 1]
            position += 2
            switch kind {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(at: position)
                position += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    let low = hex4(at: position + 2)
                    position += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                appendUTF8(scalar, to: &output)
            default: output.append(kind)  // '"', '\\' and '/'
            }
        }
        return output
    }

    private func hex4(at position: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | (hexValue(bytes[position + offset]) ?? 0) }
        return value
    }
}

@inlinable @inline(__always)
package func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

@inlinable @inline(__always)
package func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
    default: nil
    }
}

package func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
    switch scalar {
    case 0..<0x80:
        output.append(UInt8(scalar))
    case 0x80..<0x800:
        output.append(UInt8(0xC0 | scalar >> 6))
        output.append(UInt8(0x80 | scalar & 0x3F))
    case 0x800..<0x10000:
        output.append(UInt8(0xE0 | scalar >> 12))
        output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
        output.append(UInt8(0x80 | scalar & 0x3F))
    default:
        output.append(UInt8(0xF0 | scalar >> 18))
        output.append(UInt8(0x80 | scalar >> 12 & 0x3F))
        output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
        output.append(UInt8(0x80 | scalar & 0x3F))
    }
}
