/// Finished spans as the exporter sends them: plain values, no references to the tracer.
/// The OTLP encoders (`OTLPTraceEncoder`) turn a batch of them into an
/// `ExportTraceServiceRequest`, as protobuf or as OTLP/JSON.

/// A 16-byte trace id.
public struct TraceID: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public var isValid: Bool { high != 0 || low != 0 }
}

/// An attribute value, as OTLP's `AnyValue` holds it.
public enum AttributeValue: Hashable, Sendable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case stringArray([String])
    case boolArray([Bool])
    case intArray([Int64])
    case doubleArray([Double])
}

/// A key and its value.
public struct Attribute: Hashable, Sendable {
    public var key: String
    public var value: AttributeValue

    public init(_ key: String, _ value: AttributeValue) {
        self.key = key
        self.value = value
    }
}

/// OTLP's span kinds (the numbers are OTLP's).
public enum SpanDataKind: Int, Hashable, Sendable {
    case unspecified = 0
    case `internal` = 1
    case server = 2
    case client = 3
    case producer = 4
    case consumer = 5
}

/// OTLP's status codes (the numbers are OTLP's).
public enum SpanDataStatusCode: Int, Hashable, Sendable {
    case unset = 0
    case ok = 1
    case error = 2
}

public struct SpanEventData: Hashable, Sendable {
    public var name: String
    /// Nanoseconds since 1970.
    public var timeUnixNano: UInt64
    public var attributes: [Attribute]
    public var droppedAttributesCount: UInt32

    public init(name: String, timeUnixNano: UInt64, attributes: [Attribute] = [], droppedAttributesCount: UInt32 = 0) {
        self.name = name
        self.timeUnixNano = timeUnixNano
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
    }
}

public struct SpanLinkData: Hashable, Sendable {
    public var traceID: TraceID
    public var spanID: UInt64
    public var traceState: String
    /// W3C trace flags (bit 0: sampled); OTLP carries them in `flags`.
    public var traceFlags: UInt8
    public var attributes: [Attribute]
    public var droppedAttributesCount: UInt32

    public init(traceID: TraceID, spanID: UInt64, traceState: String = "", traceFlags: UInt8 = 1, attributes: [Attribute] = [], droppedAttributesCount: UInt32 = 0) {
        self.traceID = traceID
        self.spanID = spanID
        self.traceState = traceState
        self.traceFlags = traceFlags
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
    }
}

/// One finished span.
public struct SpanData: Hashable, Sendable {
    public var traceID: TraceID
    public var spanID: UInt64
    /// 0 for a root span.
    public var parentSpanID: UInt64
    public var traceState: String
    public var traceFlags: UInt8
    public var name: String
    public var kind: SpanDataKind
    /// Nanoseconds since 1970.
    public var startTimeUnixNano: UInt64
    public var endTimeUnixNano: UInt64
    public var attributes: [Attribute]
    public var droppedAttributesCount: UInt32
    public var events: [SpanEventData]
    public var droppedEventsCount: UInt32
    public var links: [SpanLinkData]
    public var droppedLinksCount: UInt32
    public var statusCode: SpanDataStatusCode
    public var statusMessage: String

    public init(
        traceID: TraceID, spanID: UInt64, parentSpanID: UInt64 = 0, traceState: String = "", traceFlags: UInt8 = 1,
        name: String, kind: SpanDataKind = .internal, startTimeUnixNano: UInt64, endTimeUnixNano: UInt64,
        attributes: [Attribute] = [], droppedAttributesCount: UInt32 = 0, events: [SpanEventData] = [], droppedEventsCount: UInt32 = 0,
        links: [SpanLinkData] = [], droppedLinksCount: UInt32 = 0, statusCode: SpanDataStatusCode = .unset, statusMessage: String = ""
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.traceState = traceState
        self.traceFlags = traceFlags
        self.name = name
        self.kind = kind
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.attributes = attributes
        self.droppedAttributesCount = droppedAttributesCount
        self.events = events
        self.droppedEventsCount = droppedEventsCount
        self.links = links
        self.droppedLinksCount = droppedLinksCount
        self.statusCode = statusCode
        self.statusMessage = statusMessage
    }
}

/// Who sent the spans: the resource's attributes (`service.name`, `service.instance.id`,
/// `host.name`, ...) and the instrumentation scope.
public struct ExportOrigin: Hashable, Sendable {
    public var resourceAttributes: [Attribute]
    public var scopeName: String
    public var scopeVersion: String

    public init(resourceAttributes: [Attribute], scopeName: String = "ordertrace", scopeVersion: String = "1") {
        self.resourceAttributes = resourceAttributes
        self.scopeName = scopeName
        self.scopeVersion = scopeVersion
    }
}
