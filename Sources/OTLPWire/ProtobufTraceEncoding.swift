/// The protobuf binary encoding of `ExportTraceServiceRequest`, written by hand.
///
/// Two passes: ``ProtoSize`` computes the exact size of every length-delimited message,
/// then ``ProtoWriter`` writes the request front to back into one buffer allocated with
/// exactly that size. Nothing is encoded into temporary buffers and nothing is moved.
/// The sizes of the spans are computed once and kept; the (small) sizes of a span's
/// attributes, events, links and status are computed again while the span is written,
/// which is cheaper than storing them.
///
/// Field numbers and wire types (opentelemetry-proto 1.x, checked against the descriptors of
/// the `opentelemetry-proto` 1.27.0 Python package):
///
/// | message                     | fields                                                                                                                                                                                                                                                                                                                                              |
/// |-----------------------------|-----------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------------|
/// | `ExportTraceServiceRequest` | 1 resource_spans (message, repeated)                                                                                                                                                                                                                                                                                                                |
/// | `ResourceSpans`             | 1 resource (message), 2 scope_spans (message, repeated)                                                                                                                                                                                                                                                                                             |
/// | `Resource`                  | 1 attributes (KeyValue, repeated)                                                                                                                                                                                                                                                                                                                   |
/// | `ScopeSpans`                | 1 scope (message), 2 spans (message, repeated)                                                                                                                                                                                                                                                                                                      |
/// | `InstrumentationScope`      | 1 name, 2 version (string)                                                                                                                                                                                                                                                                                                                          |
/// | `Span`                      | 1 trace_id, 2 span_id (bytes), 3 trace_state (string), 4 parent_span_id (bytes), 5 name (string), 6 kind (enum), 7 start_time_unix_nano, 8 end_time_unix_nano (fixed64), 9 attributes (KeyValue, repeated), 10 dropped_attributes_count (uint32), 11 events (repeated), 12 dropped_events_count, 13 links (repeated), 14 dropped_links_count, 15 status, 16 flags (fixed32) |
/// | `Span.Event`                | 1 time_unix_nano (fixed64), 2 name, 3 attributes, 4 dropped_attributes_count                                                                                                                                                                                                                                                                        |
/// | `Span.Link`                 | 1 trace_id, 2 span_id, 3 trace_state, 4 attributes, 5 dropped_attributes_count, 6 flags (fixed32)                                                                                                                                                                                                                                                   |
/// | `Status`                    | 2 message (string), 3 code (enum)                                                                                                                                                                                                                                                                                                                   |
/// | `KeyValue`                  | 1 key (string), 2 value (AnyValue)                                                                                                                                                                                                                                                                                                                  |
/// | `AnyValue` (oneof)          | 1 string_value, 2 bool_value, 3 int_value (int64), 4 double_value (double), 5 array_value (ArrayValue)                                                                                                                                                                                                                                              |
/// | `ArrayValue`                | 1 values (AnyValue, repeated)                                                                                                                                                                                                                                                                                                                       |
///
/// Fields are written in ascending field-number order (so `Span.flags`, field 16, comes
/// last), which is the order protobuf's own serializers use.
enum ProtobufTraceEncoding {
    static func encode(_ spans: [SpanData], origin: ExportOrigin) -> [UInt8] {
        if spans.isEmpty { return [] }
        // Spans are read in place through pointers, never copied: a copy retains every string
        // and array of a span, and releases them again.
        return spans.withUnsafeBufferPointer { encode($0, origin: origin) }
    }

