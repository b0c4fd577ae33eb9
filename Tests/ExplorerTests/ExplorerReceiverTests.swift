import CZlib
import Explorer
import Foundation
import GRDB
import KafkaTestSupport
import OTLPExporter
import OTLPWire
import Testing
import TestSupport
import TraceStore

@Suite(.timeLimit(.minutes(3)))
struct ExplorerReceiverTests {
    let scenario = LineageScenario()

    /// Waits until the store has written `count` spans.
    func stored(_ explorer: RunningExplorer, atLeast count: Int) async -> Bool {
        await eventually { ((try? await explorer.explorer.store.statistics().spans) ?? 0) >= count }
    }

    @Test func protobufJSONAndGzipAreAllStored() async throws {
        try await withExplorer { explorer in
            let batches = scenario.batches
            // Protobuf, plain.
            let first = try await explorer.post(OTLPTraceEncoder.protobuf(batches[0].spans, origin: batches[0].origin), contentType: "application/x-protobuf")
            #expect(first.status == 200)
            #expect(first.headers["content-type"] == "application/x-protobuf")
            // JSON, plain.
            let second = try await explorer.post(OTLPTraceEncoder.json(batches[1].spans, origin: batches[1].origin), contentType: "application/json")
            #expect(second.status == 200 && second.text == "{}")
            // Both, gzipped, through our exporter.
            for (index, batch) in batches.enumerated().dropFirst(2) {
                var configuration = OTLPHTTPExporterConfiguration(endpoint: explorer.tracesURL)
                configuration.compression = .gzip
                configuration.timeout = .seconds(60)
                let json = index % 2 == 0
                configuration.contentType = json ? OTLPHTTPExporterConfiguration.jsonContentType : OTLPHTTPExporterConfiguration.protobufContentType
                let exporter = OTLPHTTPExporter(configuration: configuration, logger: quietLogger)
                let body = json ? OTLPTraceEncoder.json(batch.spans, origin: batch.origin) : OTLPTraceEncoder.protobuf(batch.spans, origin: batch.origin)
                #expect(await exporter.export(body: body) == .success)
                await exporter.shutdown()
            }
            #expect(await stored(explorer, atLeast: scenario.spanCount))
            let spans = try await explorer.explorer.store.spans(inTrace: scenario.batchTrace)
            let expected = scenario.batches.flatMap(\.spans).filter { $0.traceID == scenario.batchTrace }
            #expect(Set(spans.map(\.span)) == Set(expected))
        }
    }

    @Test func spansFromThePythonSDKsExporterAreStored() async throws {
        try await withExplorer { explorer in
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Interop/otlp_sdk_export.py")
            let endpoint = explorer.tracesURL
            let (status, data) = try await offThePool { () throws -> (Int32, Data) in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", script.path, endpoint, "py-order-1"]
                let output = Pipe()
                process.standardOutput = output
                try process.run()
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return (process.terminationStatus, data)
            }
            try #require(status == 0, "the Python exporter failed: is opentelemetry-exporter-otlp-proto-http installed? (make test installs it)")
            let ids = try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
            let traceID = try #require(TraceID(hex: ids["traceId"] ?? ""))
            #expect(await stored(explorer, atLeast: 2))
            let spans = try await explorer.explorer.store.spans(inTrace: traceID)
            #expect(spans.count == 2)
            let root = try #require(spans.first { $0.span.name == "client_order_received" })
            #expect(root.service == "python-sdk-peer")
            #expect(root.span.kind == .server)
            #expect(spanIDHex(root.span.spanID) == ids["rootSpanId"])
            #expect(root.span.attributes.contains(Attribute("client.order_id", .string("py-order-1"))))
            #expect(root.span.attributes.contains(Attribute("order.quantity", .int(7))))
            #expect(root.span.attributes.contains(Attribute("ratio", .double(0.5))))
            #expect(root.span.attributes.contains(Attribute("tags", .stringArray(["a", "b"]))))
            let child = try #require(spans.first { $0.span.name == "order_manager_processing" })
            #expect(child.span.parentSpanID == root.span.spanID)
            #expect(child.span.links.map(\.spanID) == [root.span.spanID])
            #expect(child.span.events.map(\.name) == ["validated"])
            #expect(try await explorer.explorer.store.resolve("py-order-1").map(\.traceID) == [traceID])
        }
    }

