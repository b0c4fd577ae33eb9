import OTLPWire
import ServiceContextModule

/// The identity of a span as W3C Trace Context carries it.
public struct SpanContext: Hashable, Sendable {
    public var traceID: TraceID
    public var spanID: UInt64
    /// W3C trace flags; bit 0 is `sampled`.
    public var traceFlags: UInt8
    public var traceState: String
    /// Whether it came from another process (extracted), rather than from a span of this one.
    public var isRemote: Bool

    public init(traceID: TraceID, spanID: UInt64, traceFlags: UInt8, traceState: String = "", isRemote: Bool = false) {
        self.traceID = traceID
        self.spanID = spanID
        self.traceFlags = traceFlags
        self.traceState = traceState
        self.isRemote = isRemote
    }

    public var isSampled: Bool { traceFlags & 1 == 1 }

    /// `00-<trace id>-<span id>-<flags>`.
    public var traceparent: String {
        var bytes = [UInt8](repeating: UInt8(ascii: "-"), count: 55)
        bytes[0] = UInt8(ascii: "0")
        bytes[1] = UInt8(ascii: "0")
        Hex.write(traceID.high, into: &bytes, at: 3)
        Hex.write(traceID.low, into: &bytes, at: 19)
        Hex.write(spanID, into: &bytes, at: 36)
        bytes[53] = Hex.digits[Int(traceFlags >> 4)]
        bytes[54] = Hex.digits[Int(traceFlags & 0xF)]
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses a `traceparent` by the W3C rules: version `00` is exactly 55 characters; a
    /// higher version may be longer if a `-` follows; `ff` is invalid; hex is lower case; ids
    /// are not all zero. Returns nil when it is not valid.
    public init?(traceparent: String, traceState: String = "") {
        var text = traceparent
        let parsed: SpanContext? = text.withUTF8 { utf8 in
            guard utf8.count >= 55 else { return nil }
            guard let version = Hex.byte(utf8, 0), version != 0xFF else { return nil }
            if version == 0 && utf8.count != 55 { return nil }
            if utf8.count > 55 && utf8[55] != UInt8(ascii: "-") { return nil }
            guard utf8[2] == UInt8(ascii: "-"), utf8[35] == UInt8(ascii: "-"), utf8[52] == UInt8(ascii: "-"),
                let high = Hex.uint64(utf8, 3), let low = Hex.uint64(utf8, 19), let span = Hex.uint64(utf8, 36),
                let flags = Hex.byte(utf8, 53), high != 0 || low != 0, span != 0
            else { return nil }
            return SpanContext(traceID: TraceID(high: high, low: low), spanID: span, traceFlags: flags, isRemote: true)
        }
        guard var parsed else { return nil }
        parsed.traceState = traceState
        self = parsed
    }
}

enum SpanContextKey: ServiceContextKey {
    typealias Value = SpanContext
    static let nameOverride: String? = "ordertrace-span-context"
}

extension ServiceContext {
    /// The span context the lean tracer keeps in a context: the current span's, or an extracted one.
    public var spanContext: SpanContext? {
        get { self[SpanContextKey.self] }
        set { self[SpanContextKey.self] = newValue }
    }
}

/// Lower-case hex without allocations.
enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    static func write(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        var value = value
        for index in stride(from: offset + 15, through: offset, by: -1) {
            bytes[index] = digits[Int(value & 0xF)]
            value >>= 4
        }
    }

    static func string(_ value: UInt64) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        write(value, into: &bytes, at: 0)
        return String(decoding: bytes, as: UTF8.self)
    }

    @inline(__always)
    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    static func byte(_ utf8: UnsafeBufferPointer<UInt8>, _ offset: Int) -> UInt8? {
        guard let high = nibble(utf8[offset]), let low = nibble(utf8[offset + 1]) else { return nil }
        return high << 4 | low
    }

    static func uint64(_ utf8: UnsafeBufferPointer<UInt8>, _ offset: Int) -> UInt64? {
        var value: UInt64 = 0
        for index in offset..<(offset + 16) {
            guard let digit = nibble(utf8[index]) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}