    private static func encode(_ spans: UnsafeBufferPointer<SpanData>, origin: ExportOrigin) -> [UInt8] {

        // Pass 1: sizes.
        var spanSizes = [Int]()
        spanSizes.reserveCapacity(spans.count)
        var spansTotal = 0
        for index in spans.indices {
            let size = ProtoSize.span(spans.baseAddress! + index)
            spanSizes.append(size)
            spansTotal += ProtoSize.field(size)
        }
        let envelope = Envelope(origin: origin, spansSize: spansTotal)

        // Pass 2: bytes.
        return [UInt8](unsafeUninitializedCapacity: envelope.total) { buffer, initializedCount in
            let start = buffer.baseAddress!
            var writer = ProtoWriter(start)
            envelope.write(origin, into: &writer)
            for index in spans.indices {
                writer.lengthPrefix(0x12, spanSizes[index])  // ScopeSpans.spans
                writer.span(spans.baseAddress! + index)
            }
            // A mismatch would be a bug in this file; never hand out a corrupt message.
            precondition(writer.position - start == envelope.total, "OTLP protobuf size mismatch")
            initializedCount = envelope.total
        }
    }

    /// The request around the spans: one `ResourceSpans` with the origin's resource, one
    /// `ScopeSpans` with its scope, whose spans (`spansSize` bytes of `ScopeSpans.spans` fields)
    /// follow what `write` writes.
    struct Envelope {
        let resourceSize: Int
        let resourceSpansSize: Int
        let scopeSize: Int
        let scopeSpansSize: Int
        /// The whole request's size, spans included.
        let total: Int

        init(origin: ExportOrigin, spansSize: Int) {
            scopeSize = ProtoSize.scope(origin)
            scopeSpansSize = ProtoSize.field(scopeSize) + spansSize
            resourceSize = ProtoSize.attributes(origin.resourceAttributes)
            resourceSpansSize = ProtoSize.field(resourceSize) + ProtoSize.field(scopeSpansSize)
            total = ProtoSize.field(resourceSpansSize)
        }

        func write(_ origin: ExportOrigin, into writer: inout ProtoWriter) {
            writer.lengthPrefix(0x0A, resourceSpansSize)  // ExportTraceServiceRequest.resource_spans
            writer.lengthPrefix(0x0A, resourceSize)  // ResourceSpans.resource
            writer.attributes(0x0A, origin.resourceAttributes)  // Resource.attributes
            writer.lengthPrefix(0x12, scopeSpansSize)  // ResourceSpans.scope_spans
            writer.lengthPrefix(0x0A, scopeSize)  // ScopeSpans.scope
            writer.string(0x0A, origin.scopeName)
            writer.string(0x12, origin.scopeVersion)
        }
    }
}

