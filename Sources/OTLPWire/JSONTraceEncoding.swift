/// The OTLP/JSON encoding of `ExportTraceServiceRequest`, written by hand.
///
/// The mapping is the OTLP specification's (protobuf's JSON mapping with OTLP's exceptions):
///
/// - field names in lowerCamelCase (`resourceSpans`, `startTimeUnixNano`, ...);
/// - `traceId`, `spanId`, `parentSpanId` (spans and links) as lowercase hex, not base64;
/// - `kind` and `status.code` as integers;
/// - 64-bit integers (`*TimeUnixNano`, `intValue`) as decimal strings, 32-bit ones
///   (`dropped*Count`, `flags`) as numbers;
/// - `doubleValue` as the shortest decimal that reads back as the same double, or the strings
///   `"NaN"`, `"Infinity"`, `"-Infinity"`.
///
/// Fields holding their default value are left out, as in the protobuf encoding.
enum JSONTraceEncoding {
    static func encode(_ spans: [SpanData], origin: ExportOrigin) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + spans.count * 768)
        if spans.isEmpty {
            writer.raw("{\"resourceSpans\":[]}")
            return writer.bytes
        }
        writer.raw("{\"resourceSpans\":[{\"resource\":{")
        if !origin.resourceAttributes.isEmpty {
            writer.raw("\"attributes\":")
            writer.attributes(origin.resourceAttributes)
        }
        writer.raw("},\"scopeSpans\":[{\"scope\":{")
        var first = true
        if !origin.scopeName.isEmpty {
            writer.key("\"name\":", &first)
            writer.string(origin.scopeName)
        }
        if !origin.scopeVersion.isEmpty {
            writer.key("\"version\":", &first)
            writer.string(origin.scopeVersion)
        }
        writer.raw("},\"spans\":[")
        for index in spans.indices {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.span(spans[index])
        }
        writer.raw("]}]}]}")
        return writer.bytes
    }
}

