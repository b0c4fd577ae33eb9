/// The protobuf binary decoding of `ExportTraceServiceRequest`, written by hand: the inverse
/// of ``ProtobufTraceEncoding`` (whose comment lists the field numbers), for whatever any
/// protobuf serializer writes.
///
/// A ``ProtoReader`` walks the input through raw pointers; every length is checked against
/// the bytes left in its enclosing message before anything is read, so that no input can make
/// it read out of bounds, and every loop consumes at least one byte per turn. Each
/// length-delimited field is read by a reader of its own, limited to the field's bytes.
///
/// Besides the fields ``ProtobufTraceEncoding`` writes, this reads `AnyValue.kvlist_value`
/// (6, `KeyValueList`: 1 values, repeated `KeyValue`) and `AnyValue.bytes_value` (7). Fields
/// with no place in ``SpanData`` or ``ExportOrigin`` (schema URLs, scope attributes, entity
/// refs, the deprecated `Status.deprecated_code`, future fields) are skipped like unknown ones.
///
/// Repeated fields are counted before they are read (a pass over the field headers of the
/// span, or of the `ScopeSpans`, skipping their contents), so that each array is allocated
/// once with its final capacity.
enum ProtobufTraceDecoding {
    typealias Failure = OTLPDecodingError

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> [ExportedSpans] {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return [] }
        let strings = StringTable(inputSize: bytes.count)
        defer { strings.destroy() }
        var reader = ProtoReader(base: start, position: start, end: start + bytes.count, strings: strings)
        var result: [ExportedSpans] = []
        var index = 0
        while !reader.isAtEnd {
            let tag = try reader.tag()
            if tag == 0x0A {  // ExportTraceServiceRequest.resource_spans
                var resourceSpans = try reader.lengthDelimited(tag)
                do throws(Failure) { try Self.resourceSpans(&resourceSpans, into: &result) } catch { throw error.within("resourceSpans", index) }
                index += 1
            } else {
                try reader.skip(tag)
            }
        }
        return result
    }

    /// A `ResourceSpans`: one ``ExportedSpans`` per `ScopeSpans`, all with the resource's
    /// attributes (which may come before or after them).
    private static func resourceSpans(_ reader: inout ProtoReader, into result: inout [ExportedSpans]) throws(Failure) {
        var resourceAttributes: [Attribute] = []
        let first = result.count
        var index = 0
        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x0A:  // resource
                var resource = try reader.lengthDelimited(tag)
                do throws(Failure) { try Self.resource(&resource, into: &resourceAttributes) } catch { throw error.within("resource") }
            case 0x12:  // scope_spans
                var scopeSpans = try reader.lengthDelimited(tag)
                do throws(Failure) { result.append(try Self.scopeSpans(&scopeSpans)) } catch { throw error.within("scopeSpans", index) }
                index += 1
            default:  // schema_url, ...
                try reader.skip(tag)
            }
        }
        if !resourceAttributes.isEmpty {
            for index in first..<result.count { result[index].origin.resourceAttributes = resourceAttributes }
        }
    }

    /// A `Resource`'s attributes, appended (a repeated `resource` field is merged).
    private static func resource(_ reader: inout ProtoReader, into attributes: inout [Attribute]) throws(Failure) {
        while !reader.isAtEnd {
            let tag = try reader.tag()
            if tag == 0x0A {  // attributes
                var keyValue = try reader.lengthDelimited(tag)
                do throws(Failure) { attributes.append(try Self.keyValue(&keyValue)) } catch { throw error.within("attributes", attributes.count) }
            } else {  // dropped_attributes_count, entity_refs, ...
                try reader.skip(tag)
            }
        }
    }

    private static func scopeSpans(_ reader: inout ProtoReader) throws(Failure) -> ExportedSpans {
        var origin = ExportOrigin(resourceAttributes: [], scopeName: "", scopeVersion: "")
        var spans: [SpanData] = []
        spans.reserveCapacity(reader.count(0x12, 0, 0).0)
        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x0A:  // scope
                var scope = try reader.lengthDelimited(tag)
                do throws(Failure) { try Self.scope(&scope, into: &origin) } catch { throw error.within("scope") }
            case 0x12:  // spans
                var span = try reader.lengthDelimited(tag)
                do throws(Failure) { spans.append(try Self.span(&span)) } catch { throw error.within("spans", spans.count) }
            default:  // schema_url, ...
                try reader.skip(tag)
            }
        }
        return ExportedSpans(origin: origin, spans: spans)
    }

    private static func scope(_ reader: inout ProtoReader, into origin: inout ExportOrigin) throws(Failure) {
        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x0A: origin.scopeName = try reader.string(tag)
            case 0x12: origin.scopeVersion = try reader.string(tag)
            default: try reader.skip(tag)  // attributes, dropped_attributes_count, ...
            }
        }
    }

    private static func span(_ reader: inout ProtoReader) throws(Failure) -> SpanData {
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

        let counts = reader.count(0x4A, 0x5A, 0x6A)
        if counts.0 > 0 { attributes.reserveCapacity(counts.0) }
        if counts.1 > 0 { events.reserveCapacity(counts.1) }
        if counts.2 > 0 { links.reserveCapacity(counts.2) }

        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x0A: traceID = try reader.traceID(tag, "traceId")
            case 0x12: spanID = try reader.spanID(tag, "spanId")
            case 0x1A: traceState = try reader.string(tag)
            case 0x22: parentSpanID = try reader.parentSpanID(tag)
            case 0x2A: name = try reader.string(tag)
            case 0x30: kind = SpanDataKind(rawValue: Int(Int32(truncatingIfNeeded: try reader.varint()))) ?? .unspecified
            case 0x39: startTime = try reader.fixed64()
            case 0x41: endTime = try reader.fixed64()
            case 0x4A:
                var keyValue = try reader.lengthDelimited(tag)
                do throws(Failure) { attributes.append(try Self.keyValue(&keyValue)) } catch { throw error.within("attributes", attributes.count) }
            case 0x50: droppedAttributes = UInt32(truncatingIfNeeded: try reader.varint())
            case 0x5A:
                var event = try reader.lengthDelimited(tag)
                do throws(Failure) { events.append(try Self.event(&event)) } catch { throw error.within("events", events.count) }
            case 0x60: droppedEvents = UInt32(truncatingIfNeeded: try reader.varint())
            case 0x6A:
                var link = try reader.lengthDelimited(tag)
                do throws(Failure) { links.append(try Self.link(&link)) } catch { throw error.within("links", links.count) }
            case 0x70: droppedLinks = UInt32(truncatingIfNeeded: try reader.varint())
            case 0x7A:
                var status = try reader.lengthDelimited(tag)
                do throws(Failure) { try Self.status(&status, code: &statusCode, message: &statusMessage) } catch { throw error.within("status") }
            case 0x85: traceFlags = UInt8(truncatingIfNeeded: try reader.fixed32())  // flags, field 16
            default: try reader.skip(tag)
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

    private static func event(_ reader: inout ProtoReader) throws(Failure) -> SpanEventData {
        var event = SpanEventData(name: "", timeUnixNano: 0)
        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x09: event.timeUnixNano = try reader.fixed64()
            case 0x12: event.name = try reader.string(tag)
            case 0x1A:
                var keyValue = try reader.lengthDelimited(tag)
                do throws(Failure) { event.attributes.append(try Self.keyValue(&keyValue)) } catch { throw error.within("attributes", event.attributes.count) }
            case 0x20: event.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.varint())
            default: try reader.skip(tag)
            }
        }
        return event
    }

    private static func link(_ reader: inout ProtoReader) throws(Failure) -> SpanLinkData {
        var traceID: TraceID?
        var spanID: UInt64?
        var link = SpanLinkData(traceID: TraceID(high: 0, low: 0), spanID: 0, traceFlags: 0)
        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x0A: traceID = try reader.traceID(tag, "traceId")
            case 0x12: spanID = try reader.spanID(tag, "spanId")
            case 0x1A: link.traceState = try reader.string(tag)
            case 0x22:
                var keyValue = try reader.lengthDelimited(tag)
                do throws(Failure) { link.attributes.append(try Self.keyValue(&keyValue)) } catch { throw error.within("attributes", link.attributes.count) }
            case 0x28: link.droppedAttributesCount = UInt32(truncatingIfNeeded: try reader.varint())
            case 0x35: link.traceFlags = UInt8(truncatingIfNeeded: try reader.fixed32())  // flags, field 6
            default: try reader.skip(tag)
            }
        }
        guard let traceID else { throw Failure(path: "traceId", reason: "missing (a link needs a 16-byte trace id)") }
        guard let spanID else { throw Failure(path: "spanId", reason: "missing (a link needs an 8-byte span id)") }
        link.traceID = traceID
        link.spanID = spanID
        return link
    }

    private static func status(
        _ reader: inout ProtoReader, code: inout SpanDataStatusCode, message: inout String
    ) throws(Failure) {
        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x12: message = try reader.string(tag)
            case 0x18: code = SpanDataStatusCode(rawValue: Int(Int32(truncatingIfNeeded: try reader.varint()))) ?? .unset
            default: try reader.skip(tag)  // deprecated_code, ...
            }
        }
    }

    /// A `KeyValue` as an attribute. Scalar values, by far the most common, are read straight
    /// into an ``AttributeValue``; the others go through ``DecodedAnyValue``.
    @inline(__always)
    private static func keyValue(_ reader: inout ProtoReader) throws(Failure) -> Attribute {
        var key = ""
        var value = AttributeValue.string("")
        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x0A: key = try reader.string(tag)
            case 0x12:
                var anyValue = try reader.lengthDelimited(tag)
                do throws(Failure) { value = try attributeValue(&anyValue) } catch { throw error.within("value") }
            default: try reader.skip(tag)
            }
        }
        return Attribute(key, value)
    }

    /// An attribute's `AnyValue`; the last member set wins.
    @inline(__always)
    private static func attributeValue(_ reader: inout ProtoReader) throws(Failure) -> AttributeValue {
        var value = AttributeValue.string("")
        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x0A: value = .string(try reader.string(tag))
            case 0x10: value = .bool(try reader.varint() != 0)
            case 0x18: value = .int(Int64(bitPattern: try reader.varint()))
            case 0x21: value = .double(Double(bitPattern: try reader.fixed64()))
            case 0x2A, 0x32, 0x3A: value = try member(tag, &reader, depth: 1).attributeValue
            default: try reader.skip(tag)
            }
        }
        return value
    }

    private static func keyValue(_ reader: inout ProtoReader, depth: Int) throws(Failure) -> DecodedKeyValue {
        var key = ""
        var value = DecodedAnyValue.empty
        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x0A: key = try reader.string(tag)
            case 0x12:
                var anyValue = try reader.lengthDelimited(tag)
                do throws(Failure) { value = try Self.anyValue(&anyValue, depth: depth) } catch { throw error.within("value") }
            default: try reader.skip(tag)
            }
        }
        return DecodedKeyValue(key: key, value: value)
    }

    /// An `AnyValue` nested `depth` deep (1 for an attribute's value); the last member set wins.
    private static func anyValue(_ reader: inout ProtoReader, depth: Int) throws(Failure) -> DecodedAnyValue {
        var value = DecodedAnyValue.empty
        while !reader.isAtEnd {
            let tag = try reader.tag()
            switch tag {
            case 0x0A, 0x10, 0x18, 0x21, 0x2A, 0x32, 0x3A: value = try member(tag, &reader, depth: depth)
            default: try reader.skip(tag)
            }
        }
        return value
    }

    /// The `AnyValue` member whose tag was just read (one of the seven `value` fields), in an
    /// `AnyValue` nested `depth` deep.
    private static func member(_ tag: UInt32, _ reader: inout ProtoReader, depth: Int) throws(Failure) -> DecodedAnyValue {
        switch tag {
        case 0x0A: return .string(try reader.string(tag))
        case 0x10: return .bool(try reader.varint() != 0)
        case 0x18: return .int(Int64(bitPattern: try reader.varint()))
        case 0x21: return .double(Double(bitPattern: try reader.fixed64()))
        case 0x3A: return .bytes(try reader.bytes(tag))
        default:  // 0x2A array_value (ArrayValue), 0x32 kvlist_value (KeyValueList)
            let name = tag == 0x2A ? "arrayValue" : "kvlistValue"
            guard depth < OTLPTraceDecoder.maximumValueDepth else {
                throw Failure(path: name, reason: "values nested more than \(OTLPTraceDecoder.maximumValueDepth) deep")
            }
            var list = try reader.lengthDelimited(tag)
            do throws(Failure) { return try values(&list, keyValues: tag == 0x32, depth: depth + 1) } catch { throw error.within(name) }
        }
    }

    /// An `ArrayValue`'s or a `KeyValueList`'s `values` (field 1, repeated).
    private static func values(_ reader: inout ProtoReader, keyValues: Bool, depth: Int) throws(Failure) -> DecodedAnyValue {
        var elements: [DecodedAnyValue] = []
        var members: [DecodedKeyValue] = []
        while !reader.isAtEnd {
            let tag = try reader.tag()
            if tag == 0x0A {
                var element = try reader.lengthDelimited(tag)
                if keyValues {
                    do throws(Failure) { members.append(try keyValue(&element, depth: depth)) } catch { throw error.within("values", members.count) }
                } else {
                    do throws(Failure) { elements.append(try anyValue(&element, depth: depth)) } catch { throw error.within("values", elements.count) }
                }
            } else {
                try reader.skip(tag)
            }
        }
        return keyValues ? .keyValueList(members) : .array(elements)
    }
}

