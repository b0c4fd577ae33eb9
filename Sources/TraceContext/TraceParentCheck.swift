import OTLPWire

/// Checks a `traceparent` header value against W3C Trace Context, to say *why* one is rejected.
///
/// The tracer's own extractor silently ignores a bad value; the consumer records the reason on
/// the span that starts a new trace instead.
public enum TraceParentCheck {
    /// `nil` when `value` is a valid `traceparent`, otherwise what is wrong with it.
    ///
    /// Rules: `version-traceid-parentid-flags`, lower-case hex; version `ff` is invalid; version
    /// `00` is exactly 55 characters; a later version may append `-...` fields; all-zero trace or
    /// parent ids are invalid. Surrounding spaces and tabs are allowed.
    public static func problem(_ value: String) -> String? {
        if case .invalid(let reason) = SpanContext.parse(traceparent: value) { return reason }
        return nil
    }
}