    @Test func badPayloadsGetA400WithTheReasonAndLoseNothing() async throws {
        try await withExplorer { explorer in
            let batch = scenario.batches[0]
            #expect(try await explorer.post(OTLPTraceEncoder.protobuf(batch.spans, origin: batch.origin), contentType: "application/x-protobuf").status == 200)
            #expect(await stored(explorer, atLeast: batch.spans.count))
            let valid = OTLPTraceEncoder.protobuf(scenario.batches[1].spans, origin: scenario.batches[1].origin)
            let json = OTLPTraceEncoder.json(scenario.batches[1].spans, origin: scenario.batches[1].origin)
            let cases: [(body: [UInt8], type: String, encoding: String?, status: Int)] = [
                (Array(valid.prefix(valid.count / 2)), "application/x-protobuf", nil, 400),
                ([0x0A, 0xFF, 0xFF, 0xFF, 0x0F], "application/x-protobuf", nil, 400),
                (Array(json.prefix(json.count - 3)), "application/json", nil, 400),
                (Array("{\"resourceSpans\": 7}".utf8), "application/json", nil, 400),
                (valid, "application/x-protobuf", "gzip", 400),
                (Array(gzip(valid).dropLast(8)), "application/x-protobuf", "gzip", 400),
                (valid, "application/x-protobuf", "br", 415),
                (valid, "text/plain", nil, 415),
            ]
            for bad in cases {
                let answer = try await explorer.post(bad.body, contentType: bad.type, encoding: bad.encoding)
                #expect(answer.status == bad.status, "\(bad.type) \(bad.encoding ?? "") -> \(answer.status) \(answer.text)")
                #expect(!answer.text.isEmpty)
            }
            let stats = try await explorer.explorer.store.statistics()
            #expect(stats.spans == batch.spans.count)
            #expect(stats.pendingSpans == 0)
            // Still serving, and still storing.
            #expect(try await explorer.post(gzip(valid), contentType: "application/x-protobuf", encoding: "gzip").status == 200)
            #expect(await stored(explorer, atLeast: batch.spans.count + scenario.batches[1].spans.count))
        }
    }

    @Test func aBodyPastTheLimitGetsA413() async throws {
        try await withExplorer({ $0.maxBodyBytes = 2048 }) { explorer in
            let batch = scenario.batches[0]
            let body = OTLPTraceEncoder.protobuf(scenario.batches.flatMap(\.spans), origin: batch.origin)
            try #require(body.count > 2048)
            #expect(try await explorer.post(body, contentType: "application/x-protobuf").status == 413)
            // A small gzip body that inflates past the limit is refused too.
            let bomb = gzip([UInt8](repeating: 0, count: 1 << 20))
            try #require(bomb.count < 2048)
            #expect(try await explorer.post(bomb, contentType: "application/x-protobuf", encoding: "gzip").status == 400)
        }
    }

    @Test func whenTheStoreIsBehindItAnswers503WithRetryAfterAndOurExporterRetries() async throws {
        let path = temporaryFilePath("explorer", extension: "sqlite")
        try await withExplorer(path: path, {
            $0.store.maxPendingSpans = 5
            $0.store.flushInterval = .milliseconds(200)
        }) { explorer in
            // Another connection holds the database: the store cannot write.
            var options = Configuration()
            options.allowsUnsafeTransactions = true
            let blocker = try DatabaseQueue(path: path, configuration: options)
            try await blocker.writeWithoutTransaction { try $0.execute(sql: "BEGIN EXCLUSIVE") }
            let spans = scenario.batches.flatMap(\.spans)
            let origin = scenario.batches[0].origin
            #expect(try await explorer.post(OTLPTraceEncoder.protobuf(Array(spans[0..<4]), origin: origin), contentType: "application/x-protobuf").status == 200)
            let busy = try await explorer.post(OTLPTraceEncoder.protobuf(Array(spans[4..<8]), origin: origin), contentType: "application/x-protobuf")
            #expect(busy.status == 503)
            #expect(busy.headers["retry-after"] == "1")
            #expect(!busy.text.isEmpty)
            // Our exporter retries after Retry-After.
            var configuration = OTLPHTTPExporterConfiguration(endpoint: explorer.tracesURL)
            configuration.timeout = .seconds(60)
            configuration.maxAttempts = 1000
            configuration.maxRetryAfter = .seconds(1)
            let exporter = OTLPHTTPExporter(configuration: configuration, logger: quietLogger)
            async let result = exporter.export(body: OTLPTraceEncoder.protobuf(Array(spans[4..<8]), origin: origin))
            #expect(await eventually { ((try? await explorer.statistic("busyRequests")) ?? 0) >= 2 })
            // The database is free again: the spans held back are written, the retry gets in.
            try await blocker.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }
            try blocker.close()
            #expect(await result == .success)
            await exporter.shutdown()
            #expect(await stored(explorer, atLeast: 8))
        }
    }
}

/// gzip, as a client would send it.
func gzip(_ input: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
    var input = input
    let produced = input.withUnsafeMutableBufferPointer { source in
        output.withUnsafeMutableBufferPointer { target in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            stream.next_out = target.baseAddress
            stream.avail_out = UInt32(target.count)
            deflate(&stream, Z_FINISH)
            return target.count - Int(stream.avail_out)
        }
    }
    return Array(output.prefix(produced))
}
