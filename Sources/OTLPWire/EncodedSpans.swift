/// Spans already encoded as protobuf, each as a `ScopeSpans.spans` field (tag, length, `Span`),
/// one after the other: what a tracer keeps when it encodes each span as it ends, while the
/// span's strings and arrays are still in the cache, instead of keeping its `SpanData` until the
/// export. `OTLPTraceEncoder.protobuf(_:origin:)` wraps them into a request with one copy.
public struct EncodedSpans: Sendable {
    /// The encoded fields, back to back.
    public private(set) var bytes: [UInt8] = []
    /// Where each span's field ends in `bytes`.
    private var ends: [Int] = []

    public init() {}

    /// Room for `spans` spans of about `bytesPerSpan` bytes each.
    public init(reservingSpans spans: Int, bytes: Int) {
        self.bytes.reserveCapacity(bytes)
        ends.reserveCapacity(spans)
    }

    public var count: Int { ends.count }
    public var isEmpty: Bool { ends.isEmpty }

    /// Encodes `span` at the end. The bytes are those `OTLPTraceEncoder.protobuf` writes for it.
    public mutating func append(_ span: SpanData) {
        withUnsafePointer(to: span) { append($0) }
    }

    private mutating func append(_ span: UnsafePointer<SpanData>) {
        let size = ProtoSize.span(span)
        let fieldSize = ProtoSize.field(size)
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: fieldSize))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var writer = ProtoWriter(buffer.baseAddress! + start)
            writer.lengthPrefix(0x12, size)  // ScopeSpans.spans
            writer.span(span)
            // A mismatch would be a bug in the encoding; never hand out a corrupt message.
            precondition(writer.position == buffer.baseAddress! + start + fieldSize, "OTLP protobuf size mismatch")
        }
        ends.append(bytes.count)
    }

    /// The same spans in runs of at most `maxCount`, in order.
    public func split(maxCount: Int) -> [EncodedSpans] {
        guard count > maxCount, maxCount > 0 else { return [self] }
        var parts: [EncodedSpans] = []
        var first = 0
        var startByte = 0
        while first < count {
            let last = min(first + maxCount, count)
            var part = EncodedSpans()
            part.bytes = Array(bytes[startByte..<ends[last - 1]])
            part.ends = ends[first..<last].map { $0 - startByte }
            parts.append(part)
            startByte = ends[last - 1]
            first = last
        }
        return parts
    }
}

extension ProtobufTraceEncoding {
    /// The request holding `encoded`'s spans: byte for byte what `encode(_:origin:)` writes for
    /// the same spans.
    static func encode(_ encoded: EncodedSpans, origin: ExportOrigin) -> [UInt8] {
        if encoded.isEmpty { return [] }
        let envelope = Envelope(origin: origin, spansSize: encoded.bytes.count)
        return [UInt8](unsafeUninitializedCapacity: envelope.total) { buffer, initializedCount in
            let start = buffer.baseAddress!
            var writer = ProtoWriter(start)
            envelope.write(origin, into: &writer)
            encoded.bytes.withUnsafeBufferPointer { spans in
                writer.position.update(from: spans.baseAddress!, count: spans.count)
            }
            precondition(writer.position - start + encoded.bytes.count == envelope.total, "OTLP protobuf size mismatch")
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
