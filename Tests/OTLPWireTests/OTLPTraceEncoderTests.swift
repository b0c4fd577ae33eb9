import Foundation
import OTLPWire
import Testing

// MARK: - Fixtures

enum Fixture {
    static let trace = TraceID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10)
    static let otherTrace = TraceID(high: 0xA1A2_A3A4_A5A6_A7A8, low: 0xB1B2_B3B4_B5B6_B7B8)
    static let rootID: UInt64 = 0x1112_1314_1516_1718
    static let start: UInt64 = 1_732_950_000_123_456_789

    static let tricky = "quote\" backslash\\ slash/ newline\n tab\t cr\r nul\u{0} bell\u{07} unit\u{1F} del\u{7F} </script>"
    static let unicode = "é 日本語 🚀 \u{2028}\u{2029} e\u{301}"

    static let origin = ExportOrigin(
        resourceAttributes: [
            Attribute("service.name", .string("order-manager")),
            Attribute("service.instance.id", .string("om-1")),
            Attribute("host.name", .string("höst")),
            Attribute("process.pid", .int(4242)),
        ],
        scopeName: "ordertrace", scopeVersion: "1.2.3"
    )

    /// Every attribute type, incl. defaults inside the oneof, extremes, escapes and unicode.
    static let allTypes: [Attribute] = [
        Attribute("str", .string("plain")),
        Attribute("escapes", .string(tricky)),
        Attribute("unicode", .string(unicode)),
        Attribute("empty", .string("")),
        Attribute("bool.true", .bool(true)),
        Attribute("bool.false", .bool(false)),
        Attribute("int", .int(42)),
        Attribute("int.zero", .int(0)),
        Attribute("int.negative", .int(-7)),
        Attribute("int.max", .int(.max)),
        Attribute("int.min", .int(.min)),
        Attribute("double", .double(1.5)),
        Attribute("double.tenth", .double(0.1)),
        Attribute("double.third", .double(1.0 / 3.0)),
        Attribute("double.zero", .double(0)),
        Attribute("double.negative", .double(-2.5e-300)),
        Attribute("double.huge", .double(.greatestFiniteMagnitude)),
        Attribute("double.subnormal", .double(.leastNonzeroMagnitude)),
        Attribute("double.integral", .double(1e16)),
        Attribute("strings", .stringArray(["a", "", "ü\"x\\", unicode])),
        Attribute("bools", .boolArray([true, false, true])),
        Attribute("ints", .intArray([1, 0, -1, .max, .min])),
        Attribute("doubles", .doubleArray([0.25, -1e-7, 1e300, 0])),
        Attribute("empty.array", .stringArray([])),
        Attribute("ключ \"quoted\" \\ \u{1}", .string("key with escapes")),
    ]

    static let root = SpanData(
        traceID: trace, spanID: rootID, traceState: "vendor=abc,other=1", traceFlags: 1,
        name: "client_order_received", kind: .server,
        startTimeUnixNano: start, endTimeUnixNano: start + 1_500_000,
        attributes: allTypes, droppedAttributesCount: 3,
        events: [
            SpanEventData(
                name: "order_validated", timeUnixNano: start + 10,
                attributes: [Attribute("reason", .string("ok")), Attribute("legs", .intArray([1, 2]))], droppedAttributesCount: 2
            ),
            SpanEventData(name: "exception", timeUnixNano: start + 20, attributes: [Attribute("exception.message", .string(tricky))]),
            SpanEventData(name: "", timeUnixNano: 0),
        ],
        droppedEventsCount: 4,
        links: [
            SpanLinkData(
                traceID: otherTrace, spanID: 0xC1C2_C3C4_C5C6_C7C8, traceState: "k=v", traceFlags: 1,
                attributes: [Attribute("client.order_id", .string("c-7")), Attribute("batch.size", .int(12))], droppedAttributesCount: 1
            ),
            SpanLinkData(traceID: trace, spanID: 0xD1, traceFlags: 0),
        ],
        droppedLinksCount: 5,
        statusCode: .error, statusMessage: "exchange rejected: \"insufficient\"\n"
    )

    /// One span of each kind, children of `root`, with varied optional parts.
    static let children: [SpanData] = [
        SpanData(traceID: trace, spanID: 0x21, parentSpanID: rootID, traceFlags: 1, name: "internal", kind: .internal,
                 startTimeUnixNano: start + 1, endTimeUnixNano: start + 2, statusCode: .ok),
        SpanData(traceID: trace, spanID: 0x22, parentSpanID: rootID, traceFlags: 0, name: "client", kind: .client,
                 startTimeUnixNano: start + 3, endTimeUnixNano: start + 4, statusMessage: "message without code"),
        SpanData(traceID: trace, spanID: 0x23, parentSpanID: rootID, name: "orders.validated send", kind: .producer,
                 startTimeUnixNano: start + 5, endTimeUnixNano: start + 6,
                 attributes: [Attribute("messaging.system", .string("kafka"))]),
        SpanData(traceID: trace, spanID: 0x24, parentSpanID: 0x23, traceFlags: 0x81, name: "orders.validated process", kind: .consumer,
                 startTimeUnixNano: start + 7, endTimeUnixNano: start + 8,
                 links: [SpanLinkData(traceID: otherTrace, spanID: 0x99, traceFlags: 0x03)]),
        SpanData(traceID: trace, spanID: 0x25, parentSpanID: rootID, name: "unspecified", kind: .unspecified,
                 startTimeUnixNano: start + 9, endTimeUnixNano: start + 9),
    ]

    static let spans = [root] + children

    /// A span with nothing optional: no parent, flags 0, no name, kind unspecified, no times.
    static let bare = SpanData(traceID: TraceID(high: 0, low: 1), spanID: 1, traceFlags: 0, name: "", kind: .unspecified,
                               startTimeUnixNano: 0, endTimeUnixNano: 0)
}

