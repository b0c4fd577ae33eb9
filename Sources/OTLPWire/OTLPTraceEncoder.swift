/// Encodes finished spans as an OTLP `ExportTraceServiceRequest`
/// (opentelemetry-proto `collector/trace/v1`), in protobuf binary form or as OTLP/JSON.
///
/// Both encodings hold the same request: one `ResourceSpans` whose resource attributes come
/// from the ``ExportOrigin``, one `ScopeSpans` with the origin's scope name and version, then
/// the spans in the order given. An empty span list gives an empty request (no
/// `ResourceSpans` at all), which collectors accept and ignore.
///
/// Fields holding their proto3 default (empty string, 0, no parent, unset status) are left
/// out, as protobuf's own serializers leave them out; the protobuf output is therefore the
/// canonical encoding, byte for byte what the reference implementations write for the same
/// message. Attribute values are always written (they sit in `AnyValue`'s oneof), even when
/// they are `""`, `false` or `0`.
///
/// Both encoders are hand-written and use no Foundation; they are pure functions, safe to call
/// from any thread.
public enum OTLPTraceEncoder {
    /// An `ExportTraceServiceRequest` (opentelemetry-proto, trace/v1) in protobuf binary form,
    /// ready to be sent as the body of an OTLP/HTTP `application/x-protobuf` request (or as
    /// an OTLP/gRPC message).
    ///
    /// The size of the request is computed first, so the result is written into a single
    /// allocation of exactly the right size.
    ///
    /// - Parameters:
    ///   - spans: The spans to export, in the order they should appear.
    ///   - origin: The resource attributes and instrumentation scope of all the spans.
    /// - Returns: The encoded request; empty when `spans` is empty.
    public static func protobuf(_ spans: [SpanData], origin: ExportOrigin) -> [UInt8] {
        ProtobufTraceEncoding.encode(spans, origin: origin)
    }

    /// The same request as OTLP/JSON, ready to be sent as the body of an OTLP/HTTP
    /// `application/json` request.
    ///
    /// This follows the OTLP specification's JSON mapping: lowerCamelCase field names,
    /// `traceId`, `spanId` and `parentSpanId` as lowercase hex strings (not base64), enums
    /// (`kind`, `status.code`) as integers, 64-bit integers (`timeUnixNano` fields,
    /// `intValue`) as decimal strings, 32-bit counters and `flags` as JSON numbers, doubles
    /// printed so that a JSON parser reads back exactly the same value, and non-finite doubles
    /// as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`. Strings are escaped as JSON
    /// requires (`\"`, `\\`, control characters as `\u00XX`); all other characters, including
    /// non-ASCII ones, are written as UTF-8.
    ///
    /// - Parameters:
    ///   - spans: The spans to export, in the order they should appear.
    ///   - origin: The resource attributes and instrumentation scope of all the spans.
    /// - Returns: The UTF-8 bytes of the JSON document; `{"resourceSpans":[]}` when `spans`
    ///   is empty.
    public static func json(_ spans: [SpanData], origin: ExportOrigin) -> [UInt8] {
        JSONTraceEncoding.encode(spans, origin: origin)
    }
}
