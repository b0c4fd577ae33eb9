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
        String(unsafeUninitializedCapacity: 55) { buffer in
            writeTraceparent(into: buffer)
            return 55
        }
    }

    /// The 55 bytes of `traceparent`, as a header value.
    public var traceparentBytes: [UInt8] {
        // Written on the stack and copied into an array made from a buffer pointer: that
        // initializer is specialized for `UInt8`, while `init(unsafeUninitializedCapacity:)`
        // looks the array storage's metadata up in the runtime's hash table every time.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 55) { buffer in
            writeTraceparent(into: buffer)
            return Array(UnsafeBufferPointer(buffer))
        }
    }

    @inline(__always)
    private func writeTraceparent(into buffer: UnsafeMutableBufferPointer<UInt8>) {
        let bytes = buffer.baseAddress!
        bytes[0] = UInt8(ascii: "0")
        bytes[1] = UInt8(ascii: "0")
        bytes[2] = UInt8(ascii: "-")
        Hex.write(traceID.high, to: bytes + 3)
        Hex.write(traceID.low, to: bytes + 19)
        bytes[35] = UInt8(ascii: "-")
        Hex.write(spanID, to: bytes + 36)
        bytes[52] = UInt8(ascii: "-")
        bytes[53] = Hex.digit(traceFlags >> 4)
        bytes[54] = Hex.digit(traceFlags & 0xF)
    }

    /// Parses a `traceparent` by the W3C rules: version `00` is exactly 55 characters; a
    /// higher version may be longer if a `-` follows; `ff` is invalid; hex is lower case; ids
    /// are not all zero. Returns nil when it is not valid. An invalid `traceState` is dropped, a
    /// valid one capped (``TraceState/sanitized(_:)``).
    public init?(traceparent: String, traceState: String = "") {
        guard case .valid(var parsed) = Self.parse(traceparent: traceparent) else { return nil }
        parsed.traceState = traceState.isEmpty ? "" : TraceState.sanitized(traceState) ?? ""
        self = parsed
    }

    /// The outcome of parsing a `traceparent` value: its context, or what is wrong with it.
    public enum Parsed: Sendable, Hashable {
        case valid(SpanContext)
        case invalid(String)
    }

    /// Parses a `traceparent` header value (surrounding spaces and tabs allowed) and, when it is
    /// not valid, says why. The context is marked remote.
    public static func parse(traceparent value: UnsafeBufferPointer<UInt8>) -> Parsed {
        var lower = 0
        var upper = value.count
        while upper > lower, value[upper - 1] == 0x20 || value[upper - 1] == 0x09 { upper -= 1 }
        while lower < upper, value[lower] == 0x20 || value[lower] == 0x09 { lower += 1 }
        let count = upper - lower
        guard count >= 55 else { return .invalid("too short (\(count) characters, 55 expected)") }
        let utf8 = UnsafeBufferPointer(rebasing: value[lower..<upper])
        guard utf8[2] == 0x2D, utf8[35] == 0x2D, utf8[52] == 0x2D else {
            return .invalid("fields are not separated by '-' at 2, 35 and 52")
        }
        guard let version = Hex.byte(utf8, 0) else { return .invalid("version is not lower-case hex") }
        if version == 0xFF { return .invalid("version ff is invalid") }
        if version == 0 && count != 55 { return .invalid("version 00 must be 55 characters, not \(count)") }
        if version != 0 && count > 55 && utf8[55] != 0x2D { return .invalid("a later version's extra fields must follow a '-'") }
        guard let high = Hex.uint64(utf8, 3), let low = Hex.uint64(utf8, 19) else {
            return .invalid("trace-id is not 32 lower-case hex digits")
        }
        guard let span = Hex.uint64(utf8, 36) else { return .invalid("parent-id is not 16 lower-case hex digits") }
        guard let flags = Hex.byte(utf8, 53) else { return .invalid("trace-flags are not lower-case hex") }
        if high == 0 && low == 0 { return .invalid("trace-id is all zeros") }
        if span == 0 { return .invalid("parent-id is all zeros") }
        return .valid(SpanContext(traceID: TraceID(high: high, low: low), spanID: span, traceFlags: flags, isRemote: true))
    }

    /// `parse(traceparent:)` over the bytes of a header value.
    public static func parse(traceparent bytes: [UInt8]) -> Parsed {
        bytes.withUnsafeBufferPointer { parse(traceparent: $0) }
    }

    /// `parse(traceparent:)` over a string.
    public static func parse(traceparent text: String) -> Parsed {
        var text = text
        return text.withUTF8 { parse(traceparent: $0) }
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
package enum Hex {
    @inline(__always)
    package static func digit(_ nibble: UInt8) -> UInt8 {
        nibble &+ (nibble < 10 ? UInt8(ascii: "0") : UInt8(ascii: "a") &- 10)
    }

    @inline(__always)
    package static func write(_ value: UInt64, to bytes: UnsafeMutablePointer<UInt8>) {
        var value = value
        var index = 15
        while index >= 0 {
            bytes[index] = digit(UInt8(truncatingIfNeeded: value) & 0xF)
            value >>= 4
            index -= 1
        }
    }

    package static func string(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            write(value, to: buffer.baseAddress!)
            return 16
        }
    }

    @inline(__always)
    package static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    @inline(__always)
    package static func byte(_ utf8: UnsafeBufferPointer<UInt8>, _ offset: Int) -> UInt8? {
        guard let high = nibble(utf8[offset]), let low = nibble(utf8[offset + 1]) else { return nil }
        return high << 4 | low
    }

    @inline(__always)
    package static func uint64(_ utf8: UnsafeBufferPointer<UInt8>, _ offset: Int) -> UInt64? {
        var value: UInt64 = 0
        for index in offset..<(offset + 16) {
            guard let digit = nibble(utf8[index]) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}
