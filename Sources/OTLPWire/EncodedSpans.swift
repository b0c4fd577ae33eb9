/// Spans already encoded as protobuf, each as a `ScopeSpans.spans` field (tag, length, `Span`),
/// one after the other: what a tracer keeps when it encodes each span as it ends, while the
/// span's strings and arrays are still in the cache, instead of keeping its `SpanData` until the
/// export. `OTLPTraceEncoder.protobuf(_:origin:)` wraps them into a request with one copy.
///
/// A span is encoded in one pass (``SpanFieldWriter``): each length is written after its
/// contents, in the byte kept for it, and the contents move only when the length needs more
/// (or fewer) bytes. The bytes are those `OTLPTraceEncoder.protobuf(_:origin:)` writes for the
/// span's values, which size everything first and then write it.
public struct EncodedSpans: Sendable {
    private var store: ByteStore
    /// Where each span's field ends in the bytes.
    private var ends: [Int] = []

    public init() {
        store = ByteStore(capacity: 0)
    }

    /// Room for `spans` spans of about `bytesPerSpan` bytes each.
    public init(reservingSpans spans: Int, bytes: Int) {
        store = ByteStore(capacity: bytes)
        ends.reserveCapacity(spans)
    }

    public var count: Int { ends.count }
    public var isEmpty: Bool { ends.isEmpty }

    /// The encoded fields, back to back (a copy).
    public var bytes: [UInt8] { store.withBytes { Array($0) } }

    /// How many bytes the encoded fields take.
    public var byteCount: Int { store.count }

    /// Calls `body` with the encoded fields, back to back.
    public func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try store.withBytes(body)
    }

    /// Encodes `span` at the end. The bytes are those `OTLPTraceEncoder.protobuf` writes for it.
    public mutating func append(_ span: SpanData) {
        if !isKnownUniquelyReferenced(&store) { store = store.copy() }
        withUnsafePointer(to: span) { span in
            var writer = SpanFieldWriter(store)
            writer.spanField(span)
        }
        ends.append(store.count)
    }

    /// The same spans in runs of at most `maxCount`, in order.
    public func split(maxCount: Int) -> [EncodedSpans] {
        guard count > maxCount, maxCount > 0 else { return [self] }
        var parts: [EncodedSpans] = []
        var first = 0
        var startByte = 0
        while first < count {
            let last = min(first + maxCount, count)
            let endByte = ends[last - 1]
            var part = EncodedSpans(reservingSpans: last - first, bytes: endByte - startByte)
            store.withBytes { bytes in part.store.append(UnsafeBufferPointer(rebasing: bytes[startByte..<endByte])) }
            part.ends = ends[first..<last].map { $0 - startByte }
            parts.append(part)
            startByte = endByte
            first = last
        }
        return parts
    }
}

/// Growable bytes written through raw pointers (an array cannot be written past its count).
/// Owned by one `EncodedSpans`, copied before a write when shared.
final class ByteStore: @unchecked Sendable {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Room for `extra` more bytes after `count`.
    @inline(__always)
    func ensure(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        ensure(bytes.count)
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    func copy() -> ByteStore {
        let copy = ByteStore(capacity: capacity)
        copy.append(UnsafeBufferPointer(start: base, count: count))
        return copy
    }

    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(start: base, count: count))
    }
}

/// Writes one span's `ScopeSpans.spans` field at the end of a `ByteStore`, in one pass.
///
/// Room is made (`ensure`) before each part for as many bytes as the part can take, so the
/// writes in between check nothing. Room made holds only until the next `ensure` (which may
/// move the bytes and make no more room than it is asked for): a part that calls a checked
/// part makes room again for what it writes after it. A length-delimited field keeps one byte for its length (two
/// for the span, which is usually 128 bytes or more) and writes it once its contents are
/// written (`close`); a length that needs another count of bytes moves the contents.
struct SpanFieldWriter {
    private let store: ByteStore

    init(_ store: ByteStore) { self.store = store }

    // MARK: Unchecked writes (after `ensure`; debug builds check the room, so tests catch a miscount)

