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
        var writer = JSONWriter(capacity: estimatedSize(spans, origin: origin))
        if spans.isEmpty {
            writer.raw("{\"resourceSpans\":[]}")
            return writer.finish()
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
        return writer.finish()
    }
}

extension JSONTraceEncoding {
    /// About the size of the JSON when no string needs escaping (a little more, usually), so
    /// that the writer rarely has to grow.
    static func estimatedSize(_ spans: [SpanData], origin: ExportOrigin) -> Int {
        func attributes(_ attributes: [Attribute]) -> Int {
            var size = 2
            for index in attributes.indices {
                let attribute = attributes[index]
                size += 40 + attribute.key.utf8.count
                switch attribute.value {
                case .string(let string): size += string.utf8.count
                case .bool, .int, .double: size += 24
                case .stringArray(let array):
                    size += 30
                    for element in array { size += 20 + element.utf8.count }
                case .boolArray(let array): size += 30 + 20 * array.count
                case .intArray(let array): size += 30 + 40 * array.count
                case .doubleArray(let array): size += 30 + 40 * array.count
                }
            }
            return size
        }
        var size = 256 + attributes(origin.resourceAttributes) + origin.scopeName.utf8.count + origin.scopeVersion.utf8.count
        for index in spans.indices {
            let span = spans[index]
            size += 400 + span.name.utf8.count + span.traceState.utf8.count + span.statusMessage.utf8.count
            size += attributes(span.attributes)
            for event in span.events { size += 120 + event.name.utf8.count + attributes(event.attributes) }
            for link in span.links { size += 180 + link.traceState.utf8.count + attributes(link.attributes) }
        }
        return size
    }
}

/// Writes JSON text through a raw pointer into a growable buffer.
///
/// Every primitive first makes sure there is room for the most it can write (a string takes
/// at most 6 bytes per UTF-8 byte plus its quotes), then stores bytes without further checks.
/// ``finish()`` copies the text into an array and frees the buffer; a writer must not be used
/// after it, nor copied.
struct JSONWriter {
    private var base: UnsafeMutablePointer<UInt8>
    private var position: UnsafeMutablePointer<UInt8>
    private var end: UnsafeMutablePointer<UInt8>

    init(capacity: Int) {
        let capacity = max(capacity, 64)
        base = .allocate(capacity: capacity)
        position = base
        end = base + capacity
    }

    /// The text written, as an array; frees the buffer.
    mutating func finish() -> [UInt8] {
        let count = position - base
        let text = [UInt8](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            if count > 0 { buffer.baseAddress!.update(from: base, count: count) }
            initializedCount = count
        }
        base.deallocate()
        position = base
        end = base
        return text
    }

    /// Room for `count` more bytes.
    @inline(__always)
    private mutating func reserve(_ count: Int) {
        if end - position < count { grow(count) }
    }

    @inline(never)
    private mutating func grow(_ count: Int) {
        let used = position - base
        let capacity = max((end - base) * 2, used + count)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        bigger.update(from: base, count: used)
        base.deallocate()
        base = bigger
        position = bigger + used
        end = bigger + capacity
    }

    /// Stores one byte; room must have been reserved.
    @inline(__always)
    private mutating func put(_ value: UInt8) {
        position.pointee = value
        position += 1
    }

    /// Stores bytes; room must have been reserved.
    @inline(__always)
    private mutating func put(_ source: UnsafePointer<UInt8>, _ count: Int) {
        position.update(from: source, count: count)
        position += count
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        reserve(1)
        put(value)
    }

    /// ASCII text written as is.
    @inline(__always)
    mutating func raw(_ text: StaticString) {
        let count = text.utf8CodeUnitCount
        reserve(count)
        put(text.utf8Start, count)
    }

    /// The key of an object member (given with its quotes and colon), preceded by a comma
    /// unless it is the object's first member.
    @inline(__always)
    mutating func key(_ quotedKeyAndColon: StaticString, _ first: inout Bool) {
        if first {
            first = false
        } else {
            byte(UInt8(ascii: ","))
        }
        raw(quotedKeyAndColon)
    }

