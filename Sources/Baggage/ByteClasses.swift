// Byte classes of the W3C Baggage grammar, as 128-bit masks over US-ASCII.
//
// Each mask is split in two `UInt64`s: bit `b` of `low` is set when byte `b` (0...63) is in the class,
// bit `b - 64` of `high` when byte `b` (64...127) is. Bytes of 128 and above are never in a class.
// The test `byteClassesMatchTheGrammar` checks every mask against the ABNF definition.

/// A set of US-ASCII bytes.
struct ByteClass: Sendable {
    let low: UInt64
    let high: UInt64

    init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// Whether `byte` belongs to the class.
    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        // Branch-free: pick the half, shift the byte's bit down, and rule out bytes of 128 and above.
        let word = byte < 64 ? low : high
        return (word &>> UInt64(byte & 63)) & 1 == 1 && byte < 128
    }

    /// RFC 7230 `tchar`: `"!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
    /// / DIGIT / ALPHA`. A baggage `key` is `1*tchar`.
    static let tchar = ByteClass(low: 0x03ff_6cfa_0000_0000, high: 0x57ff_ffff_c7ff_fffe)

    /// W3C Baggage `baggage-octet`: `%x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E` (printable US-ASCII except
    /// DQUOTE, comma, semicolon and backslash).
    static let baggageOctet = ByteClass(low: 0xf7ff_effa_0000_0000, high: 0x7fff_ffff_efff_ffff)

    /// The bytes a value may carry unencoded: `baggage-octet` without `%`, which stands for itself only
    /// as `%25`.
    static let valueSafe = ByteClass(low: 0xf7ff_efda_0000_0000, high: 0x7fff_ffff_efff_ffff)

    /// Hexadecimal digits, either case.
    static let hexDigit = ByteClass(low: 0x03ff_0000_0000_0000, high: 0x0000_007e_0000_007e)
}

enum ASCII {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let comma: UInt8 = 0x2C
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let percent: UInt8 = 0x25

    /// `OWS = *( SP / HTAB )`.
    @inline(__always)
    static func isOWS(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    /// The value of a hexadecimal digit already known to be one (`ByteClass.hexDigit`).
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 0x30...0x39: byte &- 0x30
        case 0x41...0x46: byte &- 0x41 &+ 10
        default: byte &- 0x61 &+ 10
        }
    }

    /// The upper-case hexadecimal digit for a nibble (0...15).
    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 &+ nibble : 0x41 &+ nibble &- 10
    }
}