    @inline(__always)
    private func assertRoom(_ count: Int) {
        assert(store.count + count <= store.capacity, "no room made for \(count) bytes")
    }

    @inline(__always)
    private func byte(_ value: UInt8) {
        assertRoom(1)
        store.base[store.count] = value
        store.count += 1
    }

    @inline(__always)
    private func varint(_ value: UInt64) {
        assertRoom(ProtoSize.varint(value))
        var value = value
        var position = store.base + store.count
        while value >= 0x80 {
            position.pointee = UInt8(truncatingIfNeeded: value) | 0x80
            position += 1
            value >>= 7
        }
        position.pointee = UInt8(truncatingIfNeeded: value)
        store.count = position + 1 - store.base
    }

    /// An integer's bytes as they are in memory (callers pick the byte order).
    @inline(__always)
    private func raw<Integer: FixedWidthInteger>(_ value: Integer) {
        assertRoom(MemoryLayout<Integer>.size)
        UnsafeMutableRawPointer(store.base + store.count).storeBytes(of: value, as: Integer.self)
        store.count += MemoryLayout<Integer>.size
    }

    @inline(__always)
    private func fixed64(_ value: UInt64) { raw(value.littleEndian) }

    @inline(__always)
    private func fixed32(_ value: UInt32) { raw(value.littleEndian) }

    /// An 8-byte id, most significant byte first.
    @inline(__always)
    private func id64(_ tag: UInt8, _ id: UInt64) {
        byte(tag)
        byte(8)
        raw(id.bigEndian)
    }

    /// A 16-byte trace id: `high` then `low`, each most significant byte first.
    @inline(__always)
    private func traceID(_ tag: UInt8, _ id: TraceID) {
        byte(tag)
        byte(16)
        raw(id.high.bigEndian)
        raw(id.low.bigEndian)
    }

    /// A string's tag, length and UTF-8 bytes (`count` of them, room made for them).
    @inline(__always)
    private func stringField(_ tag: UInt8, _ value: String, count: Int) {
        byte(tag)
        varint(UInt64(truncatingIfNeeded: count))
        guard count > 0 else { return }
        assertRoom(count)
        let target = store.base + store.count
        let copied: Bool? = value.utf8.withContiguousStorageIfAvailable { source in
            target.update(from: source.baseAddress!, count: count)
            return true
        }
        if copied == nil {
            var position = target
            for unit in value.utf8 {
                position.pointee = unit
                position += 1
            }
        }
        store.count += count
    }

    // MARK: Checked parts

    /// The most bytes a string field of `count` bytes takes: tag, a length of up to 5 bytes, bytes.
    @inline(__always)
    private static func stringRoom(_ count: Int) -> Int { 6 + count }

    /// An optional string field: nothing when empty.
    @inline(__always)
    private func string(_ tag: UInt8, _ value: String) {
        let count = value.utf8.count
        guard count > 0 else { return }
        store.ensure(Self.stringRoom(count))
        stringField(tag, value, count: count)
    }

    /// An optional uint32 field: nothing when 0.
    @inline(__always)
    private func uint32(_ tag: UInt8, _ value: UInt32) {
        guard value != 0 else { return }
        store.ensure(6)
        byte(tag)
        varint(UInt64(value))
    }

    /// Writes `tag` and keeps `reserved` bytes for the length; returns where the length goes.
    /// Room must have been made for both.
    @inline(__always)
    private func open(_ tag: UInt8, reserved: Int = 1) -> Int {
        byte(tag)
        let mark = store.count
        assertRoom(reserved)
        store.count += reserved
        return mark
    }

    /// Writes the length of the contents written since `open` (at `mark`), moving them when the
    /// length takes other than `reserved` bytes.
    @inline(__always)
    private func close(_ mark: Int, reserved: Int = 1) {
        let length = store.count - mark - reserved
        if reserved == 1, length < 0x80 {
            store.base[mark] = UInt8(truncatingIfNeeded: length)
            return
        }
        let needed = ProtoSize.varint(length)
        if needed != reserved {
            if needed > reserved { store.ensure(needed - reserved) }
            // The regions overlap: a memmove.
            UnsafeMutableRawPointer(store.base + mark + needed).copyMemory(from: store.base + mark + reserved, byteCount: length)
            store.count += needed - reserved
        }
        var value = UInt64(length)
        var position = store.base + mark
        while value >= 0x80 {
            position.pointee = UInt8(truncatingIfNeeded: value) | 0x80
            position += 1
            value >>= 7
        }
        position.pointee = UInt8(truncatingIfNeeded: value)
    }