/// Reads protobuf's wire format from raw memory, within `position..<end`. `base` is the start
/// of the whole input, for the byte offsets in error messages.
struct ProtoReader {
    typealias Failure = OTLPDecodingError

    let base: UnsafeRawPointer
    private(set) var position: UnsafeRawPointer
    let end: UnsafeRawPointer
    /// Where the last tag read started, and the tag.
    private var tagStart: UnsafeRawPointer
    private var lastTag: UInt32 = 0

    /// Where strings are looked up (and kept) by their bytes.
    let strings: StringTable

    init(base: UnsafeRawPointer, position: UnsafeRawPointer, end: UnsafeRawPointer, strings: StringTable) {
        self.base = base
        self.position = position
        self.end = end
        self.strings = strings
        tagStart = position
    }

    @inline(__always)
    var isAtEnd: Bool { position >= end }

    private func offset(_ pointer: UnsafeRawPointer) -> Int { pointer - base }

    /// A base-128 varint of at most 10 bytes.
    @inline(__always)
    mutating func varint() throws(Failure) -> UInt64 {
        if position < end {
            let first = position.load(as: UInt8.self)
            if first < 0x80 {
                position += 1
                return UInt64(first)
            }
        }
        return try longVarint()
    }

    @inline(never)
    private mutating func longVarint() throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var cursor = position
        while true {
            guard cursor < end else {
                throw Failure(reason: "truncated varint at byte \(offset(position))")
            }
            let byte = cursor.load(as: UInt8.self)
            cursor += 1
            if shift == 63 && byte > 1 {
                throw Failure(reason: "varint longer than 64 bits at byte \(offset(position))")
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        position = cursor
        return result
    }

    /// A field's tag: field number and wire type. Field number 0, and numbers beyond 2^29 - 1,
    /// throw.
    @inline(__always)
    mutating func tag() throws(Failure) -> UInt32 {
        tagStart = position
        let tag = try varint()
        guard tag >> 3 != 0, tag <= UInt64(UInt32.max) else {
            throw Failure(reason: "invalid field number \(tag >> 3) at byte \(offset(tagStart))")
        }
        lastTag = UInt32(truncatingIfNeeded: tag)
        return lastTag
    }

    @inline(__always)
    mutating func fixed64() throws(Failure) -> UInt64 {
        guard end - position >= 8 else { throw truncated(8) }
        let value = UInt64(littleEndian: position.loadUnaligned(as: UInt64.self))
        position += 8
        return value
    }

    @inline(__always)
    mutating func fixed32() throws(Failure) -> UInt32 {
        guard end - position >= 4 else { throw truncated(4) }
        let value = UInt32(littleEndian: position.loadUnaligned(as: UInt32.self))
        position += 4
        return value
    }

    @inline(never)
    private func truncated(_ size: Int) -> Failure {
        let kind = size == 8 ? "fixed64" : "fixed32"
        return Failure(reason: "truncated \(kind) field \(lastTag >> 3) at byte \(offset(tagStart)) (\(end - position) bytes left)")
    }

    /// The contents of the length-delimited field whose tag was just read, as a raw buffer
    /// within bounds; the reader moves past them.
    @inline(__always)
    mutating func lengthDelimitedBytes(_ tag: UInt32) throws(Failure) -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw truncated(tag, length) }
        let contents = UnsafeRawBufferPointer(start: position, count: Int(length))
        position += Int(length)
        return contents
    }

    /// A reader of the contents of the length-delimited field whose tag was just read; this
    /// reader moves past them.
    @inline(__always)
    mutating func lengthDelimited(_ tag: UInt32) throws(Failure) -> ProtoReader {
        let contents = try lengthDelimitedBytes(tag)
        let start = contents.baseAddress ?? position
        return ProtoReader(base: base, position: start, end: start + contents.count, strings: strings)
    }

    @inline(never)
    private func truncated(_ tag: UInt32, _ length: UInt64) -> Failure {
        Failure(reason: "truncated length-delimited field \(tag >> 3) at byte \(offset(tagStart)) (length \(length), \(end - position) bytes left)")
    }

    /// A string field (through the string table); ill-formed UTF-8 is repaired (U+FFFD).
    @inline(__always)
    mutating func string(_ tag: UInt32) throws(Failure) -> String {
        let contents = try lengthDelimitedBytes(tag)
        guard let start = contents.baseAddress, contents.count > 0 else { return "" }
        return strings.string(start, contents.count)
    }

    mutating func bytes(_ tag: UInt32) throws(Failure) -> [UInt8] {
        [UInt8](try lengthDelimitedBytes(tag))
    }

    @inline(__always)
    mutating func traceID(_ tag: UInt32, _ name: String) throws(Failure) -> TraceID {
        let contents = try lengthDelimitedBytes(tag)
        guard contents.count == 16, let start = contents.baseAddress else {
            throw Failure(path: name, reason: "expected 16 bytes, got \(contents.count) (at byte \(offset(tagStart)))")
        }
        return TraceID(
            high: UInt64(bigEndian: start.loadUnaligned(as: UInt64.self)),
            low: UInt64(bigEndian: start.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        )
    }

    @inline(__always)
    mutating func spanID(_ tag: UInt32, _ name: String) throws(Failure) -> UInt64 {
        let contents = try lengthDelimitedBytes(tag)
        guard contents.count == 8, let start = contents.baseAddress else {
            throw Failure(path: name, reason: "expected 8 bytes, got \(contents.count) (at byte \(offset(tagStart)))")
        }
        return UInt64(bigEndian: start.loadUnaligned(as: UInt64.self))
    }

    /// A parent span id: 8 bytes, or none (a root span, 0).
    @inline(__always)
    mutating func parentSpanID(_ tag: UInt32) throws(Failure) -> UInt64 {
        let contents = try lengthDelimitedBytes(tag)
        if contents.isEmpty { return 0 }
        guard contents.count == 8, let start = contents.baseAddress else {
            throw Failure(path: "parentSpanId", reason: "expected 8 bytes or none, got \(contents.count) (at byte \(offset(tagStart)))")
        }
        return UInt64(bigEndian: start.loadUnaligned(as: UInt64.self))
    }

    /// Skips the field whose tag was just read.
    mutating func skip(_ tag: UInt32) throws(Failure) {
        switch tag & 7 {
        case 0: _ = try varint()
        case 1: _ = try fixed64()
        case 2: _ = try lengthDelimitedBytes(tag)
        case 5: _ = try fixed32()
        case 3, 4:
            throw Failure(reason: "group (wire type \(tag & 7)) in field \(tag >> 3) at byte \(offset(tagStart)): groups are not supported")
        default:
            throw Failure(reason: "invalid wire type \(tag & 7) in field \(tag >> 3) at byte \(offset(tagStart))")
        }
    }

    /// How many times each of three tags (0 for none) occurs in the rest of this message,
    /// without moving this reader: a hint for reserving capacity. It stops at the first
    /// malformed field (which the reading that follows reports).
    func count(_ first: UInt32, _ second: UInt32, _ third: UInt32) -> (Int, Int, Int) {
        var counts = (0, 0, 0)
        var cursor = position
        while cursor < end {
            // The tag: one byte, or two (field numbers 16 to 2047); longer ones end the count.
            var tag = UInt32(cursor.load(as: UInt8.self))
            cursor += 1
            if tag >= 0x80 {
                guard cursor < end else { break }
                let next = UInt32(cursor.load(as: UInt8.self))
                guard next < 0x80 else { break }
                tag = tag & 0x7F | next << 7
                cursor += 1
            }
            if tag == first {
                counts.0 += 1
            } else if tag == second {
                counts.1 += 1
            } else if tag == third {
                counts.2 += 1
            }
            switch tag & 7 {
            case 0:
                while cursor < end && cursor.load(as: UInt8.self) >= 0x80 { cursor += 1 }
                cursor += 1
            case 1:
                cursor += 8
            case 2:
                var length = 0
                var shift = 0
                while cursor < end && shift < 35 {
                    let byte = cursor.load(as: UInt8.self)
                    cursor += 1
                    length |= Int(byte & 0x7F) << shift
                    if byte < 0x80 { break }
                    shift += 7
                }
                guard shift < 35, length <= end - cursor else { return counts }
                cursor += length
            case 5:
                cursor += 4
            default:
                return counts
            }
        }
        return counts
    }
}