/// Attribute lists as they read back: an empty array has no element type on the wire.
private func normalized(_ spans: [SpanData]) -> [SpanData] {
    func fix(_ attributes: [Attribute]) -> [Attribute] {
        attributes.map { attribute in
            switch attribute.value {
            case .boolArray([]), .intArray([]), .doubleArray([]): Attribute(attribute.key, .stringArray([]))
            default: attribute
            }
        }
    }
    return spans.map { span in
        var span = span
        span.attributes = fix(span.attributes)
        span.events = span.events.map { var event = $0; event.attributes = fix(event.attributes); return event }
        span.links = span.links.map { var link = $0; link.attributes = fix(link.attributes); return link }
        return span
    }
}

private func attribute(_ key: String, in keyValues: Any?) -> [String: Any]? {
    (keyValues as? [[String: Any]])?.first { $0["key"] as? String == key }?["value"] as? [String: Any]
}

// MARK: - Decoded by opentelemetry-proto (Python)

@Suite(
    "OTLP trace encoders, decoded by opentelemetry-proto's generated Python code",
    .serialized, .enabled(if: ReferenceDecoder.isAvailable, ReferenceDecoder.unavailableMessage)
)
struct ReferenceDecodingTests {
    static let formats = ["protobuf", "json"]

    static func encode(_ format: String, _ spans: [SpanData], origin: ExportOrigin = Fixture.origin) -> [UInt8] {
        format == "protobuf" ? OTLPTraceEncoder.protobuf(spans, origin: origin) : OTLPTraceEncoder.json(spans, origin: origin)
    }

    @Test("every field of every span, and the resource and scope, read back unchanged", arguments: formats)
    func everyFieldRoundTrips(format: String) async throws {
        let decoded = DecodedRequest(try await ReferenceDecoder.decode(format, Self.encode(format, Fixture.spans)))
        #expect(decoded.resourceSpans.count == 1)
        #expect((decoded.resourceSpans.first?["scopeSpans"] as? [Any])?.count == 1)
        #expect(decoded.origin == Fixture.origin)
        let spans = decoded.spans
        #expect(spans.count == Fixture.spans.count)
        for (got, expected) in zip(spans, normalized(Fixture.spans)) {
            #expect(got == expected, "span \(expected.name)")
            // Field by field too, so that a failure says which.
            #expect(got.attributes == expected.attributes, "attributes of \(expected.name)")
            #expect(got.events == expected.events, "events of \(expected.name)")
            #expect(got.links == expected.links, "links of \(expected.name)")
        }
    }