    /// A `KeyValue` field: the key, then the value as an `AnyValue` (whose oneof member is always
    /// written, even when it holds a default).
    @inline(__always)
    private func keyValue(_ tag: UInt8, _ attribute: UnsafePointer<Attribute>) {
        let keyCount = attribute.pointee.key.utf8.count
        // The value's own bytes past its tag and length (an array makes room for its elements).
        let valueRoom: Int
        switch attribute.pointee.value {
        case .string(let string): valueRoom = string.utf8.count
        case .int: valueRoom = 10
        case .double: valueRoom = 8
        case .bool, .stringArray, .boolArray, .intArray, .doubleArray: valueRoom = 2
        }
        // Tags and lengths of the KeyValue, of the key, of the value and of its member.
        store.ensure(24 + keyCount + valueRoom)
        let keyValue = open(tag)
        if keyCount > 0 { stringField(0x0A, attribute.pointee.key, count: keyCount) }  // KeyValue.key
        let value = open(0x12)  // KeyValue.value
        switch attribute.pointee.value {
        case .string(let string):
            stringField(0x0A, string, count: valueRoom)
        case .bool(let bool):
            byte(0x10)
            byte(bool ? 1 : 0)
        case .int(let int):
            byte(0x18)
            varint(UInt64(bitPattern: int))
        case .double(let double):
            byte(0x21)
            fixed64(double.bitPattern)
        case .stringArray, .boolArray, .intArray, .doubleArray:
            array(attribute)
        }
        close(value)
        close(keyValue)
    }

    /// An `AnyValue`'s `array_value` (tag 5): an `ArrayValue` of `AnyValue`s, one per element.
    private func array(_ attribute: UnsafePointer<Attribute>) {
        store.ensure(6)
        let array = open(0x2A)
        switch attribute.pointee.value {
        case .stringArray(let values):
            for element in values {
                let count = element.utf8.count
                store.ensure(12 + count)
                let member = open(0x0A)  // ArrayValue.values
                stringField(0x0A, element, count: count)
                close(member)
            }
        case .boolArray(let values):
            store.ensure(values.count * 4)
            for element in values {
                byte(0x0A)
                byte(2)
                byte(0x10)
                byte(element ? 1 : 0)
            }
        case .intArray(let values):
            store.ensure(values.count * 13)
            for element in values {
                let member = open(0x0A)
                byte(0x18)
                varint(UInt64(bitPattern: element))
                close(member)
            }
        case .doubleArray(let values):
            store.ensure(values.count * 11)
            for element in values {
                byte(0x0A)
                byte(9)
                byte(0x21)
                fixed64(element.bitPattern)
            }
        case .string, .bool, .int, .double:
            break
        }
        close(array)
    }

    @inline(__always)
    private func attributes(_ tag: UInt8, _ attributes: [Attribute]) {
        attributes.withUnsafeBufferPointer { attributes in
            for index in attributes.indices { keyValue(tag, attributes.baseAddress! + index) }
        }
    }

    /// A `Span.Event` field.
    private func event(_ event: UnsafePointer<SpanEventData>) {
        store.ensure(6 + 9 + Self.stringRoom(event.pointee.name.utf8.count))
        let field = open(0x5A)
        if event.pointee.timeUnixNano != 0 {
            byte(0x09)
            fixed64(event.pointee.timeUnixNano)
        }
        string(0x12, event.pointee.name)
        attributes(0x1A, event.pointee.attributes)
        uint32(0x20, event.pointee.droppedAttributesCount)
        close(field)
    }

