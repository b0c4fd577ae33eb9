import Foundation
import OTLPWire
import TestSupport
import Testing

/// Runs `Decode/otlp_decode.py`: the generated Python classes of `opentelemetry-proto` and
/// `google.protobuf.json_format`, i.e. code that is not ours, decode what the encoders wrote.
enum ReferenceDecoder {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Decode/otlp_decode.py").path

    /// The message shown when the tests that need Python are skipped.
    static let unavailableMessage: Comment =
        "python3 cannot import opentelemetry.proto: install it with `python3 -m pip install opentelemetry-proto==1.27.0`"

    /// Whether `python3` can import `opentelemetry.proto`.
    static let isAvailable: Bool = {
        signal(SIGPIPE, SIG_IGN)  // a dying helper must fail a test, not kill the test process
        return (try? run(["check"], input: []))?.status == 0
    }()

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private static func run(_ arguments: [String], input: [UInt8]) throws -> (status: Int32, stdout: Data, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // The helper reads all of stdin before it writes anything, so this cannot deadlock.
        if !input.isEmpty { try stdin.fileHandleForWriting.write(contentsOf: input) }
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output, String(decoding: errors, as: UTF8.self))
    }

    /// The helper's stdout for `mode` (`protobuf`, `json`, `protobuf-bytes`, `json-bytes`). The
    /// helper runs and is waited for off the cooperative pool: it takes a second or more to start,
    /// and two of them blocking the pool's threads stalled every other test in the process.
    static func text(_ mode: String, _ input: [UInt8]) async throws -> String {
        let result = try await offThePool { try run([mode], input: input) }
        guard result.status == 0 else {
            throw Failure(description: "otlp_decode.py \(mode) failed (status \(result.status)): \(result.stderr)")
        }
        return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The request as `MessageToJson` renders it, parsed.
    static func decode(_ mode: String, _ input: [UInt8]) async throws -> [String: Any] {
        let text = try await text(mode, input)
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw Failure(description: "MessageToJson output is not an object: \(text.prefix(200))")
        }
        return object
    }

    /// The request decoded by Python and serialized again as protobuf, in hex.
    static func reserializedHex(_ mode: String, _ input: [UInt8]) async throws -> String {
        try await text(mode + "-bytes", input)
    }
}

/// Reads back `MessageToJson`'s rendering of an `ExportTraceServiceRequest` into our types, so
/// that whole spans can be compared with `==`. Missing fields take their proto3 defaults, as
/// MessageToJson leaves defaults out.
struct DecodedRequest {
    var resourceSpans: [[String: Any]]

    init(_ json: [String: Any]) {
        resourceSpans = json["resourceSpans"] as? [[String: Any]] ?? []
    }

    var origin: ExportOrigin? {
        guard let resourceSpans = resourceSpans.first else { return nil }
        let resource = resourceSpans["resource"] as? [String: Any] ?? [:]
        let scopeSpans = (resourceSpans["scopeSpans"] as? [[String: Any]])?.first ?? [:]
        let scope = scopeSpans["scope"] as? [String: Any] ?? [:]
        return ExportOrigin(
            resourceAttributes: Self.attributes(resource["attributes"]),
            scopeName: scope["name"] as? String ?? "", scopeVersion: scope["version"] as? String ?? ""
        )
    }

    /// The raw span objects of the first (only) ScopeSpans.
    var spanObjects: [[String: Any]] {
        let scopeSpans = (resourceSpans.first?["scopeSpans"] as? [[String: Any]])?.first ?? [:]
        return scopeSpans["spans"] as? [[String: Any]] ?? []
    }

    var spans: [SpanData] { spanObjects.map(Self.span) }

    static func bytes(_ base64: Any?) -> [UInt8] {
        guard let string = base64 as? String, let data = Data(base64Encoded: string) else { return [] }
        return [UInt8](data)
    }

    /// An id (base64 in MessageToJson) as lowercase hex; "" when absent.
    static func hex(_ base64: Any?) -> String {
        bytes(base64).hex
    }

    static func uint64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func traceID(_ base64: Any?) -> TraceID {
        let bytes = bytes(base64)
        guard bytes.count == 16 else { return TraceID(high: 0, low: 0) }
        return TraceID(high: uint64(bytes[0..<8]), low: uint64(bytes[8..<16]))
    }

    static func spanID(_ base64: Any?) -> UInt64 {
        let bytes = bytes(base64)
        return bytes.count == 8 ? uint64(bytes[...]) : 0
    }

    static func u64(_ string: Any?) -> UInt64 { (string as? String).flatMap { UInt64($0) } ?? 0 }
    static func u32(_ number: Any?) -> UInt32 { (number as? NSNumber).map { UInt32($0.uint64Value) } ?? 0 }