    @Test("ids in hex, parent, kinds, names, times, flags, dropped counts and status as the reference decoder sees them", arguments: formats)
    func spanFields(format: String) async throws {
        let spans = DecodedRequest(try await ReferenceDecoder.decode(format, Self.encode(format, Fixture.spans))).spanObjects
        try #require(spans.count == 6)
        let root = spans[0]
        #expect(DecodedRequest.hex(root["traceId"]) == "0102030405060708090a0b0c0d0e0f10")
        #expect(DecodedRequest.hex(root["spanId"]) == "1112131415161718")
        #expect(root["parentSpanId"] == nil)
        #expect(root["traceState"] as? String == "vendor=abc,other=1")
        #expect(root["flags"] as? Int == 1)
        #expect(root["name"] as? String == "client_order_received")
        #expect(root["kind"] as? String == "SPAN_KIND_SERVER")
        #expect(root["startTimeUnixNano"] as? String == "1732950000123456789")
        #expect(root["endTimeUnixNano"] as? String == "1732950000124956789")
        #expect(root["droppedAttributesCount"] as? Int == 3)
        #expect(root["droppedEventsCount"] as? Int == 4)
        #expect(root["droppedLinksCount"] as? Int == 5)
        let status = root["status"] as? [String: Any]
        #expect(status?["code"] as? String == "STATUS_CODE_ERROR")
        #expect(status?["message"] as? String == "exchange rejected: \"insufficient\"\n")

        #expect(spans.map { $0["kind"] as? String } == [
            "SPAN_KIND_SERVER", "SPAN_KIND_INTERNAL", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER", nil,
        ])
        #expect(spans.map { $0["name"] as? String } == [
            "client_order_received", "internal", "client", "orders.validated send", "orders.validated process", "unspecified",
        ])
        #expect(spans.dropFirst().map { DecodedRequest.hex($0["parentSpanId"]) } == [
            "1112131415161718", "1112131415161718", "1112131415161718", "0000000000000023", "1112131415161718",
        ])
        #expect(spans.map { $0["flags"] as? Int } == [1, 1, nil, 1, 0x81, 1])
        #expect((spans[1]["status"] as? [String: Any])?["code"] as? String == "STATUS_CODE_OK")
        #expect((spans[2]["status"] as? [String: Any])?["message"] as? String == "message without code")
        #expect((spans[2]["status"] as? [String: Any])?["code"] == nil)
        #expect(spans[3]["status"] == nil)
    }

    @Test("every attribute type, arrays, escapes and unicode", arguments: formats)
    func attributeTypes(format: String) async throws {
        let root = try #require(DecodedRequest(try await ReferenceDecoder.decode(format, Self.encode(format, Fixture.spans))).spanObjects.first)
        let attributes = root["attributes"]
        #expect((attributes as? [Any])?.count == Fixture.allTypes.count)
        #expect(attribute("str", in: attributes)?["stringValue"] as? String == "plain")
        #expect(attribute("escapes", in: attributes)?["stringValue"] as? String == Fixture.tricky)
        #expect(attribute("unicode", in: attributes)?["stringValue"] as? String == Fixture.unicode)
        #expect(attribute("empty", in: attributes)?["stringValue"] as? String == "")
        #expect(attribute("bool.true", in: attributes)?["boolValue"] as? Bool == true)
        #expect(attribute("bool.false", in: attributes)?["boolValue"] as? Bool == false)
        #expect(attribute("int", in: attributes)?["intValue"] as? String == "42")
        #expect(attribute("int.zero", in: attributes)?["intValue"] as? String == "0")
        #expect(attribute("int.negative", in: attributes)?["intValue"] as? String == "-7")
        #expect(attribute("int.max", in: attributes)?["intValue"] as? String == "9223372036854775807")
        #expect(attribute("int.min", in: attributes)?["intValue"] as? String == "-9223372036854775808")
        #expect(attribute("double", in: attributes)?["doubleValue"] as? Double == 1.5)
        #expect(attribute("double.tenth", in: attributes)?["doubleValue"] as? Double == 0.1)
        #expect(attribute("double.zero", in: attributes)?["doubleValue"] as? Double == 0)
        let strings = attribute("strings", in: attributes)?["arrayValue"] as? [String: Any]
        #expect((strings?["values"] as? [[String: Any]])?.map { $0["stringValue"] as? String } == ["a", "", "ü\"x\\", Fixture.unicode])
        let ints = attribute("ints", in: attributes)?["arrayValue"] as? [String: Any]
        #expect((ints?["values"] as? [[String: Any]])?.map { $0["intValue"] as? String } == [
            "1", "0", "-1", "9223372036854775807", "-9223372036854775808",
        ])
        let bools = attribute("bools", in: attributes)?["arrayValue"] as? [String: Any]
        #expect((bools?["values"] as? [[String: Any]])?.map { $0["boolValue"] as? Bool } == [true, false, true])
        let doubles = attribute("doubles", in: attributes)?["arrayValue"] as? [String: Any]
        #expect((doubles?["values"] as? [[String: Any]])?.map { $0["doubleValue"] as? Double } == [0.25, -1e-7, 1e300, 0])
        #expect((attribute("empty.array", in: attributes)?["arrayValue"] as? [String: Any])?.isEmpty == true)
        #expect(attribute("ключ \"quoted\" \\ \u{1}", in: attributes)?["stringValue"] as? String == "key with escapes")
    }

    @Test("events and links with their attributes, flags and dropped counts", arguments: formats)
    func eventsAndLinks(format: String) async throws {
        let spans = DecodedRequest(try await ReferenceDecoder.decode(format, Self.encode(format, Fixture.spans))).spanObjects
        let root = try #require(spans.first)
        let events = try #require(root["events"] as? [[String: Any]])
        try #require(events.count == 3)
        #expect(events[0]["name"] as? String == "order_validated")
        #expect(events[0]["timeUnixNano"] as? String == "1732950000123456799")
        #expect(attribute("reason", in: events[0]["attributes"])?["stringValue"] as? String == "ok")
        #expect(events[0]["droppedAttributesCount"] as? Int == 2)
        #expect(attribute("exception.message", in: events[1]["attributes"])?["stringValue"] as? String == Fixture.tricky)
        #expect(events[2].isEmpty)

        let links = try #require(root["links"] as? [[String: Any]])
        try #require(links.count == 2)
        #expect(DecodedRequest.hex(links[0]["traceId"]) == "a1a2a3a4a5a6a7a8b1b2b3b4b5b6b7b8")
        #expect(DecodedRequest.hex(links[0]["spanId"]) == "c1c2c3c4c5c6c7c8")
        #expect(links[0]["traceState"] as? String == "k=v")
        #expect(links[0]["flags"] as? Int == 1)
        #expect(links[0]["droppedAttributesCount"] as? Int == 1)
        #expect(attribute("client.order_id", in: links[0]["attributes"])?["stringValue"] as? String == "c-7")
        #expect(attribute("batch.size", in: links[0]["attributes"])?["intValue"] as? String == "12")
        #expect(DecodedRequest.hex(links[1]["traceId"]) == "0102030405060708090a0b0c0d0e0f10")
        #expect(DecodedRequest.hex(links[1]["spanId"]) == "00000000000000d1")
        #expect(links[1]["flags"] == nil)
        let consumerLink = try #require((spans[4]["links"] as? [[String: Any]])?.first)
        #expect(consumerLink["flags"] as? Int == 3)
    }

    @Test("resource attributes and scope", arguments: formats)
    func resourceAndScope(format: String) async throws {
        let decoded = DecodedRequest(try await ReferenceDecoder.decode(format, Self.encode(format, Fixture.spans)))
        let resourceSpans = try #require(decoded.resourceSpans.first)
        let resource = resourceSpans["resource"] as? [String: Any]
        #expect(attribute("service.name", in: resource?["attributes"])?["stringValue"] as? String == "order-manager")
        #expect(attribute("host.name", in: resource?["attributes"])?["stringValue"] as? String == "höst")
        #expect(attribute("process.pid", in: resource?["attributes"])?["intValue"] as? String == "4242")
        let scope = (resourceSpans["scopeSpans"] as? [[String: Any]])?.first?["scope"] as? [String: Any]
        #expect(scope?["name"] as? String == "ordertrace")
        #expect(scope?["version"] as? String == "1.2.3")
    }

    @Test("the protobuf is canonical: re-serialized by the reference, it is the same bytes")
    func protobufIsCanonical() async throws {
        for spans in [Fixture.spans, [Fixture.bare], Fixture.children] {
            let ours = OTLPTraceEncoder.protobuf(spans, origin: Fixture.origin)
            #expect(try await ReferenceDecoder.reserializedHex("protobuf", ours) == ours.hex)
        }
    }

    @Test("the JSON holds the same request: parsed by the reference and serialized as protobuf, it is our protobuf")
    func jsonMatchesProtobuf() async throws {
        for spans in [Fixture.spans, [Fixture.bare], Fixture.children] {
            let json = OTLPTraceEncoder.json(spans, origin: Fixture.origin)
            let protobuf = OTLPTraceEncoder.protobuf(spans, origin: Fixture.origin)
            // Bit for bit, doubles included.
            #expect(try await ReferenceDecoder.reserializedHex("json", json) == protobuf.hex)
            #expect(try await ReferenceDecoder.text("json", json) == ReferenceDecoder.text("protobuf", protobuf))
        }
    }

    @Test("NaN and the infinities", arguments: formats)
    func nonFiniteDoubles(format: String) async throws {
        let span = SpanData(
            traceID: Fixture.trace, spanID: 1, name: "doubles", startTimeUnixNano: 1, endTimeUnixNano: 2,
            attributes: [
                Attribute("nan", .double(.nan)), Attribute("inf", .double(.infinity)), Attribute("-inf", .double(-.infinity)),
                Attribute("array", .doubleArray([.nan, .infinity, -.infinity, 1])),
            ]
        )
        let encoded = Self.encode(format, [span])
        let attributes = DecodedRequest(try await ReferenceDecoder.decode(format, encoded)).spanObjects.first?["attributes"]
        #expect(attribute("nan", in: attributes)?["doubleValue"] as? String == "NaN")
        #expect(attribute("inf", in: attributes)?["doubleValue"] as? String == "Infinity")
        #expect(attribute("-inf", in: attributes)?["doubleValue"] as? String == "-Infinity")
        let array = (attribute("array", in: attributes)?["arrayValue"] as? [String: Any])?["values"] as? [[String: Any]]
        #expect(array?.prefix(3).map { $0["doubleValue"] as? String } == ["NaN", "Infinity", "-Infinity"])
        #expect(array?.last?["doubleValue"] as? Double == 1)
        #expect(try await ReferenceDecoder.reserializedHex(format, encoded) == OTLPTraceEncoder.protobuf([span], origin: Fixture.origin).hex)
    }

    @Test("an empty span list is an empty request", arguments: formats)
    func emptySpanList(format: String) async throws {
        let encoded = Self.encode(format, [])
        #expect(try await ReferenceDecoder.decode(format, encoded).isEmpty)
        #expect(try await ReferenceDecoder.reserializedHex(format, encoded) == "")
    }

    @Test("a span with no optional parts has only its ids; an empty origin gives an empty resource and scope", arguments: formats)
    func bareSpan(format: String) async throws {
        let origin = ExportOrigin(resourceAttributes: [], scopeName: "", scopeVersion: "")
        let decoded = DecodedRequest(try await ReferenceDecoder.decode(format, Self.encode(format, [Fixture.bare], origin: origin)))
        let span = try #require(decoded.spanObjects.first)
        #expect(Set(span.keys) == ["traceId", "spanId"])
        #expect(DecodedRequest.hex(span["traceId"]) == "00000000000000000000000000000001")
        #expect(DecodedRequest.hex(span["spanId"]) == "0000000000000001")
        #expect(decoded.spans == [Fixture.bare])
        #expect(decoded.origin == origin)
        #expect((decoded.resourceSpans.first?["resource"] as? [String: Any])?.isEmpty == true)
    }

    @Test("large values: extreme ids, times and counts, a 3 MB string, 2,000 attributes, 5,000 spans", arguments: formats)
    func largeValues(format: String) async throws {
        let huge = String(repeating: "0123456789abcdé\"\n", count: 3_000_000 / 18)
        let extreme = SpanData(
            traceID: TraceID(high: .max, low: .max), spanID: .max, parentSpanID: .max, traceState: String(repeating: "k=v,", count: 128),
            traceFlags: 0xFF, name: huge, kind: .consumer, startTimeUnixNano: .max, endTimeUnixNano: .max,
            attributes: (0..<2_000).map { Attribute("attribute.\($0)", .int(Int64($0) * 1_000_000_007)) } + [Attribute("huge", .string(huge))],
            droppedAttributesCount: .max,
            events: [SpanEventData(name: "e", timeUnixNano: .max, droppedAttributesCount: .max)], droppedEventsCount: .max,
            links: [SpanLinkData(traceID: TraceID(high: .max, low: .max), spanID: .max, traceFlags: 0xFF, droppedAttributesCount: .max)],
            droppedLinksCount: .max, statusCode: .error, statusMessage: huge
        )
        let many = (0..<5_000).map { index in
            SpanData(traceID: Fixture.trace, spanID: UInt64(index + 1), parentSpanID: Fixture.rootID, name: "span \(index)", kind: .internal,
                     startTimeUnixNano: Fixture.start + UInt64(index), endTimeUnixNano: Fixture.start + UInt64(index) + 1,
                     attributes: [Attribute("index", .int(Int64(index)))])
        }
        let spans = [extreme] + many
        let encoded = Self.encode(format, spans)
        let protobuf = OTLPTraceEncoder.protobuf(spans, origin: Fixture.origin)
        #expect(protobuf.count > 9_000_000)  // lengths of 4-byte varints at every nesting level
        #expect(try await ReferenceDecoder.reserializedHex(format, encoded) == protobuf.hex)
        let decoded = DecodedRequest(try await ReferenceDecoder.decode(format, encoded))
        #expect(decoded.spans == spans)
        let first = try #require(decoded.spanObjects.first)
        #expect(DecodedRequest.hex(first["traceId"]) == String(repeating: "f", count: 32))
        #expect(first["startTimeUnixNano"] as? String == "18446744073709551615")
        #expect(first["droppedAttributesCount"] as? Int == 4_294_967_295)
        #expect(first["flags"] as? Int == 255)
    }
}