/// Appends JSON text to a byte array.
struct JSONWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) { bytes.append(value) }

    /// ASCII text written as is.
    @inline(__always)
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// The key of an object member (given with its quotes and colon), preceded by a comma
    /// unless it is the object's first member.
    @inline(__always)
    mutating func key(_ quotedKeyAndColon: StaticString, _ first: inout Bool) {
        if first {
            first = false
        } else {
            bytes.append(UInt8(ascii: ","))
        }
        raw(quotedKeyAndColon)
    }

    /// An unsigned integer in decimal.
    mutating func decimal(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var value = value
            var index = 20
            while value != 0 {
                index -= 1
                let (quotient, remainder) = value.quotientAndRemainder(dividingBy: 10)
                digits[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remainder)
                value = quotient
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[index...]))
        }
    }

    /// A signed integer in decimal.
    @inline(__always)
    mutating func decimal(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        decimal(value.magnitude)
    }

    /// A 64-bit integer as OTLP/JSON wants it: a decimal string.
    @inline(__always)
    mutating func quotedDecimal(_ value: UInt64) {
        bytes.append(UInt8(ascii: "\""))
        decimal(value)
        bytes.append(UInt8(ascii: "\""))
    }

    /// 16 lowercase hex digits, most significant first.
    @inline(__always)
    mutating func hex(_ value: UInt64) {
        var shift = 60
        while shift >= 0 {
            let digit = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & 0xF)
            bytes.append(digit < 10 ? 0x30 &+ digit : 0x57 &+ digit)
            shift -= 4
        }
    }

    /// A double, so that a JSON parser reads back exactly the same value; non-finite values
    /// as OTLP/JSON's strings.
    mutating func double(_ value: Double) {
        if value.isNaN {
            raw("\"NaN\"")
        } else if value.isInfinite {
            if value < 0 { raw("\"-Infinity\"") } else { raw("\"Infinity\"") }
        } else {
            // The standard library prints the shortest digits that round-trip ("0.1", "1e-07",
            // "1.7976931348623157e+308", "-0.0"), always in JSON's number syntax.
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    /// A JSON string: `"` and `\` escaped, control characters (U+0000...U+001F) as `\u00XX`,
    /// everything else as its UTF-8 (Swift strings are always valid UTF-8).
    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { escaped($0) }
        if done == nil {
            var copy = value
            copy.makeContiguousUTF8()
            copy.withUTF8 { escaped($0) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escaped(_ source: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for index in 0..<source.count {
            let unit = source[index]
            if unit >= 0x20 && unit != UInt8(ascii: "\"") && unit != UInt8(ascii: "\\") { continue }
            if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<index])) }
            bytes.append(UInt8(ascii: "\\"))
            if unit == UInt8(ascii: "\"") || unit == UInt8(ascii: "\\") {
                bytes.append(unit)
            } else {
                bytes.append(UInt8(ascii: "u"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(unit < 0x10 ? UInt8(ascii: "0") : UInt8(ascii: "1"))
                let low = unit & 0xF
                bytes.append(low < 10 ? 0x30 &+ low : 0x57 &+ low)
            }
            runStart = index + 1
        }
        if runStart < source.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart...])) }
    }

    /// An `AnyValue` object.
    mutating func anyValue(_ value: AttributeValue) {
        switch value {
        case .string(let string):
            raw("{\"stringValue\":")
            self.string(string)
        case .bool(let bool):
            if bool { raw("{\"boolValue\":true") } else { raw("{\"boolValue\":false") }
        case .int(let int):
            raw("{\"intValue\":\"")
            decimal(int)
            byte(UInt8(ascii: "\""))
        case .double(let double):
            raw("{\"doubleValue\":")
            self.double(double)
        case .stringArray(let array):
            arrayValue(array.count) { writer, index in writer.anyValue(.string(array[index])) }
        case .boolArray(let array):
            arrayValue(array.count) { writer, index in writer.anyValue(.bool(array[index])) }
        case .intArray(let array):
            arrayValue(array.count) { writer, index in writer.anyValue(.int(array[index])) }
        case .doubleArray(let array):
            arrayValue(array.count) { writer, index in writer.anyValue(.double(array[index])) }
        }
        byte(UInt8(ascii: "}"))
    }

    /// `"arrayValue":{"values":[...]}` (`{}` when empty), after the `{` of its `AnyValue`.
    @inline(__always)
    private mutating func arrayValue(_ count: Int, _ element: (inout JSONWriter, Int) -> Void) {
        guard count > 0 else {
            raw("{\"arrayValue\":{}")
            return
        }
        raw("{\"arrayValue\":{\"values\":[")
        for index in 0..<count {
            if index > 0 { byte(UInt8(ascii: ",")) }
            element(&self, index)
        }
        raw("]}")
    }

    /// An array of `KeyValue` objects.
    mutating func attributes(_ attributes: [Attribute]) {
        byte(UInt8(ascii: "["))
        for index in attributes.indices {
            if index > 0 { byte(UInt8(ascii: ",")) }
            let attribute = attributes[index]
            raw("{\"key\":")
            string(attribute.key)
            raw(",\"value\":")
            anyValue(attribute.value)
            byte(UInt8(ascii: "}"))
        }
        byte(UInt8(ascii: "]"))
    }

    @inline(__always)
    private mutating func quotedHex(_ value: UInt64) {
        byte(UInt8(ascii: "\""))
        hex(value)
        byte(UInt8(ascii: "\""))
    }

    @inline(__always)
    private mutating func quotedTraceID(_ id: TraceID) {
        byte(UInt8(ascii: "\""))
        hex(id.high)
        hex(id.low)
        byte(UInt8(ascii: "\""))
    }

    /// A `Span.Event` object.
    mutating func event(_ event: SpanEventData) {
        byte(UInt8(ascii: "{"))
        var first = true
        if event.timeUnixNano != 0 {
            key("\"timeUnixNano\":", &first)
            quotedDecimal(event.timeUnixNano)
        }
        if !event.name.isEmpty {
            key("\"name\":", &first)
            string(event.name)
        }
        if !event.attributes.isEmpty {
            key("\"attributes\":", &first)
            attributes(event.attributes)
        }
        if event.droppedAttributesCount != 0 {
            key("\"droppedAttributesCount\":", &first)
            decimal(UInt64(event.droppedAttributesCount))
        }
        byte(UInt8(ascii: "}"))
    }

    /// A `Span.Link` object.
    mutating func link(_ link: SpanLinkData) {
        raw("{\"traceId\":")
        quotedTraceID(link.traceID)
        raw(",\"spanId\":")
        quotedHex(link.spanID)
        if !link.traceState.isEmpty {
            raw(",\"traceState\":")
            string(link.traceState)
        }
        if !link.attributes.isEmpty {
            raw(",\"attributes\":")
            attributes(link.attributes)
        }
        if link.droppedAttributesCount != 0 {
            raw(",\"droppedAttributesCount\":")
            decimal(UInt64(link.droppedAttributesCount))
        }
        if link.traceFlags != 0 {
            raw(",\"flags\":")
            decimal(UInt64(link.traceFlags))
        }
        byte(UInt8(ascii: "}"))
    }

    /// A `Span` object.
    mutating func span(_ span: SpanData) {
        raw("{\"traceId\":")
        quotedTraceID(span.traceID)
        raw(",\"spanId\":")
        quotedHex(span.spanID)
        if !span.traceState.isEmpty {
            raw(",\"traceState\":")
            string(span.traceState)
        }
        if span.parentSpanID != 0 {
            raw(",\"parentSpanId\":")
            quotedHex(span.parentSpanID)
        }
        if span.traceFlags != 0 {
            raw(",\"flags\":")
            decimal(UInt64(span.traceFlags))
        }
        if !span.name.isEmpty {
            raw(",\"name\":")
            string(span.name)
        }
        if span.kind != .unspecified {
            raw(",\"kind\":")
            decimal(UInt64(span.kind.rawValue))
        }
        if span.startTimeUnixNano != 0 {
            raw(",\"startTimeUnixNano\":")
            quotedDecimal(span.startTimeUnixNano)
        }
        if span.endTimeUnixNano != 0 {
            raw(",\"endTimeUnixNano\":")
            quotedDecimal(span.endTimeUnixNano)
        }
        if !span.attributes.isEmpty {
            raw(",\"attributes\":")
            attributes(span.attributes)
        }
        if span.droppedAttributesCount != 0 {
            raw(",\"droppedAttributesCount\":")
            decimal(UInt64(span.droppedAttributesCount))
        }
        if !span.events.isEmpty {
            raw(",\"events\":[")
            for index in span.events.indices {
                if index > 0 { byte(UInt8(ascii: ",")) }
                event(span.events[index])
            }
            byte(UInt8(ascii: "]"))
        }
        if span.droppedEventsCount != 0 {
            raw(",\"droppedEventsCount\":")
            decimal(UInt64(span.droppedEventsCount))
        }
        if !span.links.isEmpty {
            raw(",\"links\":[")
            for index in span.links.indices {
                if index > 0 { byte(UInt8(ascii: ",")) }
                link(span.links[index])
            }
            byte(UInt8(ascii: "]"))
        }
        if span.droppedLinksCount != 0 {
            raw(",\"droppedLinksCount\":")
            decimal(UInt64(span.droppedLinksCount))
        }
        if span.statusCode != .unset || !span.statusMessage.isEmpty {
            raw(",\"status\":{")
            var first = true
            if !span.statusMessage.isEmpty {
                key("\"message\":", &first)
                string(span.statusMessage)
            }
            if span.statusCode != .unset {
                key("\"code\":", &first)
                decimal(UInt64(span.statusCode.rawValue))
            }
            byte(UInt8(ascii: "}"))
        }
        byte(UInt8(ascii: "}"))
    }
}