/// Exact encoded sizes (in bytes) of the contents of OTLP messages, without their own tag and
/// length prefix. All tags used here fit in one byte, except `Span.flags` (two bytes).
enum ProtoSize {
    /// The size of `value` as a base-128 varint.
    @inline(__always)
    static func varint(_ value: UInt64) -> Int {
        // 1 byte per started group of 7 bits; 0 takes one byte.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    @inline(__always)
    static func varint(_ value: Int) -> Int { varint(UInt64(truncatingIfNeeded: value)) }

    /// A length-delimited field with a one-byte tag whose contents take `size` bytes.
    @inline(__always)
    static func field(_ size: Int) -> Int { 1 + varint(size) + size }

    /// An optional (proto3 implicit presence) string field with a one-byte tag.
    @inline(__always)
    static func string(_ value: String) -> Int {
        let count = value.utf8.count
        return count == 0 ? 0 : field(count)
    }

    /// An optional uint32 field with a one-byte tag.
    @inline(__always)
    static func uint32(_ value: UInt32) -> Int { value == 0 ? 0 : 1 + varint(UInt64(value)) }

    /// `AnyValue`'s contents. The oneof member is always written, even when it holds a default.
    /// (Attributes, links and events are read in place, through pointers: a copy of one retains
    /// its strings and arrays, and releases them again, a third of the encoding's time.)
    @inline(__always)
    static func anyValue(_ attribute: UnsafePointer<Attribute>) -> Int {
        switch attribute.pointee.value {
        case .string(let string):
            return field(string.utf8.count)
        case .bool:
            return 2
        case .int(let int):
            return 1 + varint(UInt64(bitPattern: int))
        case .double:
            return 9
        case .stringArray(let array):
            var total = 0
            for element in array { total += field(field(element.utf8.count)) }
            return field(total)
        case .boolArray(let array):
            return field(array.count * 4)  // 0A 02 10 0x
        case .intArray(let array):
            var total = 0
            for element in array { total += field(1 + varint(UInt64(bitPattern: element))) }
            return field(total)
        case .doubleArray(let array):
            return field(array.count * 11)  // 0A 09 21 xx*8
        }
    }

    /// `KeyValue`'s contents.
    @inline(__always)
    static func keyValue(_ attribute: UnsafePointer<Attribute>) -> Int {
        string(attribute.pointee.key) + field(anyValue(attribute))
    }

    /// A repeated `KeyValue` field (one-byte tag), all its occurrences.
    @inline(__always)
    static func attributes(_ attributes: [Attribute]) -> Int {
        attributes.withUnsafeBufferPointer { buffer in
            var total = 0
            for index in buffer.indices { total += field(keyValue(buffer.baseAddress! + index)) }
            return total
        }
    }

    static func scope(_ origin: ExportOrigin) -> Int {
        string(origin.scopeName) + string(origin.scopeVersion)
    }

    static func event(_ event: UnsafePointer<SpanEventData>) -> Int {
        (event.pointee.timeUnixNano == 0 ? 0 : 9) + string(event.pointee.name) + attributes(event.pointee.attributes)
            + uint32(event.pointee.droppedAttributesCount)
    }

    static func link(_ link: UnsafePointer<SpanLinkData>) -> Int {
        18 + 10 + string(link.pointee.traceState) + attributes(link.pointee.attributes) + uint32(link.pointee.droppedAttributesCount)
            + (link.pointee.traceFlags == 0 ? 0 : 5)
    }

    @inline(__always)
    static func hasStatus(_ span: UnsafePointer<SpanData>) -> Bool {
        span.pointee.statusCode != .unset || !span.pointee.statusMessage.isEmpty
    }

    @inline(__always)
    static func status(_ span: UnsafePointer<SpanData>) -> Int {
        string(span.pointee.statusMessage) + (span.pointee.statusCode == .unset ? 0 : 2)
    }

    static func span(_ span: UnsafePointer<SpanData>) -> Int {
        var size = 18 + 10  // trace_id, span_id
        size += string(span.pointee.traceState)
        if span.pointee.parentSpanID != 0 { size += 10 }
        size += string(span.pointee.name)
        if span.pointee.kind != .unspecified { size += 2 }
        if span.pointee.startTimeUnixNano != 0 { size += 9 }
        if span.pointee.endTimeUnixNano != 0 { size += 9 }
        size += attributes(span.pointee.attributes)
        size += uint32(span.pointee.droppedAttributesCount)
        span.pointee.events.withUnsafeBufferPointer { events in
            for index in events.indices { size += field(event(events.baseAddress! + index)) }
        }
        size += uint32(span.pointee.droppedEventsCount)
        span.pointee.links.withUnsafeBufferPointer { links in
            for index in links.indices { size += field(link(links.baseAddress! + index)) }
        }
        size += uint32(span.pointee.droppedLinksCount)
        if hasStatus(span) { size += field(status(span)) }
        if span.pointee.traceFlags != 0 { size += 6 }  // two-byte tag + fixed32
        return size
    }
}

/// Writes protobuf fields at a raw pointer into a buffer that ``ProtoSize`` sized exactly.
struct ProtoWriter {
    private(set) var position: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>) { position = start }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        position.pointee = value
        position += 1
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            position.pointee = UInt8(truncatingIfNeeded: value) | 0x80
            position += 1
            value >>= 7
        }
        position.pointee = UInt8(truncatingIfNeeded: value)
        position += 1
    }

    @inline(__always)
    mutating func lengthPrefix(_ tag: UInt8, _ size: Int) {
        byte(tag)
        varint(UInt64(truncatingIfNeeded: size))
    }

    @inline(__always)
    mutating func fixed64(_ value: UInt64) {
        UnsafeMutableRawPointer(position).storeBytes(of: value.littleEndian, as: UInt64.self)
        position += 8
    }

    @inline(__always)
    mutating func fixed32(_ value: UInt32) {
        UnsafeMutableRawPointer(position).storeBytes(of: value.littleEndian, as: UInt32.self)
        position += 4
    }

    /// An 8-byte id, most significant byte first.
    @inline(__always)
    mutating func id64(_ tag: UInt8, _ id: UInt64) {
        byte(tag)
        byte(8)
        UnsafeMutableRawPointer(position).storeBytes(of: id.bigEndian, as: UInt64.self)
        position += 8
    }

    /// A 16-byte trace id: `high` then `low`, each most significant byte first.
    @inline(__always)
    mutating func traceID(_ tag: UInt8, _ id: TraceID) {
        byte(tag)
        byte(16)
        UnsafeMutableRawPointer(position).storeBytes(of: id.high.bigEndian, as: UInt64.self)
        UnsafeMutableRawPointer(position + 8).storeBytes(of: id.low.bigEndian, as: UInt64.self)
        position += 16
    }

    /// The UTF-8 bytes of `value` (`count` of them), without tag or length.
    @inline(__always)
    mutating func utf8(_ value: String, count: Int) {
        guard count > 0 else { return }
        var target = position
        let copied: Bool? = value.utf8.withContiguousStorageIfAvailable { source in
            target.update(from: source.baseAddress!, count: count)
            return true
        }
        if copied == nil {
            for unit in value.utf8 {
                target.pointee = unit
                target += 1
            }
        }
        position += count
    }

    /// A string field that is always written (an `AnyValue` oneof member).
    @inline(__always)
    mutating func requiredString(_ tag: UInt8, _ value: String) {
        let count = value.utf8.count
        byte(tag)
        varint(UInt64(truncatingIfNeeded: count))
        utf8(value, count: count)
    }

    /// An optional string field: nothing when empty.
    @inline(__always)
    mutating func string(_ tag: UInt8, _ value: String) {
        let count = value.utf8.count
        guard count > 0 else { return }
        byte(tag)
        varint(UInt64(truncatingIfNeeded: count))
        utf8(value, count: count)
    }

    /// An optional uint32 field: nothing when 0.
    @inline(__always)
    mutating func uint32(_ tag: UInt8, _ value: UInt32) {
        guard value != 0 else { return }
        byte(tag)
        varint(UInt64(value))
    }

    /// An optional fixed64 field: nothing when 0.
    @inline(__always)
    mutating func fixed64(_ tag: UInt8, _ value: UInt64) {
        guard value != 0 else { return }
        byte(tag)
        fixed64(value)
    }

    /// `AnyValue`'s contents (one oneof member).
    @inline(__always)
    mutating func anyValue(_ attribute: UnsafePointer<Attribute>) {
        switch attribute.pointee.value {
        case .string(let string):
            requiredString(0x0A, string)
        case .bool(let bool):
            byte(0x10)
            byte(bool ? 1 : 0)
        case .int(let int):
            byte(0x18)
            varint(UInt64(bitPattern: int))
        case .double(let double):
            byte(0x21)
            fixed64(double.bitPattern)
        case .stringArray(let array):
            var total = 0
            for element in array { total += ProtoSize.field(ProtoSize.field(element.utf8.count)) }
            lengthPrefix(0x2A, total)
            for element in array {
                let count = element.utf8.count
                lengthPrefix(0x0A, ProtoSize.field(count))  // ArrayValue.values
                requiredString(0x0A, element)
            }
        case .boolArray(let array):
            lengthPrefix(0x2A, array.count * 4)
            for element in array {
                byte(0x0A)
                byte(2)
                byte(0x10)
                byte(element ? 1 : 0)
            }
        case .intArray(let array):
            var total = 0
            for element in array { total += ProtoSize.field(1 + ProtoSize.varint(UInt64(bitPattern: element))) }
            lengthPrefix(0x2A, total)
            for element in array {
                let bits = UInt64(bitPattern: element)
                lengthPrefix(0x0A, 1 + ProtoSize.varint(bits))
                byte(0x18)
                varint(bits)
            }
        case .doubleArray(let array):
            lengthPrefix(0x2A, array.count * 11)
            for element in array {
                byte(0x0A)
                byte(9)
                byte(0x21)
                fixed64(element.bitPattern)
            }
        }
    }

    /// A repeated `KeyValue` field, all its occurrences.
    @inline(__always)
    mutating func attributes(_ tag: UInt8, _ attributes: [Attribute]) {
        attributes.withUnsafeBufferPointer { attributes in
            for index in attributes.indices {
                keyValue(tag, attributes.baseAddress! + index)
            }
        }
    }

    @inline(__always)
    private mutating func keyValue(_ tag: UInt8, _ attribute: UnsafePointer<Attribute>) {
        let valueSize = ProtoSize.anyValue(attribute)
        lengthPrefix(tag, ProtoSize.string(attribute.pointee.key) + ProtoSize.field(valueSize))
        string(0x0A, attribute.pointee.key)  // KeyValue.key
        lengthPrefix(0x12, valueSize)  // KeyValue.value
        anyValue(attribute)
    }

    /// `Span.Event`'s contents.
    mutating func event(_ event: UnsafePointer<SpanEventData>) {
        fixed64(0x09, event.pointee.timeUnixNano)
        string(0x12, event.pointee.name)
        attributes(0x1A, event.pointee.attributes)
        uint32(0x20, event.pointee.droppedAttributesCount)
    }

    /// `Span.Link`'s contents.
    mutating func link(_ link: UnsafePointer<SpanLinkData>) {
        traceID(0x0A, link.pointee.traceID)
        id64(0x12, link.pointee.spanID)
        string(0x1A, link.pointee.traceState)
        attributes(0x22, link.pointee.attributes)
        uint32(0x28, link.pointee.droppedAttributesCount)
        if link.pointee.traceFlags != 0 {
            byte(0x35)  // flags: field 6, fixed32
            fixed32(UInt32(link.pointee.traceFlags))
        }
    }

    /// `Span`'s contents.
    mutating func span(_ span: UnsafePointer<SpanData>) {
        traceID(0x0A, span.pointee.traceID)
        id64(0x12, span.pointee.spanID)
        string(0x1A, span.pointee.traceState)
        if span.pointee.parentSpanID != 0 { id64(0x22, span.pointee.parentSpanID) }
        string(0x2A, span.pointee.name)
        if span.pointee.kind != .unspecified {
            byte(0x30)
            byte(UInt8(truncatingIfNeeded: span.pointee.kind.rawValue))
        }
        fixed64(0x39, span.pointee.startTimeUnixNano)
        fixed64(0x41, span.pointee.endTimeUnixNano)
        attributes(0x4A, span.pointee.attributes)
        uint32(0x50, span.pointee.droppedAttributesCount)
        span.pointee.events.withUnsafeBufferPointer { events in
            for index in events.indices {
                let event = events.baseAddress! + index
                lengthPrefix(0x5A, ProtoSize.event(event))
                self.event(event)
            }
        }
        uint32(0x60, span.pointee.droppedEventsCount)
        span.pointee.links.withUnsafeBufferPointer { links in
            for index in links.indices {
                let link = links.baseAddress! + index
                lengthPrefix(0x6A, ProtoSize.link(link))
                self.link(link)
            }
        }
        uint32(0x70, span.pointee.droppedLinksCount)
        if ProtoSize.hasStatus(span) {
            lengthPrefix(0x7A, ProtoSize.status(span))
            string(0x12, span.pointee.statusMessage)
            if span.pointee.statusCode != .unset {
                byte(0x18)
                byte(UInt8(truncatingIfNeeded: span.pointee.statusCode.rawValue))
            }
        }
        if span.pointee.traceFlags != 0 {
            byte(0x85)  // flags: field 16, fixed32 (two-byte tag)
            byte(0x01)
            fixed32(UInt32(span.pointee.traceFlags))
        }
    }
}