// MARK: - Exact output (no Python needed)

@Suite("OTLP trace encoders, exact output")
struct ExactOutputTests {
    @Test("the JSON is strict: a JSON parser that is not ours (Foundation) reads it too", arguments: ["all", "bare", "none"])
    func jsonParsesWithFoundation(fixture: String) throws {
        let spans = ["all": Fixture.spans, "bare": [Fixture.bare], "none": []][fixture] ?? []
        let json = OTLPTraceEncoder.json(spans, origin: Fixture.origin)
        #expect((try JSONSerialization.jsonObject(with: Data(json))) is [String: Any])
    }

    @Test("a minimal request, byte for byte")
    func minimalProtobuf() {
        let span = SpanData(
            traceID: TraceID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10), spanID: 0x1112_1314_1516_1718, traceFlags: 1,
            name: "n", kind: .server, startTimeUnixNano: 1, endTimeUnixNano: 2, statusCode: .error
        )
        let bytes = OTLPTraceEncoder.protobuf([span], origin: ExportOrigin(resourceAttributes: [Attribute("k", .bool(true))], scopeName: "s", scopeVersion: ""))
        let spanBytes: [UInt8] =
            [0x0A, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]  // trace_id
            + [0x12, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]  // span_id
            + [0x2A, 1, UInt8(ascii: "n")]  // name
            + [0x30, 2]  // kind
            + [0x39, 1, 0, 0, 0, 0, 0, 0, 0]  // start_time_unix_nano
            + [0x41, 2, 0, 0, 0, 0, 0, 0, 0]  // end_time_unix_nano
            + [0x7A, 2, 0x18, 2]  // status { code }
            + [0x85, 0x01, 1, 0, 0, 0]  // flags
        let keyValue: [UInt8] = [0x0A, 1, UInt8(ascii: "k"), 0x12, 2, 0x10, 1]
        let resource: [UInt8] = [0x0A, UInt8(keyValue.count)] + keyValue
        let scopeSpans: [UInt8] = [0x0A, 3, 0x0A, 1, UInt8(ascii: "s"), 0x12, UInt8(spanBytes.count)] + spanBytes
        let resourceSpans: [UInt8] = [0x0A, UInt8(resource.count)] + resource + [0x12, UInt8(scopeSpans.count)] + scopeSpans
        #expect(bytes == [0x0A, UInt8(resourceSpans.count)] + resourceSpans)
    }

    @Test("empty span lists")
    func empty() {
        #expect(OTLPTraceEncoder.protobuf([], origin: Fixture.origin) == [])
        #expect(String(decoding: OTLPTraceEncoder.json([], origin: Fixture.origin), as: UTF8.self) == #"{"resourceSpans":[]}"#)
    }

    @Test("a minimal request as OTLP/JSON, character for character")
    func minimalJSON() {
        let span = SpanData(
            traceID: TraceID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10), spanID: 0xABCD, parentSpanID: 0xEF, traceFlags: 1,
            name: "n", kind: .client, startTimeUnixNano: 1, endTimeUnixNano: 18_446_744_073_709_551_615,
            attributes: [Attribute("i", .int(-5)), Attribute("d", .double(0.1)), Attribute("a", .boolArray([true]))],
            statusCode: .error, statusMessage: "m"
        )
        let json = String(decoding: OTLPTraceEncoder.json([span], origin: ExportOrigin(resourceAttributes: [], scopeName: "s")), as: UTF8.self)
        #expect(json == #"{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{"name":"s","version":"1"},"spans":[{"#
            + #""traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"000000000000abcd","parentSpanId":"00000000000000ef","#
            + #""flags":1,"name":"n","kind":3,"startTimeUnixNano":"1","endTimeUnixNano":"18446744073709551615","#
            + #""attributes":[{"key":"i","value":{"intValue":"-5"}},{"key":"d","value":{"doubleValue":0.1}},"#
            + #"{"key":"a","value":{"arrayValue":{"values":[{"boolValue":true}]}}}],"#
            + #""status":{"message":"m","code":2}}]}]}]}"#)
    }

    @Test("JSON string escaping: quotes, backslashes, control characters as \\u00XX, UTF-8 passed through")
    func escaping() {
        let span = SpanData(traceID: TraceID(high: 0, low: 1), spanID: 1, name: "a\"b\\c/d\n\t\u{0}\u{1F}\u{7F}é🚀",
                            startTimeUnixNano: 0, endTimeUnixNano: 0)
        let json = String(decoding: OTLPTraceEncoder.json([span], origin: Fixture.origin), as: UTF8.self)
        #expect(json.contains(#""name":"a\"b\\c/d\u000a\u0009\u0000\u001f"# + "\u{7F}é🚀\""))
    }

    /// What the JSON of a string must be, one character at a time.
    private static func naiveJSONString(_ string: String) -> String {
        var text: [UInt8] = [UInt8(ascii: "\"")]
        for unit in string.utf8 {
            switch unit {
            case UInt8(ascii: "\""): text += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): text += Array(#"\\"#.utf8)
            case 0..<0x20: text += Array(("\\u00" + (unit < 0x10 ? "0" : "1") + String(unit & 0xF, radix: 16)).utf8)
            default: text.append(unit)
            }
        }
        text.append(UInt8(ascii: "\""))
        return String(decoding: text, as: UTF8.self)
    }

    @Test("JSON escaping of every special byte at every offset (the 8-byte scan), and strings far beyond the size estimate")
    func escapingEverywhere() {
        var names: [String] = []
        let specials = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) } + ["\"", "\\", "é", "🚀", "\u{7F}", "/"]
        for special in specials {
            for offset in 0..<17 {
                names.append(String(repeating: "a", count: offset) + special + String(repeating: "b", count: 17 - offset))
            }
        }
        names.append(String(repeating: "\"\u{1}", count: 100_000))  // 1 MB of JSON from 200 kB of text
        let spans = names.map { SpanData(traceID: TraceID(high: 0, low: 1), spanID: 1, name: $0, startTimeUnixNano: 0, endTimeUnixNano: 0) }
        let json = String(decoding: OTLPTraceEncoder.json(spans, origin: Fixture.origin), as: UTF8.self)
        let expected = names.map { #"{"traceId":"00000000000000000000000000000001","spanId":"0000000000000001","flags":1,"name":"# + Self.naiveJSONString($0) + #","kind":1}"# }
        #expect(json.hasSuffix(#""spans":["# + expected.joined(separator: ",") + "]}]}]}"))
    }

    @Test("doubles print so that they read back the same", arguments: [
        (0.1, "0.1"), (-0.0, "-0.0"), (1e300, "1e+300"), (Double.leastNonzeroMagnitude, "5e-324"), (1.0 / 3.0, "0.3333333333333333"), (100, "100.0"),
    ])
    func doubles(value: Double, text: String) {
        let span = SpanData(traceID: TraceID(high: 0, low: 1), spanID: 1, name: "", startTimeUnixNano: 0, endTimeUnixNano: 0,
                            attributes: [Attribute("d", .double(value))])
        let json = String(decoding: OTLPTraceEncoder.json([span], origin: Fixture.origin), as: UTF8.self)
        #expect(json.contains(#"{"doubleValue":"# + text + "}"))
        #expect(Double(text) == value)
    }
}
