/// Checks a `traceparent` header value against W3C Trace Context, to say *why* one is rejected.
///
/// The tracer's own extractor silently ignores a bad value; the consumer records the reason on
/// the span that starts a new trace instead.
public enum TraceParentCheck {
    /// `nil` when `value` is a valid `traceparent`, otherwise what is wrong with it.
    ///
    /// Rules: `version-traceid-parentid-flags`, lower-case hex; version `ff` is invalid; version
    /// `00` is exactly 55 characters; a later version may append `-...` fields; all-zero trace or
    /// parent ids are invalid.
    public static func problem(_ value: String) -> String? {
        var utf8 = Array(value.utf8)
        // Surrounding spaces and tabs are allowed around a header value.
        while let last = utf8.last, last == 0x20 || last == 0x09 { utf8.removeLast() }
        while let first = utf8.first, first == 0x20 || first == 0x09 { utf8.removeFirst() }
        guard utf8.count >= 55 else { return "too short (\(utf8.count) characters, 55 expected)" }
        func isHex(_ range: Range<Int>) -> Bool {
            utf8[range].allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
        guard utf8[2] == 0x2D, utf8[35] == 0x2D, utf8[52] == 0x2D else { return "fields are not separated by '-' at 2, 35 and 52" }
        guard isHex(0..<2) else { return "version is not lower-case hex" }
        let version = String(decoding: utf8[0..<2], as: UTF8.self)
        if version == "ff" { return "version ff is invalid" }
        if version == "00" && utf8.count != 55 { return "version 00 must be 55 characters, not \(utf8.count)" }
        if version != "00" && utf8.count > 55 && utf8[55] != 0x2D { return "a later version's extra fields must follow a '-'" }
        guard isHex(3..<35) else { return "trace-id is not 32 lower-case hex digits" }
        guard isHex(36..<52) else { return "parent-id is not 16 lower-case hex digits" }
        guard isHex(53..<55) else { return "trace-flags are not lower-case hex" }
        if utf8[3..<35].allSatisfy({ $0 == 0x30 }) { return "trace-id is all zeros" }
        if utf8[36..<52].allSatisfy({ $0 == 0x30 }) { return "parent-id is all zeros" }
        return nil
    }
}