    /// An unsigned integer in decimal.
    mutating func decimal(_ value: UInt64) {
        reserve(20)
        if value < 10 {
            put(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
            return
        }
        var digits = 1
        var rest = value / 10
        while rest != 0 {
            digits += 1
            rest /= 10
        }
        var value = value
        var cursor = position + digits
        while cursor != position {
            cursor -= 1
            let (quotient, remainder) = value.quotientAndRemainder(dividingBy: 10)
            cursor.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: remainder)
            value = quotient
        }
        position += digits
    }

    /// A signed integer in decimal.
    @inline(__always)
    mutating func decimal(_ value: Int64) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        decimal(value.magnitude)
    }

    /// A 64-bit integer as OTLP/JSON wants it: a decimal string.
    @inline(__always)
    mutating func quotedDecimal(_ value: UInt64) {
        byte(UInt8(ascii: "\""))
        decimal(value)
        byte(UInt8(ascii: "\""))
    }

    /// 16 lowercase hex digits, most significant first.
    @inline(__always)
    mutating func hex(_ value: UInt64) {
        reserve(16)
        var shift = 60
        while shift >= 0 {
            let digit = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & 0xF)
            put(digit < 10 ? 0x30 &+ digit : 0x57 &+ digit)
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
            var text = value.description
            text.withUTF8 { utf8 in
                reserve(utf8.count)
                if let start = utf8.baseAddress { put(start, utf8.count) }
            }
        }
    }

    /// A JSON string: `"` and `\` escaped, control characters (U+0000...U+001F) as `\u00XX`,
    /// everything else as its UTF-8 (Swift strings are always valid UTF-8).
    mutating func string(_ value: String) {
        let done: Void? = value.utf8.withContiguousStorageIfAvailable { quoted($0) }
        if done == nil {
            var copy = value
            copy.makeContiguousUTF8()
            copy.withUTF8 { quoted($0) }
        }
    }

    /// Whether any of the 8 bytes of `word` is below 0x20, `"` or `\` (exact, no false
    /// negatives; bytes of multi-byte UTF-8 sequences, 0x80 and above, never match).
    @inline(__always)
    private static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let quoteZero = (quote &- ones) & ~quote & highs
        let backslashZero = (backslash &- ones) & ~backslash & highs
        return (control | quoteZero | backslashZero) != 0
    }

    private mutating func quoted(_ source: UnsafeBufferPointer<UInt8>) {
        let count = source.count
        reserve(count &* 6 &+ 2)
        put(UInt8(ascii: "\""))
        guard let start = source.baseAddress else {
            put(UInt8(ascii: "\""))
            return
        }
        var runStart = 0
        var index = 0
        while index < count {
            // Skip 8 bytes at a time while none needs escaping.
            if index &+ 8 <= count,
                !Self.needsEscape(UnsafeRawPointer(start + index).loadUnaligned(as: UInt64.self))
            {
                index &+= 8
                continue
            }
            let unit = start[index]
            if unit >= 0x20 && unit != UInt8(ascii: "\"") && unit != UInt8(ascii: "\\") {
                index &+= 1
                continue
            }
            put(start + runStart, index - runStart)
            put(UInt8(ascii: "\\"))
            if unit == UInt8(ascii: "\"") || unit == UInt8(ascii: "\\") {
                put(unit)
            } else {
                put(UInt8(ascii: "u"))
                put(UInt8(ascii: "0"))
                put(UInt8(ascii: "0"))
                put(unit < 0x10 ? UInt8(ascii: "0") : UInt8(ascii: "1"))
                let low = unit & 0xF
                put(low < 10 ? 0x30 &+ low : 0x57 &+ low)
            }
            index &+= 1
            runStart = index
        }
        put(start + runStart, count - runStart)
        put(UInt8(ascii: "\""))
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
