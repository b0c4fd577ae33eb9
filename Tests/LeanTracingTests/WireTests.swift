import Foundation
import OTLPReceiver
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing
import TraceContext
import Tracing

@testable import LeanTracing
@testable import TracingSetup

/// The OpenTelemetry protobuf definitions' own Python code decodes what the lean tracer sends.
let decodeScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("OTLPWireTests/Decode/otlp_decode.py").path

func pythonDecode(_ mode: String, _ body: [UInt8]) throws -> [String: Any]? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", decodeScript, mode]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = Pipe()
    try process.run()
    try input.fileHandleForWriting.write(contentsOf: Data(body))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return try JSONSerialization.jsonObject(with: data) as? [String: Any]
}

func pythonCanDecode() -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", decodeScript, "check"]
    process.standardError = Pipe()
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

@Suite("What the lean tracer sends, decoded by opentelemetry-proto", .timeLimit(.minutes(1)))
struct LeanWireTests {
    @Test(arguments: ["http/protobuf", "http/json"])
    func exportedSpansDecode(protocolName: String) async throws {
        try #require(pythonCanDecode(), "python3 cannot import opentelemetry.proto: pip install opentelemetry-proto==1.27.0")
        let bodies = Mutex<[[UInt8]]>([])
        let receiver = try await OTLPHTTPReceiver.start { body, _ in bodies.withLock { $0.append(body) } }
        let environment = [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.tracesEndpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocolName,
            "OTEL_BSP_SCHEDULE_DELAY": "600000",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
        ]
        let (tracer, service) = try LeanTracingBackend.make(serviceName: "wire-test", environment: environment, logger: quietLogger)
        let group = ServiceGroup(services: [service], logger: quietLogger)
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            let root = tracer.startSpan("client_order_received", context: .topLevel, ofKind: .server)
            root.attributes["user.id"] = "alice"
            let other = tracer.startSpan("order_batching", context: .topLevel, ofKind: .internal)
            let child = tracer.startSpan("send client-orders", context: root.context, ofKind: .producer)
            child.setAttributes([.init("messaging.system", .string("kafka")), .init("messaging.kafka.offset", .int(41))])
            child.addEvent(SpanEvent(name: "retry", attributes: ["attempt": 2]))
            child.addLink(SpanLink(context: other.context, attributes: ["client.order_id": "c-1"]))
            child.setStatus(SpanStatus(code: .error, message: "broker down"))
            child.end()
            other.end()
            root.end()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await receiver.stop()
        let mode = protocolName == "http/json" ? "json" : "protobuf"
        let decoded = try bodies.withLock { $0 }.map { try #require(try pythonDecode(mode, $0), "opentelemetry-proto could not decode the request") }
        let resourceSpans = decoded.flatMap { $0["resourceSpans"] as? [[String: Any]] ?? [] }
        let resource = try #require(resourceSpans.first?["resource"] as? [String: Any])
        let resourceAttributes = Dictionary(
            (resource["attributes"] as? [[String: Any]] ?? []).map { ($0["key"] as? String ?? "", (($0["value"] as? [String: Any])?["stringValue"] as? String) ?? "") },
            uniquingKeysWith: { first, _ in first })
        #expect(resourceAttributes["service.name"] == "wire-test")
        #expect(resourceAttributes["service.instance.id"]?.count == 32)
        #expect(resourceAttributes["host.name"]?.isEmpty == false)
        #expect(resourceAttributes["deployment.environment"] == "test")
        let spans = resourceSpans.flatMap { ($0["scopeSpans"] as? [[String: Any]] ?? []).flatMap { $0["spans"] as? [[String: Any]] ?? [] } }
        #expect(spans.count == 3)
        func span(_ name: String) throws -> [String: Any] { try #require(spans.first { $0["name"] as? String == name }) }
        let root = try span("client_order_received")
        let child = try span("send client-orders")
        let other = try span("order_batching")
        #expect(root["kind"] as? String == "SPAN_KIND_SERVER")
        #expect(child["kind"] as? String == "SPAN_KIND_PRODUCER")
        #expect(other["kind"] as? String == "SPAN_KIND_INTERNAL")
        #expect(root["parentSpanId"] == nil)
        #expect(child["parentSpanId"] as? String == root["spanId"] as? String)
        #expect(child["traceId"] as? String == root["traceId"] as? String)
        let events = child["events"] as? [[String: Any]] ?? []
        #expect(events.first?["name"] as? String == "retry")
        let links = child["links"] as? [[String: Any]] ?? []
        #expect(links.first?["spanId"] as? String == other["spanId"] as? String)
        #expect(links.first?["traceId"] as? String == other["traceId"] as? String)
        #expect((links.first?["attributes"] as? [[String: Any]])?.first?["key"] as? String == "client.order_id")
        let status = child["status"] as? [String: Any]
        #expect(status?["code"] as? String == "STATUS_CODE_ERROR")
        #expect(status?["message"] as? String == "broker down")
        let keys = (child["attributes"] as? [[String: Any]] ?? []).compactMap { $0["key"] as? String }
        #expect(Set(keys) == ["messaging.system", "messaging.kafka.offset"])
        #expect((root["flags"] as? Int ?? 0) & 1 == 1)
    }
}