    static func double(_ value: Any?) -> Double {
        switch value {
        case let string as String:
            return ["NaN": .nan, "Infinity": .infinity, "-Infinity": -.infinity][string] ?? .signalingNaN
        case let number as NSNumber:
            return number.doubleValue
        default:
            return .signalingNaN
        }
    }

    static func anyValue(_ any: Any?) -> AttributeValue? {
        guard let value = any as? [String: Any] else { return nil }
        if let string = value["stringValue"] as? String { return .string(string) }
        if let bool = value["boolValue"] { return .bool((bool as? NSNumber)?.boolValue ?? false) }
        if let int = value["intValue"] as? String { return Int64(int).map { .int($0) } }
        if let double = value["doubleValue"] { return .double(Self.double(double)) }
        if let array = value["arrayValue"] as? [String: Any] {
            let values = (array["values"] as? [Any] ?? []).compactMap(anyValue)
            // An empty ArrayValue carries no element type; it reads back as an empty string array.
            if values.allSatisfy({ if case .string = $0 { true } else { false } }) {
                return .stringArray(values.map { if case .string(let s) = $0 { s } else { "" } })
            }
            if values.allSatisfy({ if case .bool = $0 { true } else { false } }) {
                return .boolArray(values.map { if case .bool(let b) = $0 { b } else { false } })
            }
            if values.allSatisfy({ if case .int = $0 { true } else { false } }) {
                return .intArray(values.map { if case .int(let i) = $0 { i } else { 0 } })
            }
            if values.allSatisfy({ if case .double = $0 { true } else { false } }) {
                return .doubleArray(values.map { if case .double(let d) = $0 { d } else { 0 } })
            }
            return nil
        }
        return nil  // an AnyValue with no member set
    }

    static func attributes(_ any: Any?) -> [Attribute] {
        (any as? [[String: Any]] ?? []).map { keyValue in
            Attribute(keyValue["key"] as? String ?? "", anyValue(keyValue["value"]) ?? .string("<no value>"))
        }
    }

    static let kinds: [String: SpanDataKind] = [
        "SPAN_KIND_UNSPECIFIED": .unspecified, "SPAN_KIND_INTERNAL": .internal, "SPAN_KIND_SERVER": .server,
        "SPAN_KIND_CLIENT": .client, "SPAN_KIND_PRODUCER": .producer, "SPAN_KIND_CONSUMER": .consumer,
    ]
    static let codes: [String: SpanDataStatusCode] = [
        "STATUS_CODE_UNSET": .unset, "STATUS_CODE_OK": .ok, "STATUS_CODE_ERROR": .error,
    ]

    static func span(_ object: [String: Any]) -> SpanData {
        let status = object["status"] as? [String: Any] ?? [:]
        return SpanData(
            traceID: traceID(object["traceId"]), spanID: spanID(object["spanId"]), parentSpanID: spanID(object["parentSpanId"]),
            traceState: object["traceState"] as? String ?? "", traceFlags: UInt8(truncatingIfNeeded: u32(object["flags"])),
            name: object["name"] as? String ?? "", kind: kinds[object["kind"] as? String ?? "SPAN_KIND_UNSPECIFIED"] ?? .unspecified,
            startTimeUnixNano: u64(object["startTimeUnixNano"]), endTimeUnixNano: u64(object["endTimeUnixNano"]),
            attributes: attributes(object["attributes"]), droppedAttributesCount: u32(object["droppedAttributesCount"]),
            events: (object["events"] as? [[String: Any]] ?? []).map { event in
                SpanEventData(
                    name: event["name"] as? String ?? "", timeUnixNano: u64(event["timeUnixNano"]),
                    attributes: attributes(event["attributes"]), droppedAttributesCount: u32(event["droppedAttributesCount"])
                )
            },
            droppedEventsCount: u32(object["droppedEventsCount"]),
            links: (object["links"] as? [[String: Any]] ?? []).map { link in
                SpanLinkData(
                    traceID: traceID(link["traceId"]), spanID: spanID(link["spanId"]), traceState: link["traceState"] as? String ?? "",
                    traceFlags: UInt8(truncatingIfNeeded: u32(link["flags"])),
                    attributes: attributes(link["attributes"]), droppedAttributesCount: u32(link["droppedAttributesCount"])
                )
            },
            droppedLinksCount: u32(object["droppedLinksCount"]),
            statusCode: codes[status["code"] as? String ?? "STATUS_CODE_UNSET"] ?? .unset,
            statusMessage: status["message"] as? String ?? ""
        )
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hex, two digits a byte.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(count * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
