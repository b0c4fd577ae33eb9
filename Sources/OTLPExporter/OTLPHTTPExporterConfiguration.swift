/// How an ``OTLPHTTPExporter`` sends: where, in which encoding, with which headers, and how
/// hard it tries.
///
/// Only plain `http://` endpoints are supported: an `https://` endpoint makes every export a
/// permanent failure (put a collector or sidecar on loopback to terminate TLS).
public struct OTLPHTTPExporterConfiguration: Sendable {
    /// Whether request bodies are compressed.
    public enum Compression: String, Sendable, Hashable {
        /// Sent as given.
        case none
        /// gzip (``Gzip/compress(_:)``), sent with `Content-Encoding: gzip`.
        case gzip
    }

    /// The content type of OTLP protobuf bodies.
    public static let protobufContentType = "application/x-protobuf"
    /// The content type of OTLP JSON bodies.
    public static let jsonContentType = "application/json"
    /// The endpoint used when the environment names none.
    public static let defaultTracesEndpoint = "http://127.0.0.1:4318/v1/traces"

    /// The full URL, path included, e.g. `http://127.0.0.1:4318/v1/traces`. `http` only.
    public var endpoint: String
    /// The `Content-Type` of the bodies: `application/x-protobuf` or `application/json`.
    public var contentType: String
    /// Whether bodies are gzip-compressed before sending.
    public var compression: Compression
    /// Extra request headers, e.g. an API key (`OTEL_EXPORTER_OTLP_HEADERS`). Headers the
    /// exporter sets itself (`Host`, `Content-Type`, `Content-Length`, `Content-Encoding`,
    /// `Transfer-Encoding`, `Connection`) are not overridden by these and are dropped from them.
    public var headers: [(String, String)]
    /// How long one attempt may take, connecting included.
    public var timeout: Duration = .seconds(10)
    /// How many attempts one export makes at most (at least 1 is made).
    public var maxAttempts = 5
    /// The wait after the first failed attempt; it doubles after each further one.
    public var initialBackoff: Duration = .milliseconds(100)
    /// The longest wait between attempts computed from the backoff (jitter included).
    public var maxBackoff: Duration = .seconds(5)
    /// The longest wait a server's `Retry-After` can ask for; longer ones are cut to this.
    public var maxRetryAfter: Duration = .seconds(30)

    /// A configuration; the retry settings keep their defaults unless set afterwards.
    public init(
        endpoint: String = OTLPHTTPExporterConfiguration.defaultTracesEndpoint,
        contentType: String = OTLPHTTPExporterConfiguration.protobufContentType,
        compression: Compression = .none,
        headers: [(String, String)] = []
    ) {
        self.endpoint = endpoint
        self.contentType = contentType
        self.compression = compression
        self.headers = headers
    }

    /// A configuration from the OTLP exporter environment variables: the endpoint
    /// (``tracesEndpoint(environment:)``), headers (``headers(environment:)``), compression
    /// (``compression(environment:)``), `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` (`http/json` selects
    /// JSON, anything else protobuf) and `OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT` (milliseconds).
    public init(environment: [String: String]) {
        self.init(
            endpoint: Self.tracesEndpoint(environment: environment),
            contentType: Self.signalValue("PROTOCOL", environment)?.lowercased() == "http/json"
                ? Self.jsonContentType : Self.protobufContentType,
            compression: Self.compression(environment: environment),
            headers: Self.headers(environment: environment)
        )
        if let text = Self.signalValue("TIMEOUT", environment), let milliseconds = Int(text), milliseconds > 0 {
            timeout = .milliseconds(milliseconds)
        }
    }

    /// The traces URL the environment names: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` verbatim; else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/traces` appended (one slash between them); else
    /// ``defaultTracesEndpoint``. Empty values count as unset.
    public static func tracesEndpoint(environment: [String: String]) -> String {
        if let endpoint = nonEmpty(environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) {
            return endpoint
        }
        if var base = nonEmpty(environment["OTEL_EXPORTER_OTLP_ENDPOINT"]) {
            while base.hasSuffix("/") { base.removeLast() }
            return base + "/v1/traces"
        }
        return defaultTracesEndpoint
    }

    /// The extra headers the environment names: `OTEL_EXPORTER_OTLP_TRACES_HEADERS` if set, else
    /// `OTEL_EXPORTER_OTLP_HEADERS` (the signal-specific list replaces the general one).
    ///
    /// The format is `key1=value1,key2=value2`: whitespace around keys and values is trimmed,
    /// values (and keys) are percent-decoded, entries without `=` or with an empty key are
    /// skipped, and a value may itself contain `=`.
    public static func headers(environment: [String: String]) -> [(String, String)] {
        guard let list = signalValue("HEADERS", environment) else { return [] }
        return parseHeaders(list)
    }

    /// The compression the environment names: `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION` if set,
    /// else `OTEL_EXPORTER_OTLP_COMPRESSION`; `gzip` (any case) is ``Compression/gzip``, anything
    /// else ``Compression/none``.
    public static func compression(environment: [String: String]) -> Compression {
        signalValue("COMPRESSION", environment).map(trimmed)?.lowercased() == "gzip" ? .gzip : .none
    }

    /// Parses a `key1=value1,key2=value2` header list (see ``headers(environment:)``).
    public static func parseHeaders(_ list: String) -> [(String, String)] {
        var result: [(String, String)] = []
        for entry in list.split(separator: ",", omittingEmptySubsequences: true) {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            let key = percentDecoded(trimmed(String(entry[..<equals])))
            let value = percentDecoded(trimmed(String(entry[entry.index(after: equals)...])))
            guard !key.isEmpty else { continue }
            result.append((key, value))
        }
        return result
    }

    /// `OTEL_EXPORTER_OTLP_TRACES_<name>` if set and non-empty, else `OTEL_EXPORTER_OTLP_<name>`.
    private static func signalValue(_ name: String, _ environment: [String: String]) -> String? {
        nonEmpty(environment["OTEL_EXPORTER_OTLP_TRACES_" + name]) ?? nonEmpty(environment["OTEL_EXPORTER_OTLP_" + name])
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !trimmed(value).isEmpty else { return nil }
        return trimmed(value)
    }

    static func trimmed(_ text: String) -> String {
        var scalars = Substring(text)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    /// `%XX` escapes decoded as UTF-8 bytes; malformed escapes are kept as written.
    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
