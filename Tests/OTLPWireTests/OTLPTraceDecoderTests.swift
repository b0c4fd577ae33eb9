import Foundation
import OTLPWire
import TestSupport
import Testing

// MARK: - Helpers

/// Protobuf wire format, by hand, for requests our encoder cannot write.
enum Wire {
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
        return bytes
    }

    static func tag(_ field: UInt64, _ wireType: UInt64) -> [UInt8] { varint(field << 3 | wireType) }

    /// A length-delimited field.
    static func message(_ field: UInt64, _ contents: [UInt8]) -> [UInt8] {
        tag(field, 2) + varint(UInt64(contents.count)) + contents
    }

    static func string(_ field: UInt64, _ text: String) -> [UInt8] { message(field, Array(text.utf8)) }
    static func varintField(_ field: UInt64, _ value: UInt64) -> [UInt8] { tag(field, 0) + varint(value) }

    static func fixed64(_ field: UInt64, _ value: UInt64) -> [UInt8] {
        tag(field, 1) + (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func fixed32(_ field: UInt64, _ value: UInt32) -> [UInt8] {
        tag(field, 5) + (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    /// One field of each wire type, with field numbers no version of OTLP uses.
    static let unknownFields: [UInt8] =
        varintField(1000, 300) + fixed64(1001, 7) + message(1002, [1, 2, 3]) + fixed32(1003, 9) + varintField(536_870_911, 1)

    static let traceID: [UInt8] = Array(1...16)
    static let spanID: [UInt8] = [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]

    /// A span's ids; what a span needs.
    static let ids: [UInt8] = message(1, traceID) + message(2, spanID)

    /// A request with one ResourceSpans, one ScopeSpans and these spans' contents.
    static func request(_ spans: [UInt8]...) -> [UInt8] {
        message(1, message(2, spans.flatMap { message(2, $0) }))
    }

    static let expectedTraceID = TraceID(high: 0x0102_0304_0506_0708, low: 0x090A_0B0C_0D0E_0F10)

    static func span(name: String = "", attributes: [Attribute] = [], traceFlags: UInt8 = 0) -> SpanData {
        SpanData(traceID: expectedTraceID, spanID: 0x1112_1314_1516_1718, traceFlags: traceFlags, name: name, kind: .unspecified,
                 startTimeUnixNano: 0, endTimeUnixNano: 0, attributes: attributes)
    }

    static let emptyOrigin = ExportOrigin(resourceAttributes: [], scopeName: "", scopeVersion: "")
}

/// The decoding error, or nil when the input decodes.
private func protobufError(_ bytes: [UInt8]) -> OTLPDecodingError? {
    do {
        _ = try OTLPTraceDecoder.protobuf(bytes)
        return nil
    } catch {
        return error
    }
}

private func jsonError(_ text: String) -> OTLPDecodingError? {
    do {
        _ = try OTLPTraceDecoder.json(Array(text.utf8))
        return nil
    } catch {
        return error
    }
}

/// The spans of a one-ScopeSpans request.
private func spans(_ decoded: [ExportedSpans]) -> [SpanData] { decoded.flatMap(\.spans) }

private func json(_ text: String) throws -> [ExportedSpans] { try OTLPTraceDecoder.json(Array(text.utf8)) }

/// A JSON request with one span, whose members (after the ids) are `members`.
private func jsonSpan(_ members: String, ids: String = #""traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718""#) -> String {
    #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"# + ids + (members.isEmpty ? "" : "," + members) + "}]}]}]}"
}

private func jsonAttribute(_ value: String) -> String {
    jsonSpan(#""attributes":[{"key":"k","value":"# + value + "}]")
}

private func decodedAttribute(_ value: String) throws -> AttributeValue? {
    try spans(json(jsonAttribute(value))).first?.attributes.first?.value
}

// MARK: - Round trips through our encoders

@Suite("OTLP trace decoders: what our encoders write reads back unchanged")
struct DecoderRoundTripTests {
    static let formats = ["protobuf", "json"]

    static func roundTrip(_ format: String, _ spans: [SpanData], origin: ExportOrigin = Fixture.origin) throws -> [ExportedSpans] {
        format == "protobuf"
            ? try OTLPTraceDecoder.protobuf(OTLPTraceEncoder.protobuf(spans, origin: origin))
            : try OTLPTraceDecoder.json(OTLPTraceEncoder.json(spans, origin: origin))
    }

    @Test("every attribute type, events, links, status, trace state, flags and kinds", arguments: formats)
    func everything(format: String) throws {
        let decoded = try Self.roundTrip(format, Fixture.spans)
        #expect(decoded == [ExportedSpans(origin: Fixture.origin, spans: Fixture.spans)])
        for (got, expected) in zip(decoded.first?.spans ?? [], Fixture.spans) {
            #expect(got.attributes == expected.attributes, "attributes of \(expected.name)")
            #expect(got.events == expected.events, "events of \(expected.name)")
            #expect(got.links == expected.links, "links of \(expected.name)")
        }
    }

    @Test("a bare span and an empty origin", arguments: formats)
    func bare(format: String) throws {
        #expect(try Self.roundTrip(format, [Fixture.bare], origin: Wire.emptyOrigin) == [ExportedSpans(origin: Wire.emptyOrigin, spans: [Fixture.bare])])
    }

    @Test("no spans: no ExportedSpans", arguments: formats)
    func empty(format: String) throws {
        #expect(try Self.roundTrip(format, []).isEmpty)
        #expect(try OTLPTraceDecoder.protobuf(UnsafeRawBufferPointer(start: nil, count: 0)).isEmpty)
    }

    @Test("extreme values, a large string, many attributes and spans", arguments: formats)
    func large(format: String) throws {
        let huge = String(repeating: "0123456789abcdé\"\n", count: 20_000)
        let extreme = SpanData(
            traceID: TraceID(high: .max, low: .max), spanID: .max, parentSpanID: .max, traceState: "k=v", traceFlags: 0xFF,
            name: huge, kind: .consumer, startTimeUnixNano: .max, endTimeUnixNano: .max,
            attributes: (0..<500).map { Attribute("attribute.\($0)", .int(Int64($0) * 1_000_000_007)) },
            droppedAttributesCount: .max, droppedEventsCount: .max, droppedLinksCount: .max, statusCode: .error, statusMessage: huge
        )
        let many = (0..<2_000).map { index in
            SpanData(traceID: Fixture.trace, spanID: UInt64(index + 1), parentSpanID: Fixture.rootID, name: "span \(index % 7)",
                     startTimeUnixNano: Fixture.start, endTimeUnixNano: Fixture.start + 1,
                     attributes: [Attribute("index", .int(Int64(index))), Attribute("messaging.destination.name", .string("orders.\(index % 3)"))])
        }
        #expect(try Self.roundTrip(format, [extreme] + many) == [ExportedSpans(origin: Fixture.origin, spans: [extreme] + many)])
    }

    @Test("NaN and the infinities", arguments: formats)
    func nonFinite(format: String) throws {
        let span = SpanData(traceID: Fixture.trace, spanID: 1, name: "d", startTimeUnixNano: 1, endTimeUnixNano: 2,
                            attributes: [Attribute("nan", .double(.nan)), Attribute("array", .doubleArray([.infinity, -.infinity, .nan]))])
        let attributes = try #require(try Self.roundTrip(format, [span]).first?.spans.first?.attributes)
        guard case .double(let nan) = attributes[0].value, case .doubleArray(let array) = attributes[1].value else {
            Issue.record("unexpected values \(attributes)")
            return
        }
        #expect(nan.isNaN)
        #expect(array.count == 3 && array[0] == .infinity && array[1] == -.infinity && array[2].isNaN)
    }

    @Test("the UnsafeRawBufferPointer entry points decode the same", arguments: formats)
    func rawBuffer(format: String) throws {
        let bytes = format == "protobuf" ? OTLPTraceEncoder.protobuf(Fixture.spans, origin: Fixture.origin) : OTLPTraceEncoder.json(Fixture.spans, origin: Fixture.origin)
        let decoded = try bytes.withUnsafeBytes { buffer in
            format == "protobuf" ? try OTLPTraceDecoder.protobuf(buffer) : try OTLPTraceDecoder.json(buffer)
        }
        #expect(decoded == [ExportedSpans(origin: Fixture.origin, spans: Fixture.spans)])
    }
}

// MARK: - Requests written by opentelemetry-proto (Python)

/// Runs `Decode/otlp_encode.py`, which builds a request with the reference implementation.
enum ReferenceEncoder {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Decode/otlp_encode.py").path

    /// The script's output: `protobuf` (hex), `json` and `json_snake` (OTLP/JSON text). It runs
    /// and is waited for off the cooperative pool, as `ReferenceDecoder`'s helper is.
    static func request() async throws -> [String: String] {
        let (status, output, errors) = try await offThePool { () throws -> (Int32, Data, Data) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script]
            let stdout = Pipe()
            let stderr = Pipe()
            process.standardOutput = stdout
            process.standardError = stderr
            try process.run()
            let output = stdout.fileHandleForReading.readDataToEndOfFile()
            let errors = stderr.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, output, errors)
        }
        guard status == 0, let object = try JSONSerialization.jsonObject(with: output) as? [String: String] else {
            throw ReferenceDecoder.Failure(description: "otlp_encode.py failed: " + String(decoding: errors, as: UTF8.self))
        }
        return object
    }

    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    static let otherTrace = TraceID(high: 0xA1A2_A3A4_A5A6_A7A8, low: 0xA9AA_ABAC_ADAE_AFB0)

    /// What the decoders must make of the request (without the `nan` attribute, checked apart).
    static let expected: [ExportedSpans] = {
        let resource = [Attribute("service.name", .string("py-svc")), Attribute("host.name", .string("py-host"))]
        let server = SpanData(
            traceID: Wire.expectedTraceID, spanID: 0x1112_1314_1516_1718, traceState: "vendor=abc", traceFlags: 1,
            name: "GET /orders", kind: .server, startTimeUnixNano: 1_732_950_000_123_456_789, endTimeUnixNano: 1_732_950_000_123_458_289,
            attributes: [
                Attribute("str", .string("plain é")),
                Attribute("bool", .bool(true)),
                Attribute("int", .int(-5)),
                Attribute("double", .double(1.5)),
                Attribute("strings", .stringArray(["a", "b"])),
                Attribute("ints", .intArray([1, 2])),
                Attribute("empty.array", .stringArray([])),
                Attribute("mixed", .string(#"[1,"a"]"#)),
                Attribute("kvlist", .string(#"{"a":"x","n":1,"list":[1,"two",true,2.5,"AQ=="],"empty":null}"#)),
                Attribute("bytes", .string("AAH+/w==")),
                Attribute("no.value", .string("")),
                Attribute("empty.value", .string("")),
            ],
            droppedAttributesCount: 3,
            events: [SpanEventData(name: "exception", timeUnixNano: 1_732_950_000_123_456_799,
                                   attributes: [Attribute("exception.message", .string("boom"))], droppedAttributesCount: 6)],
            droppedEventsCount: 4,
            links: [SpanLinkData(traceID: otherTrace, spanID: 0xC1C2_C3C4_C5C6_C7C8, traceState: "k=v", traceFlags: 1,
                                 attributes: [Attribute("link.attribute", .int(7))], droppedAttributesCount: 1)],
            droppedLinksCount: 5, statusCode: .error, statusMessage: "boom"
        )
        let consumer = SpanData(
            traceID: Wire.expectedTraceID, spanID: 0x21, parentSpanID: 0x1112_1314_1516_1718, traceFlags: 0, name: "process", kind: .consumer,
            startTimeUnixNano: 1_732_950_000_123_456_790, endTimeUnixNano: 1_732_950_000_123_456_791, statusCode: .ok
        )
        let client = SpanData(traceID: otherTrace, spanID: 0xC1, traceFlags: 0, name: "client", kind: .client, startTimeUnixNano: 0, endTimeUnixNano: 0)
        let bare = SpanData(traceID: otherTrace, spanID: 0xD1, traceFlags: 0, name: "", kind: .unspecified, startTimeUnixNano: 0, endTimeUnixNano: 0)
        return [
            ExportedSpans(origin: ExportOrigin(resourceAttributes: resource, scopeName: "py.scope", scopeVersion: "0.1"), spans: [server, consumer]),
            ExportedSpans(origin: ExportOrigin(resourceAttributes: resource, scopeName: "second", scopeVersion: ""), spans: [client]),
            ExportedSpans(origin: ExportOrigin(resourceAttributes: [Attribute("service.name", .string("other"))], scopeName: "", scopeVersion: ""),
                          spans: [bare]),
        ]
    }()
}

@Suite(
    "OTLP trace decoders, on requests written by opentelemetry-proto's generated Python code",
    .serialized, .enabled(if: ReferenceDecoder.isAvailable, ReferenceDecoder.unavailableMessage)
)
struct ReferenceEncodingTests {
    @Test("protobuf, OTLP/JSON and snake_case OTLP/JSON all decode to the expected spans", arguments: ["protobuf", "json", "json_snake"])
    func decode(format: String) async throws {
        let request = try await ReferenceEncoder.request()
        let text = try #require(request[format])
        var decoded = format == "protobuf" ? try OTLPTraceDecoder.protobuf(ReferenceEncoder.bytes(hex: text)) : try json(text)
        // NaN is not equal to itself: check it, then compare the rest.
        try #require(decoded.count == 3 && decoded[0].spans.count == 2)
        let nan = decoded[0].spans[0].attributes.firstIndex { $0.key == "nan" }
        let nanIndex = try #require(nan)
        if case .double(let value) = decoded[0].spans[0].attributes[nanIndex].value { #expect(value.isNaN) } else { Issue.record("nan is not a double") }
        decoded[0].spans[0].attributes.remove(at: nanIndex)
        #expect(decoded == ReferenceEncoder.expected)
        for (got, expected) in zip(decoded.flatMap(\.spans), ReferenceEncoder.expected.flatMap(\.spans)) {
            #expect(got.attributes == expected.attributes, "attributes of \(expected.name)")
            #expect(got.traceFlags == expected.traceFlags, "flags of \(expected.name)")
            #expect(got.links == expected.links, "links of \(expected.name)")
        }
    }
}

// MARK: - Protobuf: what other serializers may write

@Suite("OTLP protobuf decoder: unknown fields, order, repetition")
struct ProtobufLeniencyTests {
    @Test("unknown fields of every wire type are skipped at every level")
    func unknownFields() throws {
        let u = Wire.unknownFields
        let anyValue = Wire.message(2, u + Wire.string(1, "v") + u)
        let keyValue = Wire.message(9, u + Wire.string(1, "k") + u + anyValue + u)
        let event = Wire.message(11, u + Wire.string(2, "e") + u)
        let link = Wire.message(13, u + Wire.message(1, Wire.traceID) + u + Wire.message(2, Wire.spanID) + u)
        let status = Wire.message(15, u + Wire.varintField(3, 2) + u)
        let span = u + Wire.ids + u + Wire.string(5, "n") + keyValue + event + link + status + Wire.fixed32(16, 0x301) + u
        let scope = Wire.message(1, u + Wire.string(1, "s") + u + Wire.string(2, "1") + u)
        let resource = Wire.message(1, u + Wire.message(1, Wire.string(1, "r") + Wire.message(2, Wire.string(1, "x"))) + u)
        let request = u + Wire.message(1, u + resource + u + Wire.message(2, u + scope + u + Wire.message(2, span) + u) + u) + u
        var expected = Wire.span(name: "n", attributes: [Attribute("k", .string("v"))], traceFlags: 1)
        expected.events = [SpanEventData(name: "e", timeUnixNano: 0)]
        expected.links = [SpanLinkData(traceID: Wire.expectedTraceID, spanID: 0x1112_1314_1516_1718, traceFlags: 0)]
        expected.statusCode = .error
        let origin = ExportOrigin(resourceAttributes: [Attribute("r", .string("x"))], scopeName: "s", scopeVersion: "1")
        #expect(try OTLPTraceDecoder.protobuf(request) == [ExportedSpans(origin: origin, spans: [expected])])
    }

    @Test("a known field with another wire type is skipped as unknown")
    func wrongWireType() throws {
        // kind as fixed32, name as varint.
        let decoded = try OTLPTraceDecoder.protobuf(Wire.request(Wire.ids + Wire.fixed32(6, 2) + Wire.varintField(5, 1)))
        #expect(spans(decoded) == [Wire.span()])
    }

    @Test("fields in any order; repeated scalars keep the last value, repeated messages merge or append")
    func orderAndRepetition() throws {
        let span = Wire.string(5, "first") + Wire.message(2, Wire.spanID) + Wire.string(5, "second") + Wire.message(1, Wire.traceID)
            + Wire.message(15, Wire.string(2, "m")) + Wire.message(15, Wire.varintField(3, 1))
        let scopeSpans = Wire.message(2, span) + Wire.message(1, Wire.string(1, "s"))  // scope after the spans
        let resourceSpans = Wire.message(2, scopeSpans) + Wire.message(1, Wire.message(1, Wire.string(1, "a")))
            + Wire.message(1, Wire.message(1, Wire.string(1, "b")))  // resource after, twice
        let decoded = try OTLPTraceDecoder.protobuf(Wire.message(1, resourceSpans))
        var expected = Wire.span(name: "second")
        expected.statusCode = .ok
        expected.statusMessage = "m"
        let origin = ExportOrigin(resourceAttributes: [Attribute("a", .string("")), Attribute("b", .string(""))], scopeName: "s", scopeVersion: "")
        #expect(decoded == [ExportedSpans(origin: origin, spans: [expected])])
    }

    @Test("Span.flags and Link.flags keep their low 8 bits; unknown kinds and status codes are unspecified and unset")
    func flagsAndEnums() throws {
        let link = Wire.message(13, Wire.message(1, Wire.traceID) + Wire.message(2, Wire.spanID) + Wire.fixed32(6, 0xFFFF_FF03))
        let span = Wire.ids + Wire.fixed32(16, 0x0000_0381) + Wire.varintField(6, 9) + Wire.message(15, Wire.varintField(3, 7)) + link
        let decoded = try #require(spans(try OTLPTraceDecoder.protobuf(Wire.request(span))).first)
        #expect(decoded.traceFlags == 0x81)
        #expect(decoded.links.first?.traceFlags == 3)
        #expect(decoded.kind == .unspecified)
        #expect(decoded.statusCode == .unset)
    }

    @Test("ids: an empty parent is a root; several spans and ScopeSpans in order")
    func rootAndOrder() throws {
        let decoded = try OTLPTraceDecoder.protobuf(
            Wire.message(1, Wire.message(2, Wire.message(2, Wire.ids + Wire.message(4, []))) + Wire.message(2, []) + Wire.message(2, Wire.message(2, Wire.ids + Wire.message(4, Wire.spanID))))
        )
        #expect(decoded.count == 3)
        #expect(decoded.map(\.spans.count) == [1, 0, 1])
        #expect(decoded[0].spans.first?.parentSpanID == 0)
        #expect(decoded[2].spans.first?.parentSpanID == 0x1112_1314_1516_1718)
    }

    @Test("invalid UTF-8 is repaired with U+FFFD")
    func invalidUTF8() throws {
        let name: [UInt8] = [0x66, 0xFF, 0x6F, 0xE2, 0x82]  // "f", a stray byte, "o", a truncated sequence
        let decoded = try OTLPTraceDecoder.protobuf(Wire.request(Wire.ids + Wire.message(5, name)))
        #expect(spans(decoded).first?.name == "f\u{FFFD}o\u{FFFD}")
    }

    @Test("nested arrays and key-value lists up to the depth limit are rendered; deeper ones throw")
    func nesting() throws {
        func nested(_ depth: Int) -> [UInt8] {
            var value = Wire.varintField(3, 1)  // AnyValue{int_value: 1}
            for _ in 1..<depth { value = Wire.message(5, Wire.message(1, value)) }  // AnyValue{array_value{values: [value]}}
            return Wire.request(Wire.ids + Wire.message(9, Wire.string(1, "k") + Wire.message(2, value)))
        }
        let limit = OTLPTraceDecoder.maximumValueDepth
        let deepest = try spans(OTLPTraceDecoder.protobuf(nested(limit))).first?.attributes.first?.value
        #expect(deepest == .string(String(repeating: "[", count: limit - 2) + "[1]" + String(repeating: "]", count: limit - 2)))
        #expect(try spans(OTLPTraceDecoder.protobuf(nested(2))).first?.attributes.first?.value == .intArray([1]))
        let error = try #require(protobufError(nested(limit + 1)))
        #expect(error.description.contains("nested more than \(limit) deep"))
        #expect(error.path.hasPrefix("resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.arrayValue.values[0]"))
        #expect(protobufError(nested(1_000)) != nil)
    }
}

// MARK: - Protobuf: malformed input

@Suite("OTLP protobuf decoder: malformed input throws, never crashes")
struct ProtobufMalformedTests {
    @Test("truncated at every byte offset: throws, saying what is truncated")
    func truncatedEverywhere() {
        let bytes = OTLPTraceEncoder.protobuf(Fixture.spans, origin: Fixture.origin)
        for count in 1..<bytes.count {
            let error = protobufError(Array(bytes[..<count]))
            #expect(error?.description.contains("truncated") == true, "truncated to \(count) bytes: \(String(describing: error))")
        }
    }

    @Test("a length past the end of its message")
    func lengthPastTheEnd() throws {
        // An attribute whose length (16) runs past the end of the span.
        let error = try #require(protobufError(Wire.request(Wire.ids + [0x4A, 0x10, 0x0A])))
        #expect(error.path == "resourceSpans[0].scopeSpans[0].spans[0]")
        #expect(error.reason.hasPrefix("truncated length-delimited field 9 at byte "))
        // A length too large for any input.
        #expect(protobufError([0x0A] + Wire.varint(.max)) != nil)
        #expect(protobufError([0x0A] + Wire.varint(1 << 62)) != nil)
        // Fixed-size fields cut short.
        #expect(protobufError(Wire.request(Wire.ids + [0x39, 1, 2, 3]))?.reason.contains("truncated fixed64 field 7") == true)
        #expect(protobufError(Wire.request(Wire.ids + [0x85, 0x01, 1]))?.reason.contains("truncated fixed32 field 16") == true)
    }

    @Test("invalid wire types, groups, field number 0, overlong varints")
    func invalidFraming() {
        #expect(protobufError(Wire.request(Wire.ids + [0x0E, 0]))?.reason.contains("invalid wire type 6") == true)
        #expect(protobufError(Wire.request(Wire.ids + [0x0F, 0]))?.reason.contains("invalid wire type 7") == true)
        #expect(protobufError(Wire.request(Wire.ids + [0x0B, 0x0C]))?.reason.contains("groups are not supported") == true)
        #expect(protobufError([0x0C])?.reason.contains("group") == true)
        #expect(protobufError([0x00, 0x00])?.reason.contains("invalid field number 0") == true)
        #expect(protobufError([0x50] + [UInt8](repeating: 0xFF, count: 10) + [0x01])?.reason.contains("varint longer than 64 bits") == true)
        #expect(protobufError([0x50, 0x80, 0x80])?.reason.contains("truncated varint") == true)
        #expect(protobufError(Wire.varint(UInt64(UInt32.max) + 1) + [0])?.reason.contains("invalid field number") == true)
    }

    @Test("ids of the wrong length, and missing ids")
    func ids() throws {
        let shortTrace = try #require(protobufError(Wire.request(Wire.message(1, Array(Wire.traceID.dropLast())) + Wire.message(2, Wire.spanID))))
        #expect(shortTrace.description.hasPrefix("resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 16 bytes, got 15"))
        #expect(protobufError(Wire.request(Wire.message(1, Wire.traceID) + Wire.message(2, Array(Wire.spanID.dropLast()))))?.path.hasSuffix("spanId") == true)
        #expect(protobufError(Wire.request(Wire.ids + Wire.message(4, [1, 2, 3, 4])))?.path.hasSuffix("parentSpanId") == true)
        #expect(protobufError(Wire.request(Wire.message(1, []) + Wire.message(2, Wire.spanID)))?.reason.contains("got 0") == true)
        #expect(protobufError(Wire.request(Wire.message(2, Wire.spanID)))?.description.contains("traceId: missing") == true)
        #expect(protobufError(Wire.request(Wire.message(1, Wire.traceID)))?.description.contains("spanId: missing") == true)
        let link = Wire.message(13, Wire.message(1, Wire.traceID) + Wire.message(2, [1]))
        #expect(protobufError(Wire.request(Wire.ids, Wire.ids + link))?.path == "resourceSpans[0].scopeSpans[0].spans[1].links[0].spanId")
    }

    @Test("random corruption: every mutation throws or decodes, none crashes")
    func corruption() {
        let valid = OTLPTraceEncoder.protobuf(Fixture.spans, origin: Fixture.origin)
        var generator = SplitMix64(seed: 42)
        var decodedCount = 0
        for round in 0..<3_000 {
            var bytes = valid
            for _ in 0...(round % 4) {
                let index = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: generator.next())
                case 1: bytes[index] ^= 0x80
                default: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: index)
                }
            }
            if protobufError(bytes) == nil { decodedCount += 1 }
        }
        #expect(decodedCount < 3_000)  // and no crash
    }
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - JSON: the mapping's variants

@Suite("OTLP/JSON decoder: the variants the JSON mapping allows")
struct JSONVariantTests {
    @Test("ids in upper or mixed case; an empty or null parentSpanId is a root")
    func ids() throws {
        let upper = #""traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"1112131415161718","parentSpanId":"AbCdEf0123456789""#
        #expect(try spans(json(jsonSpan("", ids: upper))).first?.parentSpanID == 0xABCD_EF01_2345_6789)
        #expect(try spans(json(jsonSpan(#""parentSpanId":"""#))).first?.parentSpanID == 0)
        #expect(try spans(json(jsonSpan(#""parentSpanId":null"#))).first?.parentSpanID == 0)
    }

    @Test("64-bit integers as strings or numbers, 32-bit ones too; enums as numbers or names")
    func numbersAndEnums() throws {
        let asNumbers = jsonSpan(#""startTimeUnixNano":18446744073709551615,"endTimeUnixNano":"18446744073709551615","kind":2,"flags":"1","droppedAttributesCount":"4294967295","status":{"code":2}"#)
        let asNames = jsonSpan(#""start_time_unix_nano":"18446744073709551615","end_time_unix_nano":18446744073709551615,"kind":"SPAN_KIND_SERVER","flags":1,"dropped_attributes_count":4294967295,"status":{"code":"STATUS_CODE_ERROR"}"#)
        let a = try #require(spans(json(asNumbers)).first)
        let b = try #require(spans(json(asNames)).first)
        #expect(a == b)
        #expect(a.startTimeUnixNano == .max && a.endTimeUnixNano == .max && a.kind == .server && a.traceFlags == 1)
        #expect(a.droppedAttributesCount == .max && a.statusCode == .error)
        #expect(try spans(json(jsonSpan(#""kind":"SPAN_KIND_CONSUMER","startTimeUnixNano":1e3"#))).first.map { ($0.kind, $0.startTimeUnixNano) }! == (.consumer, 1000))
        #expect(try spans(json(jsonSpan(#""kind":42,"status":{"code":-1}"#))).first.map { ($0.kind, $0.statusCode) }! == (.unspecified, .unset))
    }

    @Test("AnyValue members: intValue as string or number, doubles, bytes, snake_case, nulls")
    func anyValues() throws {
        #expect(try decodedAttribute(#"{"intValue":"-9223372036854775808"}"#) == .int(.min))
        #expect(try decodedAttribute(#"{"int_value":9223372036854775807}"#) == .int(.max))
        #expect(try decodedAttribute(#"{"doubleValue":"Infinity"}"#) == .double(.infinity))
        #expect(try decodedAttribute(#"{"doubleValue":"-Infinity"}"#) == .double(-.infinity))
        #expect(try decodedAttribute(#"{"double_value":"2.5"}"#) == .double(2.5))
        #expect(try decodedAttribute(#"{"doubleValue":-1.5e-300}"#) == .double(-1.5e-300))
        #expect(try decodedAttribute(#"{"doubleValue":3}"#) == .double(3))
        if case .double(let nan)? = try decodedAttribute(#"{"doubleValue":"NaN"}"#) { #expect(nan.isNaN) } else { Issue.record("NaN") }
        #expect(try decodedAttribute(#"{"bool_value":false}"#) == .bool(false))
        #expect(try decodedAttribute(#"{"bytesValue":"AAH+/w=="}"#) == .string("AAH+/w=="))
        #expect(try decodedAttribute(#"{"bytesValue":"AAH-_w"}"#) == .string("AAH+/w=="))
        #expect(try decodedAttribute(#"{"stringValue":null}"#) == .string(""))
        #expect(try decodedAttribute(#"{}"#) == .string(""))
        #expect(try decodedAttribute("null") == .string(""))
        #expect(try decodedAttribute(#"{"array_value":{"values":[{"boolValue":true},{"boolValue":false}]}}"#) == .boolArray([true, false]))
        #expect(try decodedAttribute(#"{"arrayValue":{"values":[{"doubleValue":1},{"doubleValue":"NaN"}]}}"#).map { "\($0)" } == "doubleArray([1.0, nan])")
        #expect(try decodedAttribute(#"{"arrayValue":{}}"#) == .stringArray([]))
        #expect(try decodedAttribute(#"{"kvlistValue":{"values":[{"key":"a\"b","value":{"doubleValue":"-Infinity"}},{"key":"c"}]}}"#) == .string(#"{"a\"b":"-Infinity","c":null}"#))
    }

    @Test("unknown keys are skipped whatever their value; null members are defaults; whitespace anywhere")
    func unknownKeysAndNulls() throws {
        let text = """
             { "futureField" : {"a":[1,2,{"b":null}],"c":"\\u00e9"}, "resourceSpans" : [ { "schemaUrl":"x", "resource" : { "attributes" : null,
              "entityRefs":[{"type":"service"}] } , "scopeSpans" : [ { "scope" : {"name":"s","attributes":[{"key":"k","value":{"stringValue":"v"}}]} ,
              "spans" : [ { "traceId" : "0102030405060708090a0b0c0d0e0f10" , "spanId" : "1112131415161718", "name": null, "events": null,
              "status": null, "newSpanField": [true, false, -0.5e+2] } ] } ] } ] }\t\r\n
            """
        let decoded = try json(text)
        #expect(decoded == [ExportedSpans(origin: ExportOrigin(resourceAttributes: [], scopeName: "s", scopeVersion: ""), spans: [Wire.span()])])
        #expect(try json(#"{}"#).isEmpty)
        #expect(try json(#"{"resourceSpans":null}"#).isEmpty)
    }

    @Test("string escapes: all of JSON's, surrogate pairs; lone surrogates and invalid UTF-8 are repaired")
    func escapes() throws {
        let name = #"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude80\uD83D\uDE80 lone:\ud800 \udc00 end\ud83d"#
        #expect(try spans(json(jsonSpan(#""name":""# + name + "\""))).first?.name == "\"\\/\u{8}\u{C}\n\r\tAé€🚀🚀 lone:\u{FFFD} \u{FFFD} end\u{FFFD}")
        var bytes = Array(jsonSpan(#""name":"f?o""#).utf8)
        bytes[bytes.firstIndex(of: UInt8(ascii: "?"))!] = 0xFF
        #expect(try spans(OTLPTraceDecoder.json(bytes)).first?.name == "f\u{FFFD}o")
    }
}

// MARK: - JSON: malformed input

@Suite("OTLP/JSON decoder: malformed input throws, never crashes")
struct JSONMalformedTests {
    @Test("truncated at every byte offset: throws")
    func truncatedEverywhere() {
        let bytes = OTLPTraceEncoder.json(Fixture.spans, origin: Fixture.origin)
        for count in 0..<bytes.count {
            #expect(throws: OTLPDecodingError.self, "truncated to \(count) bytes") { try OTLPTraceDecoder.json(Array(bytes[..<count])) }
        }
    }

    @Test("bad ids, with a path to the field")
    func badIDs() throws {
        let error = try #require(jsonError(jsonSpan("", ids: #""traceId":"abc","spanId":"1112131415161718""#)))
        #expect(error.description.hasPrefix(#"resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits, got "abc" at byte "#))
        #expect(jsonError(jsonSpan("", ids: #""traceId":"0102030405060708090a0b0c0d0e0fXX","spanId":"1112131415161718""#))?.path.hasSuffix("traceId") == true)
        #expect(jsonError(jsonSpan("", ids: #""traceId":"AQIDBAUGBwgJCgsMDQ4PEA==","spanId":"1112131415161718""#)) != nil)  // base64: not OTLP/JSON
        #expect(jsonError(jsonSpan("", ids: #""traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"11121314151617""#))?.path.hasSuffix("spanId") == true)
        #expect(jsonError(jsonSpan("", ids: #""traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"""#))?.path.hasSuffix("spanId") == true)
        #expect(jsonError(jsonSpan("", ids: #""traceId":"0102030405060708090a0b0c0d0e0f10""#))?.description.contains("spanId: missing") == true)
        #expect(jsonError(jsonSpan("", ids: #""traceId":1,"spanId":"1112131415161718""#))?.reason.contains("found a number") == true)
        #expect(jsonError(jsonSpan(#""parentSpanId":"12""#))?.path.hasSuffix("parentSpanId") == true)
        #expect(jsonError(jsonSpan(#""links":[{"traceId":"0102030405060708090a0b0c0d0e0f10"}]"#))?.path == "resourceSpans[0].scopeSpans[0].spans[0].links[0].spanId")
    }

    @Test("values of the wrong type or out of range")
    func wrongTypes() {
        let cases: [(String, String)] = [
            (#""name":5"#, "spans[0].name"),
            (#""name":["x"]"#, "spans[0].name"),
            (#""kind":"SPAN_KIND_BOGUS""#, "spans[0].kind"),
            (#""kind":true"#, "spans[0].kind"),
            (#""kind":2147483648"#, "spans[0].kind"),
            (#""startTimeUnixNano":-1"#, "spans[0].startTimeUnixNano"),
            (#""startTimeUnixNano":"18446744073709551616""#, "spans[0].startTimeUnixNano"),
            (#""startTimeUnixNano":"12abc""#, "spans[0].startTimeUnixNano"),
            (#""startTimeUnixNano":" 1""#, "spans[0].startTimeUnixNano"),
            (#""startTimeUnixNano":1.5"#, "spans[0].startTimeUnixNano"),
            (#""droppedAttributesCount":4294967296"#, "spans[0].droppedAttributesCount"),
            (#""flags":{}"#, "spans[0].flags"),
            (#""attributes":{}"#, "spans[0]"),
            (#""attributes":[{"key":"k","value":{"intValue":"1.5"}}]"#, "spans[0].attributes[0].value.intValue"),
            (#""attributes":[{"key":"k","value":{"intValue":"9223372036854775808"}}]"#, "spans[0].attributes[0].value.intValue"),
            (#""attributes":[{"key":"k","value":{"doubleValue":"nan"}}]"#, "spans[0].attributes[0].value.doubleValue"),
            (#""attributes":[{"key":"k","value":{"boolValue":"true"}}]"#, "spans[0].attributes[0].value.boolValue"),
            (#""attributes":[{"key":"k","value":{"bytesValue":"A"}}]"#, "spans[0].attributes[0].value.bytesValue"),
            (#""attributes":[{"key":"k","value":{"bytesValue":"AA=A"}}]"#, "spans[0].attributes[0].value.bytesValue"),
            (#""attributes":[{"key":5}]"#, "spans[0].attributes[0].key"),
            (#""events":[{"timeUnixNano":"x"}]"#, "spans[0].events[0].timeUnixNano"),
            (#""status":{"code":"STATUS_CODE_BAD"}"#, "spans[0].status.code"),
            (#""status":[]"#, "spans[0].status"),
        ]
        for (members, path) in cases {
            let error = jsonError(jsonSpan(members))
            #expect(error?.path == "resourceSpans[0].scopeSpans[0]." + path, "\(members): \(String(describing: error))")
        }
    }

    @Test("syntax errors: bad escapes, unterminated strings, control characters, trailing text, commas, literals")
    func syntax() {
        let documents = [
            "", " ", "null", "[]", "\"x\"", "{", "}", "{]", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":[1,]}"#, #"{,"a":1}"#,
            #"{"a":1} x"#, #"{"a":1}{}"#, #"{'a':1}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{"a":NaN}"#, #"{"a":01}"#, #"{"a":1.}"#,
            #"{"a":.5}"#, #"{"a":1e}"#, #"{"a":+1}"#, #"{"a":-}"#, #"{"a":"\x"}"#, #"{"a":"\u12G4"}"#, #"{"a":"\u123"}"#,
            #"{"a":"abc}"#, #"{"a":"abc\"}"#, "{\"a\":\"a\u{1}b\"}", "{\"a\":\"a\nb\"}", #"{"a" 1}"#, #"{"a":[1 2]}"#, #"{"a":{"b":1 "c":2}}"#,
        ]
        for document in documents {
            #expect(jsonError(document) != nil, "\(document)")
        }
        #expect(jsonError(#"{"a":"\x"}"#)?.reason.contains(#"bad escape '\x'"#) == true)
        #expect(jsonError(#"{"a":"abc}"#)?.reason == "unterminated string starting at byte 5")
        #expect(jsonError(#"{"a":1} x"#)?.reason == "unexpected text after the JSON value at byte 8")
        #expect(jsonError(jsonSpan(#""name":"abc"#))?.path == "resourceSpans[0].scopeSpans[0].spans[0].name")
    }

    @Test("deep nesting: a limit for any value, and for AnyValues")
    func deepNesting() {
        let deep = #"{"x":"# + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "}"
        #expect(jsonError(deep)?.reason.contains("nested more than 256 deep") == true)
        let fine = #"{"x":"# + String(repeating: #"{"a":"#, count: 200) + "1" + String(repeating: "}", count: 200) + "}"
        #expect(jsonError(fine) == nil)
        #expect(jsonError(String(repeating: "[", count: 100_000)) != nil)
        var value = #"{"intValue":1}"#
        for _ in 0..<OTLPTraceDecoder.maximumValueDepth { value = #"{"arrayValue":{"values":["# + value + "]}}" }
        let error = jsonError(jsonAttribute(value))
        #expect(error?.reason.contains("nested more than \(OTLPTraceDecoder.maximumValueDepth) deep") == true, "\(String(describing: error))")
    }

    @Test("random corruption: every mutation throws or decodes, none crashes")
    func corruption() {
        let valid = OTLPTraceEncoder.json(Fixture.spans, origin: Fixture.origin)
        let alphabet = Array(#"{}[]",:\0123456789abcdefABCDEFeE+-.ntrufals u"#.utf8) + [0x00, 0x1F, 0xFF, 0xC3]
        var generator = SplitMix64(seed: 7)
        for round in 0..<2_000 {
            var bytes = valid
            for _ in 0...(round % 3) {
                let index = Int(generator.next() % UInt64(bytes.count))
                let byte = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                if generator.next() % 2 == 0 { bytes[index] = byte } else { bytes.insert(byte, at: index) }
            }
            _ = try? OTLPTraceDecoder.json(bytes)
        }
    }
}
