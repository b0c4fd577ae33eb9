/// The OTLP/JSON decoding of `ExportTraceServiceRequest`, written by hand: the inverse of
/// ``JSONTraceEncoding``, for whatever OTLP/JSON any SDK or Collector writes (see
/// ``OTLPTraceDecoder/json(_:)-(UnsafeRawBufferPointer)`` for what is accepted).
///
/// Each message is an object read member by member with a ``JSONReader``; keys are compared
/// in place with their lowerCamelCase and snake_case spellings, unknown ones are skipped
/// whatever their value, and `null` stands for the field's default. A field given twice keeps
/// its last value. Values become the same ``SpanData`` and ``ExportOrigin`` as the protobuf
/// decoder makes of the same request, `AnyValue`s through ``DecodedAnyValue``.
enum JSONTraceDecoding {
    typealias Failure = OTLPDecodingError

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> [ExportedSpans] {
        var reader = JSONReader(bytes)
        defer { reader.deallocate() }
        var result: [ExportedSpans] = []
        guard reader.peek() == UInt8(ascii: "{") else {
            throw reader.peek() == nil
                ? Failure(reason: "empty input: expected a JSON object") : reader.error("expected a JSON object")
        }
        try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
            if key.is("resourceSpans", "resource_spans") {
                var list: [ExportedSpans] = []
                try array(&reader) { (reader: inout JSONReader, index: Int) throws(Failure) in
                    do throws(Failure) { try resourceSpans(&reader, into: &list) } catch { throw error.within("resourceSpans", index) }
                }
                result = list
            } else {
                try reader.skipValue()
            }
        }
        try reader.finish()
        return result
    }

    // MARK: Messages

    private static func resourceSpans(_ reader: inout JSONReader, into result: inout [ExportedSpans]) throws(Failure) {
        var resourceAttributes: [Attribute] = []
        var scopes: [ExportedSpans] = []
        try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
            if key.is("resource") {
                do throws(Failure) { resourceAttributes = try resource(&reader) } catch { throw error.within("resource") }
            } else if key.is("scopeSpans", "scope_spans") {
                scopes = []
                try array(&reader) { (reader: inout JSONReader, index: Int) throws(Failure) in
                    do throws(Failure) { scopes.append(try scopeSpans(&reader)) } catch { throw error.within("scopeSpans", index) }
                }
            } else {
                try reader.skipValue()  // schemaUrl, ...
            }
        }
        if !resourceAttributes.isEmpty {
            for index in scopes.indices { scopes[index].origin.resourceAttributes = resourceAttributes }
        }
        result += scopes
    }

    private static func resource(_ reader: inout JSONReader) throws(Failure) -> [Attribute] {
        var attributes: [Attribute] = []
        try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
            if key.is("attributes") {
                attributes = try Self.attributes(&reader)
            } else {
                try reader.skipValue()  // droppedAttributesCount, entityRefs, ...
            }
        }
        return attributes
    }

    private static func scopeSpans(_ reader: inout JSONReader) throws(Failure) -> ExportedSpans {
        var origin = ExportOrigin(resourceAttributes: [], scopeName: "", scopeVersion: "")
        var spans: [SpanData] = []
        try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
            if key.is("scope") {
                try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
                    if key.is("name") {
                        origin.scopeName = try string(&reader, "scope.name")
                    } else if key.is("version") {
                        origin.scopeVersion = try string(&reader, "scope.version")
                    } else {
                        try reader.skipValue()  // attributes, droppedAttributesCount, ...
                    }
                }
            } else if key.is("spans") {
                spans = []
                try array(&reader) { (reader: inout JSONReader, index: Int) throws(Failure) in
                    do throws(Failure) { spans.append(try span(&reader)) } catch { throw error.within("spans", index) }
                }
            } else {
                try reader.skipValue()  // schemaUrl, ...
            }
        }
        return ExportedSpans(origin: origin, spans: spans)
    }

    private static let kindNames: [StaticString] = [
        "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
    ]
    private static let statusCodeNames: [StaticString] = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"]

    private static func span(_ reader: inout JSONReader) throws(Failure) -> SpanData {
        var traceID: TraceID?
        var spanID: UInt64?
        var parentSpanID: UInt64 = 0
        var traceState = ""
        var traceFlags: UInt8 = 0
        var name = ""
        var kind = SpanDataKind.unspecified
        var startTime: UInt64 = 0
        var endTime: UInt64 = 0
        var attributes: [Attribute] = []
        var droppedAttributes: UInt32 = 0
        var events: [SpanEventData] = []
        var droppedEvents: UInt32 = 0
        var links: [SpanLinkData] = []
        var droppedLinks: UInt32 = 0
        var statusCode = SpanDataStatusCode.unset
        var statusMessage = ""

        try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
            if key.is("traceId", "trace_id") {
                traceID = try Self.traceID(&reader, "traceId")
            } else if key.is("spanId", "span_id") {
                spanID = try Self.spanID(&reader, "spanId", emptyIsZero: false)
            } else if key.is("parentSpanId", "parent_span_id") {
                parentSpanID = try Self.spanID(&reader, "parentSpanId", emptyIsZero: true) ?? 0
            } else if key.is("traceState", "trace_state") {
                traceState = try string(&reader, "traceState")
            } else if key.is("flags") {
                traceFlags = UInt8(truncatingIfNeeded: try uint32(&reader, "flags"))
            } else if key.is("name") {
                name = try string(&reader, "name")
            } else if key.is("kind") {
                kind = SpanDataKind(rawValue: try enumeration(&reader, "kind", kindNames)) ?? .unspecified
            } else if key.is("startTimeUnixNano", "start_time_unix_nano") {
                startTime = try uint64(&reader, "startTimeUnixNano")
            } else if key.is("endTimeUnixNano", "end_time_unix_nano") {
                endTime = try uint64(&reader, "endTimeUnixNano")
            } else if key.is("attributes") {
                attributes = try Self.attributes(&reader)
            } else if key.is("droppedAttributesCount", "dropped_attributes_count") {
                droppedAttributes = try uint32(&reader, "droppedAttributesCount")
            } else if key.is("events") {
                events = []
                try array(&reader) { (reader: inout JSONReader, index: Int) throws(Failure) in
                    do throws(Failure) { events.append(try event(&reader)) } catch { throw error.within("events", index) }
                }
            } else if key.is("droppedEventsCount", "dropped_events_count") {
                droppedEvents = try uint32(&reader, "droppedEventsCount")
            } else if key.is("links") {
                links = []
                try array(&reader) { (reader: inout JSONReader, index: Int) throws(Failure) in
                    do throws(Failure) { links.append(try link(&reader)) } catch { throw error.within("links", index) }
                }
            } else if key.is("droppedLinksCount", "dropped_links_count") {
                droppedLinks = try uint32(&reader, "droppedLinksCount")
            } else if key.is("status") {
                statusCode = .unset
                statusMessage = ""
                do throws(Failure) {
                    try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
                        if key.is("message") {
                            statusMessage = try string(&reader, "message")
                        } else if key.is("code") {
                            statusCode = SpanDataStatusCode(rawValue: try enumeration(&reader, "code", statusCodeNames)) ?? .unset
                        } else {
                            try reader.skipValue()
                        }
                    }
                } catch {
                    throw error.within("status")
                }
            } else {
                try reader.skipValue()
            }
        }
        guard let traceID else { throw Failure(path: "traceId", reason: "missing (a span needs a 16-byte trace id)") }
        guard let spanID else { throw Failure(path: "spanId", reason: "missing (a span needs an 8-byte span id)") }
        return SpanData(
            traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, traceState: traceState, traceFlags: traceFlags,
            name: name, kind: kind, startTimeUnixNano: startTime, endTimeUnixNano: endTime,
            attributes: attributes, droppedAttributesCount: droppedAttributes, events: events, droppedEventsCount: droppedEvents,
            links: links, droppedLinksCount: droppedLinks, statusCode: statusCode, statusMessage: statusMessage
        )
    }

    private static func event(_ reader: inout JSONReader) throws(Failure) -> SpanEventData {
        var event = SpanEventData(name: "", timeUnixNano: 0)
        try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
            if key.is("timeUnixNano", "time_unix_nano") {
                event.timeUnixNano = try uint64(&reader, "timeUnixNano")
            } else if key.is("name") {
                event.name = try string(&reader, "name")
            } else if key.is("attributes") {
                event.attributes = try attributes(&reader)
            } else if key.is("droppedAttributesCount", "dropped_attributes_count") {
                event.droppedAttributesCount = try uint32(&reader, "droppedAttributesCount")
            } else {
                try reader.skipValue()
            }
        }
        return event
    }

    private static func link(_ reader: inout JSONReader) throws(Failure) -> SpanLinkData {
        var traceID: TraceID?
        var spanID: UInt64?
        var link = SpanLinkData(traceID: TraceID(high: 0, low: 0), spanID: 0, traceFlags: 0)
        try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
            if key.is("traceId", "trace_id") {
                traceID = try Self.traceID(&reader, "traceId")
            } else if key.is("spanId", "span_id") {
                spanID = try Self.spanID(&reader, "spanId", emptyIsZero: false)
            } else if key.is("traceState", "trace_state") {
                link.traceState = try string(&reader, "traceState")
            } else if key.is("attributes") {
                link.attributes = try attributes(&reader)
            } else if key.is("droppedAttributesCount", "dropped_attributes_count") {
                link.droppedAttributesCount = try uint32(&reader, "droppedAttributesCount")
            } else if key.is("flags") {
                link.traceFlags = UInt8(truncatingIfNeeded: try uint32(&reader, "flags"))
            } else {
                try reader.skipValue()
            }
        }
        guard let traceID else { throw Failure(path: "traceId", reason: "missing (a link needs a 16-byte trace id)") }
        guard let spanID else { throw Failure(path: "spanId", reason: "missing (a link needs an 8-byte span id)") }
        link.traceID = traceID
        link.spanID = spanID
        return link
    }

    /// An array of `KeyValue`s (errors within `attributes[i]`).
    private static func attributes(_ reader: inout JSONReader) throws(Failure) -> [Attribute] {
        var attributes: [Attribute] = []
        try array(&reader) { (reader: inout JSONReader, index: Int) throws(Failure) in
            do throws(Failure) {
                let member = try keyValue(&reader, depth: 1)
                attributes.append(Attribute(member.key, member.value.attributeValue))
            } catch {
                throw error.within("attributes", index)
            }
        }
        return attributes
    }

    private static func keyValue(_ reader: inout JSONReader, depth: Int) throws(Failure) -> DecodedKeyValue {
        var key = ""
        var value = DecodedAnyValue.empty
        try object(&reader) { (reader: inout JSONReader, name: JSONText) throws(Failure) in
            if name.is("key") {
                key = try string(&reader, "key")
            } else if name.is("value") {
                do throws(Failure) { value = try anyValue(&reader, depth: depth) } catch { throw error.within("value") }
            } else {
                try reader.skipValue()
            }
        }
        return DecodedKeyValue(key: key, value: value)
    }

    /// An `AnyValue` object nested `depth` deep (1 for an attribute's value).
    private static func anyValue(_ reader: inout JSONReader, depth: Int) throws(Failure) -> DecodedAnyValue {
        var value = DecodedAnyValue.empty
        try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
            if key.is("stringValue", "string_value") {
                if !reader.consumeNull() { value = .string(try string(&reader, "stringValue")) }
            } else if key.is("boolValue", "bool_value") {
                if !reader.consumeNull() {
                    do throws(Failure) { value = .bool(try reader.bool()) } catch { throw error.within("boolValue") }
                }
            } else if key.is("intValue", "int_value") {
                if !reader.consumeNull() { value = .int(try int64(&reader, "intValue")) }
            } else if key.is("doubleValue", "double_value") {
                if !reader.consumeNull() { value = .double(try double(&reader, "doubleValue")) }
            } else if key.is("bytesValue", "bytes_value") {
                if !reader.consumeNull() { value = .bytes(try bytes(&reader, "bytesValue")) }
            } else if key.is("arrayValue", "array_value") || key.is("kvlistValue", "kvlist_value") {
                let keyValues = key.is("kvlistValue", "kvlist_value")
                let name = keyValues ? "kvlistValue" : "arrayValue"
                guard depth < OTLPTraceDecoder.maximumValueDepth else {
                    throw Failure(path: name, reason: "values nested more than \(OTLPTraceDecoder.maximumValueDepth) deep")
                }
                if reader.consumeNull() { return }
                do throws(Failure) { value = try values(&reader, keyValues: keyValues, depth: depth + 1) } catch { throw error.within(name) }
            } else {
                try reader.skipValue()
            }
        }
        return value
    }

    /// An `ArrayValue` or a `KeyValueList` object: `{"values":[...]}`.
    private static func values(_ reader: inout JSONReader, keyValues: Bool, depth: Int) throws(Failure) -> DecodedAnyValue {
        var elements: [DecodedAnyValue] = []
        var members: [DecodedKeyValue] = []
        try object(&reader) { (reader: inout JSONReader, key: JSONText) throws(Failure) in
            guard key.is("values") else { return try reader.skipValue() }
            elements = []
            members = []
            try array(&reader) { (reader: inout JSONReader, index: Int) throws(Failure) in
                do throws(Failure) {
                    if keyValues {
                        members.append(try keyValue(&reader, depth: depth))
                    } else {
                        elements.append(try anyValue(&reader, depth: depth))
                    }
                } catch {
                    throw error.within("values", index)
                }
            }
        }
        return keyValues ? .keyValueList(members) : .array(elements)
    }

    // MARK: Structure

    /// Reads an object (or `null`), calling `member` with each key, positioned at its value.
    @inline(__always)
    private static func object(
        _ reader: inout JSONReader, _ member: (inout JSONReader, JSONText) throws(Failure) -> Void
    ) throws(Failure) {
        if reader.consumeNull() { return }
        try reader.beginObject()
        var first = true
        while let key = try reader.nextKey(&first) { try member(&reader, key) }
    }

    /// Reads an array (or `null`), calling `element` positioned at each element, with its index.
    @inline(__always)
    private static func array(
        _ reader: inout JSONReader, _ element: (inout JSONReader, Int) throws(Failure) -> Void
    ) throws(Failure) {
        if reader.consumeNull() { return }
        try reader.beginArray()
        var first = true
        var index = 0
        while try reader.nextElement(&first) {
            try element(&reader, index)
            index += 1
        }
    }

    // MARK: Scalars

    /// A string field; `null` is `""`.
    private static func string(_ reader: inout JSONReader, _ name: String) throws(Failure) -> String {
        if reader.consumeNull() { return "" }
        guard reader.peek() == UInt8(ascii: "\"") else { throw mismatch(&reader, name, "a string") }
        do throws(Failure) { return reader.string(try reader.text()) } catch { throw error.within(name) }
    }

    /// An error for a value of the wrong type, at the value.
    @inline(never)
    private static func mismatch(_ reader: inout JSONReader, _ name: String, _ expected: String) -> Failure {
        let found: String
        switch reader.peek() {
        case nil: return Failure(path: name, reason: "unexpected end of input, expected \(expected)")
        case UInt8(ascii: "\"")?: found = "a string"
        case UInt8(ascii: "{")?: found = "an object"
        case UInt8(ascii: "[")?: found = "an array"
        case UInt8(ascii: "t")?, UInt8(ascii: "f")?: found = "a bool"
        case UInt8(ascii: "n")?: found = "null"
        default: found = "a number"
        }
        return Failure(path: name, reason: "expected \(expected), found \(found) at byte \(reader.offset)")
    }

    /// A quoted piece of text for an error message, cut short when long.
    private static func quoted(_ text: JSONText) -> String {
        let string = text.string
        return "\"" + (string.count > 40 ? String(string.prefix(40)) + "..." : string) + "\""
    }

    /// The text of an integer given as a number or a string; nil for `null`.
    private static func integerText(_ reader: inout JSONReader, _ name: String, _ expected: String) throws(Failure) -> (JSONText, Int)? {
        if reader.consumeNull() { return nil }
        let byte = reader.peek()
        let offset = reader.offset
        do throws(Failure) {
            if byte == UInt8(ascii: "\"") { return (try reader.text(), offset) }
            if byte == UInt8(ascii: "-") || (byte.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false) {
                return (try reader.number(), offset)
            }
        } catch {
            throw error.within(name)
        }
        throw mismatch(&reader, name, expected)
    }

    private static func uint64(_ reader: inout JSONReader, _ name: String) throws(Failure) -> UInt64 {
        let expected = "an unsigned 64-bit integer (a number or a decimal string)"
        guard let (text, offset) = try integerText(&reader, name, expected) else { return 0 }
        guard let value = JSONNumber.integer(text.bytes, allowNegative: false, limit: .max, negativeLimit: 0) else {
            throw Failure(path: name, reason: "expected \(expected), got \(quoted(text)) at byte \(offset)")
        }
        return value.magnitude
    }

    private static func uint32(_ reader: inout JSONReader, _ name: String) throws(Failure) -> UInt32 {
        let expected = "an unsigned 32-bit integer"
        guard let (text, offset) = try integerText(&reader, name, expected) else { return 0 }
        guard let value = JSONNumber.integer(text.bytes, allowNegative: false, limit: UInt64(UInt32.max), negativeLimit: 0) else {
            throw Failure(path: name, reason: "expected \(expected), got \(quoted(text)) at byte \(offset)")
        }
        return UInt32(value.magnitude)
    }

    private static func int64(_ reader: inout JSONReader, _ name: String) throws(Failure) -> Int64 {
        let expected = "a signed 64-bit integer (a number or a decimal string)"
        guard let (text, offset) = try integerText(&reader, name, expected) else { return 0 }
        guard let value = JSONNumber.integer(text.bytes, allowNegative: true, limit: UInt64(Int64.max), negativeLimit: Int64.min.magnitude)
        else {
            throw Failure(path: name, reason: "expected \(expected), got \(quoted(text)) at byte \(offset)")
        }
        return value.negative ? Int64(truncatingIfNeeded: 0 &- value.magnitude) : Int64(value.magnitude)
    }

    /// A double: a number, a numeric string, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
    private static func double(_ reader: inout JSONReader, _ name: String) throws(Failure) -> Double {
        let expected = "a number, or \"NaN\", \"Infinity\" or \"-Infinity\""
        guard let (text, offset) = try integerText(&reader, name, expected) else { return 0 }
        if text.equals("NaN") { return .nan }
        if text.equals("Infinity") { return .infinity }
        if text.equals("-Infinity") { return -.infinity }
        guard let value = JSONNumber.double(text.bytes) else {
            throw Failure(path: name, reason: "expected \(expected), got \(quoted(text)) at byte \(offset)")
        }
        return value
    }

    private static func bytes(_ reader: inout JSONReader, _ name: String) throws(Failure) -> [UInt8] {
        guard reader.peek() == UInt8(ascii: "\"") else { throw mismatch(&reader, name, "a base64 string") }
        let offset = reader.offset
        let text: JSONText
        do throws(Failure) { text = try reader.text() } catch { throw error.within(name) }
        guard let bytes = Base64.decode(text.bytes) else {
            throw Failure(path: name, reason: "expected base64, got \(quoted(text)) at byte \(offset)")
        }
        return bytes
    }

    /// An enum: its number, or its name (one of `names`, whose index is its number).
    private static func enumeration(_ reader: inout JSONReader, _ name: String, _ names: [StaticString]) throws(Failure) -> Int {
        if reader.consumeNull() { return 0 }
        let offset = reader.offset
        if reader.peek() == UInt8(ascii: "\"") {
            let text: JSONText
            do throws(Failure) { text = try reader.text() } catch { throw error.within(name) }
            for index in names.indices where text.equals(names[index]) { return index }
            throw Failure(path: name, reason: "unknown name \(quoted(text)) at byte \(offset)")
        }
        guard let byte = reader.peek(), byte == UInt8(ascii: "-") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) else {
            throw mismatch(&reader, name, "an enum number or name")
        }
        let text: JSONText
        do throws(Failure) { text = try reader.number() } catch { throw error.within(name) }
        guard let value = JSONNumber.integer(text.bytes, allowNegative: true, limit: UInt64(Int32.max), negativeLimit: UInt64(Int32.min.magnitude))
        else {
            throw Failure(path: name, reason: "expected a 32-bit enum number, got \(quoted(text)) at byte \(offset)")
        }
        return value.negative ? -Int(value.magnitude) : Int(value.magnitude)
    }

    /// The value of `count` hex digits (at most 16) at `start`, or nil.
    @inline(__always)
    private static func hex(_ start: UnsafeRawPointer, _ count: Int) -> UInt64? {
        var value: UInt64 = 0
        for index in 0..<count {
            guard let digit = JSONReader.hexDigit(start.load(fromByteOffset: index, as: UInt8.self)) else { return nil }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    private static func idText(_ reader: inout JSONReader, _ name: String, digits: Int) throws(Failure) -> (JSONText, Int)? {
        if reader.consumeNull() { return nil }
        guard reader.peek() == UInt8(ascii: "\"") else { throw mismatch(&reader, name, "\(digits) hex digits in a string") }
        let offset = reader.offset
        do throws(Failure) { return (try reader.text(), offset) } catch { throw error.within(name) }
    }

    /// A trace id: 32 hex digits, either case; nil for `null`.
    private static func traceID(_ reader: inout JSONReader, _ name: String) throws(Failure) -> TraceID? {
        guard let (text, offset) = try idText(&reader, name, digits: 32) else { return nil }
        guard text.count == 32, let start = text.bytes.baseAddress, let high = hex(start, 16), let low = hex(start + 16, 16) else {
            throw Failure(path: name, reason: "expected 32 hex digits, got \(quoted(text)) at byte \(offset)")
        }
        return TraceID(high: high, low: low)
    }

    /// A span id: 16 hex digits, either case (or `""`, 0, when `emptyIsZero`); nil for `null`.
    private static func spanID(_ reader: inout JSONReader, _ name: String, emptyIsZero: Bool) throws(Failure) -> UInt64? {
        guard let (text, offset) = try idText(&reader, name, digits: 16) else { return nil }
        if text.count == 0 && emptyIsZero { return 0 }
        guard text.count == 16, let start = text.bytes.baseAddress, let value = hex(start, 16) else {
            throw Failure(path: name, reason: "expected 16 hex digits, got \(quoted(text)) at byte \(offset)")
        }
        return value
    }
}
