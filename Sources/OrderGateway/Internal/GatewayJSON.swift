/// The few JSON objects the gateway writes itself (replies, errors): compact, escaped by hand,
/// no Foundation.
struct GatewayJSONWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init() {
        bytes.reserveCapacity(256)
        bytes.append(UInt8(ascii: "{"))
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        Self.appendString(value, to: &bytes)
    }

    mutating func field(_ name: StaticString, _ value: Int64?) {
        guard let value else { return }
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// `"name":[{"field":..,"reason":..},...]`
    mutating func errors(_ name: StaticString, _ errors: [(field: String, reason: String)]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, error) in errors.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: #"{"field":"#.utf8)
            Self.appendString(error.field, to: &bytes)
            bytes.append(contentsOf: #","reason":"#.utf8)
            Self.appendString(error.reason, to: &bytes)
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func key(_ name: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: "\":".utf8)
    }

    /// The finished object as text.
    consuming func finish() -> String {
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `value` as a JSON string literal.
    static func appendString(_ value: String, to bytes: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `value` as a JSON string literal.
    static func quoted(_ value: String) -> [UInt8] {
        var bytes: [UInt8] = []
        appendString(value, to: &bytes)
        return bytes
    }
}

/// Reads top-level fields of a JSON object that may be invalid, as far as it can, to echo what a
/// rejected order was (its `clientOrderId`, `symbol`, ...). Strings are unescaped; other scalars
/// are returned as their raw text. Stops quietly at the first syntax error.
enum JSONFieldPeek {
    static func topLevelFields(_ bytes: UnsafeRawBufferPointer, wanted: Set<String>) -> [String: String] {
        var result: [String: String] = [:]
        var index = 0
        let count = bytes.count

        func skipWhitespace() {
            while index < count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
        }
        /// Reads a string starting at the opening quote; `nil` when malformed.
        func readString() -> String? {
            guard index < count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() {
                if !raw.isEmpty {
                    scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
                    raw.removeAll(keepingCapacity: true)
                }
            }
            func hex4() -> UInt32? {
                guard index + 4 <= count else { return nil }
                var value: UInt32 = 0
                for offset in 0..<4 {
                    let byte = bytes[index + offset]
                    let digit: UInt32
                    switch byte {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                    case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                    default: return nil
                    }
                    value = value << 4 | digit
                }
                index += 4
                return value
            }
            while index < count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    flush()
                    return String(scalars)
                }
                if byte < 0x20 { return nil }
                if byte != UInt8(ascii: "\\") {
                    raw.append(byte)
                    index += 1
                    continue
                }
                flush()
                index += 1
                guard index < count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    guard var code = hex4() else { return nil }
                    if (0xD800...0xDBFF).contains(code) {
                        guard index + 2 <= count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
                        index += 2
                        guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { return nil }
                    scalars.append(scalar)
                default: return nil
                }
            }
            return nil
        }
        /// Skips any value; returns the raw text of a scalar that is not a string.
        func skipValue() -> (ok: Bool, raw: String?) {
            guard index < count else { return (false, nil) }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return (readString() != nil, nil)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < count {
                    switch bytes[index] {
                    case UInt8(ascii: "\""):
                        guard readString() != nil else { return (false, nil) }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return (true, nil)
                        }
                    default: break
                    }
                    index += 1
                }
                return (false, nil)
            default:
                let start = index
                while index < count {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte <= 0x20 { break }
                    index += 1
                }
                guard index > start else { return (false, nil) }
                return (true, String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
            }
        }

        skipWhitespace()
        guard index < count, bytes[index] == UInt8(ascii: "{") else { return result }
        index += 1
        while true {
            skipWhitespace()
            guard index < count, bytes[index] != UInt8(ascii: "}") else { return result }
            guard let key = readString() else { return result }
            skipWhitespace()
            guard index < count, bytes[index] == UInt8(ascii: ":") else { return result }
            index += 1
            skipWhitespace()
            if wanted.contains(key), index < count, bytes[index] == UInt8(ascii: "\"") {
                guard let value = readString() else { return result }
                if result[key] == nil { result[key] = value }
            } else {
                let (ok, raw) = skipValue()
                guard ok else { return result }
                if wanted.contains(key), let raw, result[key] == nil { result[key] = raw }
            }
            skipWhitespace()
            guard index < count, bytes[index] == UInt8(ascii: ",") else { return result }
            index += 1
        }
    }
}