    /// A `Span.Link` field.
    private func link(_ link: UnsafePointer<SpanLinkData>) {
        store.ensure(6 + 18 + 10)
        let field = open(0x6A)
        traceID(0x0A, link.pointee.traceID)
        id64(0x12, link.pointee.spanID)
        string(0x1A, link.pointee.traceState)
        attributes(0x22, link.pointee.attributes)
        uint32(0x28, link.pointee.droppedAttributesCount)
        if link.pointee.traceFlags != 0 {
            store.ensure(5)
            byte(0x35)  // flags: field 6, fixed32
            fixed32(UInt32(link.pointee.traceFlags))
        }
        close(field)
    }

    /// The span as a `ScopeSpans.spans` field (tag 2).
    mutating func spanField(_ span: UnsafePointer<SpanData>) {
        // Tag, length (two bytes kept) and ids.
        store.ensure(3 + 18 + 10)
        let field = open(0x12, reserved: 2)
        traceID(0x0A, span.pointee.traceID)
        id64(0x12, span.pointee.spanID)
        string(0x1A, span.pointee.traceState)
        if span.pointee.parentSpanID != 0 {
            store.ensure(10)
            id64(0x22, span.pointee.parentSpanID)
        }
        string(0x2A, span.pointee.name)
        store.ensure(2 + 18)
        if span.pointee.kind != .unspecified {
            byte(0x30)
            byte(UInt8(truncatingIfNeeded: span.pointee.kind.rawValue))
        }
        if span.pointee.startTimeUnixNano != 0 {
            byte(0x39)
            fixed64(span.pointee.startTimeUnixNano)
        }
        if span.pointee.endTimeUnixNano != 0 {
            byte(0x41)
            fixed64(span.pointee.endTimeUnixNano)
        }
        attributes(0x4A, span.pointee.attributes)
        uint32(0x50, span.pointee.droppedAttributesCount)
        span.pointee.events.withUnsafeBufferPointer { events in
            for index in events.indices { event(events.baseAddress! + index) }
        }
        uint32(0x60, span.pointee.droppedEventsCount)
        span.pointee.links.withUnsafeBufferPointer { links in
            for index in links.indices { link(links.baseAddress! + index) }
        }
        uint32(0x70, span.pointee.droppedLinksCount)
        if ProtoSize.hasStatus(span) {
            let count = span.pointee.statusMessage.utf8.count
            store.ensure(2 + Self.stringRoom(count) + 2)
            let status = open(0x7A)
            if count > 0 { stringField(0x12, span.pointee.statusMessage, count: count) }
            if span.pointee.statusCode != .unset {
                byte(0x18)
                byte(UInt8(truncatingIfNeeded: span.pointee.statusCode.rawValue))
            }
            close(status)
        }
        if span.pointee.traceFlags != 0 {
            store.ensure(6)
            byte(0x85)  // flags: field 16, fixed32 (two-byte tag)
            byte(0x01)
            fixed32(UInt32(span.pointee.traceFlags))
        }
        close(field, reserved: 2)
    }
}

extension ProtobufTraceEncoding {
    /// The request holding `encoded`'s spans: byte for byte what `encode(_:origin:)` writes for
    /// the same spans.
    static func encode(_ encoded: EncodedSpans, origin: ExportOrigin) -> [UInt8] {
        if encoded.isEmpty { return [] }
        let envelope = Envelope(origin: origin, spansSize: encoded.byteCount)
        return [UInt8](unsafeUninitializedCapacity: envelope.total) { buffer, initializedCount in
            let start = buffer.baseAddress!
            var writer = ProtoWriter(start)
            envelope.write(origin, into: &writer)
            encoded.withBytes { spans in
                if let source = spans.baseAddress { writer.position.update(from: source, count: spans.count) }
            }
            precondition(writer.position - start + encoded.byteCount == envelope.total, "OTLP protobuf size mismatch")
            initializedCount = envelope.total
        }
    }
}

extension OTLPTraceEncoder {
    /// An `ExportTraceServiceRequest` in protobuf binary form holding spans encoded when they
    /// ended; the same bytes as `protobuf(_:origin:)` gives for those spans as `SpanData`.
    public static func protobuf(_ encoded: EncodedSpans, origin: ExportOrigin) -> [UInt8] {
        ProtobufTraceEncoding.encode(encoded, origin: origin)
    }
}
