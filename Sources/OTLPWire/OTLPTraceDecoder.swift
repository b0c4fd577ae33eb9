/// One `ScopeSpans` of a request: who sent the spans (the resource of the enclosing
/// `ResourceSpans` and the instrumentation scope), and the spans.
public struct ExportedSpans: Sendable, Hashable {
    public var origin: ExportOrigin
    public var spans: [SpanData]

    public init(origin: ExportOrigin, spans: [SpanData]) {
        self.origin = origin
        self.spans = spans
    }
}

/// Decodes an OTLP `ExportTraceServiceRequest` (opentelemetry-proto `collector/trace/v1`), as
/// received in the body of an OTLP/HTTP request, from protobuf binary form or from OTLP/JSON:
/// the inverse of ``OTLPTraceEncoder``, for requests written by any OpenTelemetry SDK or
/// Collector.
///
/// The result has one ``ExportedSpans`` per `ScopeSpans` of the request, in the order of the
/// request (empty `ScopeSpans` included); each carries the attributes of its `ResourceSpans`'
/// resource and the name and version of its scope (`""` when absent).
///
/// What does not fit ``SpanData`` is mapped or dropped, the same way in both encodings:
///
/// - `AnyValue`s that ``AttributeValue`` cannot hold become a `.string`, rendered as the
///   OpenTelemetry Collector renders them (`pcommon.Value.AsString`): a `bytesValue` as
///   standard base64 (with padding); a `kvlistValue`, or an `arrayValue` whose elements are not
///   all strings, all bools, all ints or all doubles, as compact JSON (`{"k":"v","n":1}`,
///   `["a",1,true]`; bytes inside as base64 strings, non-finite doubles as `"NaN"`,
///   `"Infinity"`, `"-Infinity"`, an empty `AnyValue` as `null`). An empty `arrayValue` is
///   `.stringArray([])` (it has no element type), and an `AnyValue` with no member set is
///   `.string("")`.
/// - A span's `kind` or a status `code` outside the enum's values is `.unspecified` / `.unset`.
/// - `flags` (spans and links) keep their low 8 bits, the W3C trace flags.
/// - Fields this module has no place for (schema URLs, scope attributes, dropped counts of
///   resources and scopes, entity refs, fields added by later versions of the protocol) are
///   skipped.
///
/// Strings are decoded as UTF-8; ill-formed UTF-8 (and, in JSON, an escaped lone surrogate) is
/// *repaired*, each bad sequence replaced by U+FFFD, rather than rejected, so that one bad
/// attribute of one SDK does not lose a whole batch. Everything else that is malformed throws
/// an ``OTLPDecodingError``: truncated or inconsistent framing, ids of the wrong length,
/// missing trace or span ids, invalid JSON, values of the wrong type. Both decoders are
/// pure functions, read nothing beyond the input, and bound their recursion.
public enum OTLPTraceDecoder {
    /// How deeply `AnyValue`s may nest (an `arrayValue` or `kvlistValue` inside another is one
    /// level deeper); deeper values throw.
    public static let maximumValueDepth = 32

    /// Decodes a request in protobuf binary form (an OTLP/HTTP `application/x-protobuf` body,
    /// already inflated).
    ///
    /// Fields may come in any order and repeat, as protobuf allows (a repeated message field is
    /// appended to, a singular message field merged, a scalar field overwritten). Unknown
    /// fields, and known fields with an unexpected wire type, are skipped; groups (wire types
    /// 3 and 4, deprecated and never used by OTLP) and wire types 6 and 7 throw.
    public static func protobuf(_ bytes: UnsafeRawBufferPointer) throws(OTLPDecodingError) -> [ExportedSpans] {
        try ProtobufTraceDecoding.decode(bytes)
    }

    /// Decodes a request in protobuf binary form; see ``protobuf(_:)-(UnsafeRawBufferPointer)``.
    public static func protobuf(_ bytes: [UInt8]) throws(OTLPDecodingError) -> [ExportedSpans] {
        let result: Result<[ExportedSpans], OTLPDecodingError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(OTLPDecodingError) in try ProtobufTraceDecoding.decode(buffer) }
        }
        return try result.get()
    }

    /// Decodes a request in OTLP/JSON (an OTLP/HTTP `application/json` body, already inflated).
    ///
    /// Follows the OTLP specification's JSON mapping and accepts what protobuf's JSON mapping
    /// also allows: field names in lowerCamelCase or as the original snake_case proto names;
    /// `traceId`, `spanId`, `parentSpanId` as hex strings in either case (`parentSpanId` may be
    /// `""` for a root span; base64 ids are not accepted, as the specification requires);
    /// 64-bit and 32-bit integers as JSON numbers or decimal strings; enums (`kind`,
    /// `status.code`) as integers or by name (`SPAN_KIND_SERVER`, `STATUS_CODE_ERROR`);
    /// `doubleValue` as a number, a numeric string, or `"NaN"`, `"Infinity"`, `"-Infinity"`;
    /// `bytesValue` as base64 (standard or URL-safe alphabet, padding optional); `null` for
    /// any field as its default. Unknown keys are skipped whatever their value. The text must
    /// be one JSON value (an object) with nothing but whitespace after it; objects and arrays
    /// may nest at most 256 deep.
    public static func json(_ bytes: UnsafeRawBufferPointer) throws(OTLPDecodingError) -> [ExportedSpans] {
        try JSONTraceDecoding.decode(bytes)
    }

    /// Decodes a request in OTLP/JSON; see ``json(_:)-(UnsafeRawBufferPointer)``.
    public static func json(_ bytes: [UInt8]) throws(OTLPDecodingError) -> [ExportedSpans] {
        let result: Result<[ExportedSpans], OTLPDecodingError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(OTLPDecodingError) in try JSONTraceDecoding.decode(buffer) }
        }
        return try result.get()
    }
}

/// Why a request could not be decoded, in words a person can act on.
///
/// ``description`` is the ``path`` (when known) followed by the ``reason``, e.g.
/// `resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 16 bytes, got 15` or
/// `resourceSpans[0]: truncated length-delimited field 2 at byte 123 (length 80, 41 bytes left)`.
public struct OTLPDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where in the request the problem is, as OTLP/JSON field names (lowerCamelCase) and
    /// indices of repeated fields, e.g. `resourceSpans[0].scopeSpans[1].spans[3].traceId`;
    /// empty at the top level.
    public var path: String
    /// What is wrong, with the byte offset into the input when it helps.
    public var reason: String

    public init(path: String = "", reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? reason : path + ": " + reason }

    /// The same error one level further out: `component` (a field name, or `[index]`) is put in
    /// front of the path.
    @inline(never)
    func within(_ component: String) -> OTLPDecodingError {
        var error = self
        if error.path.isEmpty {
            error.path = component
        } else if error.path.utf8.first == UInt8(ascii: "[") {
            error.path = component + error.path
        } else {
            error.path = component + "." + error.path
        }
        return error
    }

    /// The same error inside element `index` of the repeated field `name`.
    @inline(never)
    func within(_ name: String, _ index: Int) -> OTLPDecodingError {
        within(name + "[" + String(index) + "]")
    }
}
