/// Writes one flat JSON object, member by member, into UTF-8 bytes.
///
/// Keys are written as given (the protocol's keys need no escaping); string values are escaped as RFC 8259
/// requires (`"`, `\` and control characters), everything else is copied as UTF-8.
struct JSONObjectWriter {
    private(set) var bytes: [UInt8]
    private var isFirst = true

    /// Starts an object with its `type` member.
    init(type: String) {
        bytes = []
        bytes.reserveCapacity(192)
        bytes.append(UInt8(ascii: "{"))
        string("type", type)
    }

    /// Closes the object and returns its bytes.
    consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    mutating func string(_ key: StaticString, _ value: String) {
        writeKey(key)
        Self.appendQuoted(value, to: &bytes)
    }

    mutating func integer(_ key: StaticString, _ value: Int64) {
        writeKey(key)
        DecimalText.append(integer: value, to: &bytes)
    }

    /// A price as a JSON number with at most four decimals.
    mutating func price(_ key: StaticString, _ value: ExchangePrice) {
        writeKey(key)
        DecimalText.append(ticks: value.ticks, to: &bytes)
    }

    private mutating func writeKey(_ key: StaticString) {
        if isFirst {
            isFirst = false
        } else {
            bytes.append(UInt8(ascii: ","))
        }
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    static func appendQuoted(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "\\"))
            case 0x0A:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "n"))
            case 0x0D:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "r"))
            case 0x09:
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hexDigits: StaticString = "0123456789abcdef"
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                hexDigits.withUTF8Buffer { hex in
                    bytes.append(hex[Int(byte >> 4)])
                    bytes.append(hex[Int(byte & 0x0F)])
                }
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONObjectWriter {
    /// `orderType`, and `limitPrice` for a limit order.
    mutating func orderType(_ orderType: ExchangeOrderType) {
        string("orderType", orderType.name)
        if case .limit(let price) = orderType { self.price("limitPrice", price) }
    }
}
