/// OTLP's `AnyValue` as the decoders read it, before it becomes an ``AttributeValue``: all of
/// `AnyValue`'s members, nested arrays and key-value lists included. Both decoders (protobuf
/// and JSON) build these and convert them the same way, so they map every value alike.
enum DecodedAnyValue {
    /// An `AnyValue` with no member set.
    case empty
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case array([DecodedAnyValue])
    case keyValueList([DecodedKeyValue])

    /// The value as an ``AttributeValue``. Scalars map to scalars, arrays whose elements all
    /// have the same scalar type to typed arrays (an empty array to `.stringArray([])`); what
    /// ``AttributeValue`` cannot hold is rendered as a string, as the OpenTelemetry Collector's
    /// `pcommon.Value.AsString` does: bytes as base64, key-value lists and other arrays as
    /// compact JSON; an empty `AnyValue` is `""`.
    var attributeValue: AttributeValue {
        switch self {
        case .empty: return .string("")
        case .string(let string): return .string(string)
        case .bool(let bool): return .bool(bool)
        case .int(let int): return .int(int)
        case .double(let double): return .double(double)
        case .bytes(let bytes): return .string(Base64.encode(bytes))
        case .array(let elements): return Self.array(elements)
        case .keyValueList: return .string(rendered)
        }
    }

    private static func array(_ elements: [DecodedAnyValue]) -> AttributeValue {
        guard let first = elements.first else { return .stringArray([]) }
        switch first {
        case .string:
            var strings: [String] = []
            strings.reserveCapacity(elements.count)
            for element in elements {
                guard case .string(let string) = element else { return .string(DecodedAnyValue.array(elements).rendered) }
                strings.append(string)
            }
            return .stringArray(strings)
        case .bool:
            var bools: [Bool] = []
            bools.reserveCapacity(elements.count)
            for element in elements {
                guard case .bool(let bool) = element else { return .string(DecodedAnyValue.array(elements).rendered) }
                bools.append(bool)
            }
            return .boolArray(bools)
        case .int:
            var ints: [Int64] = []
            ints.reserveCapacity(elements.count)
            for element in elements {
                guard case .int(let int) = element else { return .string(DecodedAnyValue.array(elements).rendered) }
                ints.append(int)
            }
            return .intArray(ints)
        case .double:
            var doubles: [Double] = []
            doubles.reserveCapacity(elements.count)
            for element in elements {
                guard case .double(let double) = element else { return .string(DecodedAnyValue.array(elements).rendered) }
                doubles.append(double)
            }
            return .doubleArray(doubles)
        case .empty, .bytes, .array, .keyValueList:
            return .string(DecodedAnyValue.array(elements).rendered)
        }
    }

    /// The value as compact JSON: key-value lists as objects (keys in their order, repeated
    /// keys kept), arrays as arrays, bytes as base64 strings, an empty value as `null`, ints
    /// as numbers, non-finite doubles as `"NaN"`, `"Infinity"`, `"-Infinity"`.
    var rendered: String {
        var writer = JSONWriter(capacity: 64)
        render(into: &writer)
        return String(decoding: writer.finish(), as: UTF8.self)
    }

    private func render(into writer: inout JSONWriter) {
        switch self {
        case .empty: writer.raw("null")
        case .string(let string): writer.string(string)
        case .bool(let bool): if bool { writer.raw("true") } else { writer.raw("false") }
        case .int(let int): writer.decimal(int)
        case .double(let double): writer.double(double)
        case .bytes(let bytes): writer.string(Base64.encode(bytes))
        case .array(let elements):
            writer.byte(UInt8(ascii: "["))
            for index in elements.indices {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                elements[index].render(into: &writer)
            }
            writer.byte(UInt8(ascii: "]"))
        case .keyValueList(let members):
            writer.byte(UInt8(ascii: "{"))
            for index in members.indices {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.string(members[index].key)
                writer.byte(UInt8(ascii: ":"))
                members[index].value.render(into: &writer)
            }
            writer.byte(UInt8(ascii: "}"))
        }
    }
}

/// A member of a decoded `KeyValueList`.
struct DecodedKeyValue {
    var key: String
    var value: DecodedAnyValue
}

/// Base64 (RFC 4648): standard alphabet with padding out; either alphabet, padding optional,
/// in.
enum Base64 {
    private static let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    static func encode(_ bytes: [UInt8]) -> String {
        let count = (bytes.count + 2) / 3 * 4
        let text = [UInt8](unsafeUninitializedCapacity: count) { output, initializedCount in
            let digits = alphabet.utf8Start
            var out = 0
            var index = 0
            while index < bytes.count {
                let b0 = UInt32(bytes[index])
                let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
                let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
                let group = b0 << 16 | b1 << 8 | b2
                output[out] = digits[Int(group >> 18 & 63)]
                output[out + 1] = digits[Int(group >> 12 & 63)]
                output[out + 2] = index + 1 < bytes.count ? digits[Int(group >> 6 & 63)] : UInt8(ascii: "=")
                output[out + 3] = index + 2 < bytes.count ? digits[Int(group & 63)] : UInt8(ascii: "=")
                out += 4
                index += 3
            }
            initializedCount = count
        }
        return String(decoding: text, as: UTF8.self)
    }

    @inline(__always)
    private static func value(_ digit: UInt8) -> UInt32? {
        switch digit {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(digit &- UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(digit &- UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(digit &- UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): 63
        default: nil
        }
    }

    /// The bytes of `text`, or nil when it is not base64.
    static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        var count = text.count
        if count > 0 && text[count - 1] == UInt8(ascii: "=") { count -= 1 }
        if count > 0 && text[count - 1] == UInt8(ascii: "=") { count -= 1 }
        if count % 4 == 1 { return nil }
        // With padding, the text must be a whole number of 4-digit groups.
        if count != text.count && text.count % 4 != 0 { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count * 3 / 4)
        var group: UInt32 = 0
        var digits = 0
        for index in 0..<count {
            guard let value = value(text[index]) else { return nil }
            group = group << 6 | value
            digits += 1
            if digits == 4 {
                bytes.append(UInt8(truncatingIfNeeded: group >> 16))
                bytes.append(UInt8(truncatingIfNeeded: group >> 8))
                bytes.append(UInt8(truncatingIfNeeded: group))
                group = 0
                digits = 0
            }
        }
        if digits == 2 {
            bytes.append(UInt8(truncatingIfNeeded: group >> 4))
        } else if digits == 3 {
            bytes.append(UInt8(truncatingIfNeeded: group >> 10))
            bytes.append(UInt8(truncatingIfNeeded: group >> 2))
        }
        return bytes
    }
}
