import NIOCore
import OTLPReceiver
import Synchronization
import TestSupport
import Testing

@testable import OTLPExporter

@Suite("OTLP/HTTP exporter against a receiver", .timeLimit(.minutes(5)))
struct OTLPHTTPExporterTests {
    @Test("a protobuf body arrives intact, with the expected request line and headers")
    func protobufBodyArrives() async throws {
        let recording = Recording()
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }
        let body = randomBytes(10_000)

        let result = await withExporter(testConfiguration(receiver.tracesEndpoint)) { await $0.export(body: body) }

        #expect(result.isSuccess)
        let request = try #require(recording.requests.first)
        #expect(recording.count == 1)
        #expect(request.method == "POST")
        #expect(request.uri == "/v1/traces")
        #expect(request.body == body)
        #expect(request.contentType == "application/x-protobuf")
        #expect(request.header("host") == "127.0.0.1:\(receiver.port)")
        #expect(request.header("content-length") == "10000")
        #expect(request.header("content-encoding") == nil)
    }

    @Test("a JSON body arrives with the JSON content type")
    func jsonBodyArrives() async throws {
        let recording = Recording()
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }
        let body = Array(#"{"resourceSpans":[]}"#.utf8)
        let configuration = testConfiguration(receiver.tracesEndpoint, contentType: OTLPHTTPExporterConfiguration.jsonContentType)

        let result = await withExporter(configuration) { await $0.export(body: body) }

        #expect(result.isSuccess)
        #expect(recording.requests.map(\.body) == [body])
        #expect(recording.requests.first?.contentType == "application/json")
    }

    @Test("a gzip body arrives compressed and inflates to the original")
    func gzipBodyArrives() async throws {
        let recording = Recording()
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }
        let body = Array(String(repeating: "span-name order.place attribute ", count: 500).utf8)

        let result = await withExporter(testConfiguration(receiver.tracesEndpoint, compression: .gzip)) {
            await $0.export(body: body)
        }

        #expect(result.isSuccess)
        let request = try #require(recording.requests.first)
        #expect(request.header("content-encoding") == "gzip")
        #expect(request.header("content-length") == String(request.body.count))
        #expect(request.body.starts(with: [0x1f, 0x8b]))
        #expect(request.body.count < body.count)
        #expect(gunzip(request.body) == body)
    }

    @Test("extra headers arrive; headers the exporter owns are not overridden")
    func extraHeadersArrive() async throws {
        let recording = Recording()
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }
        let headers = [
            ("x-api-key", "secret"), ("X-Tenant", "desk a"), ("Content-Type", "text/plain"),
            ("Bad Name", "x"), ("x-injected", "a\r\nX-Evil: 1"),
        ]

        let result = await withExporter(testConfiguration(receiver.tracesEndpoint, headers: headers)) {
            await $0.export(body: [1, 2, 3])
        }

        #expect(result.isSuccess)
        let request = try #require(recording.requests.first)
        #expect(request.header("x-api-key") == "secret")
        #expect(request.header("x-tenant") == "desk a")
        #expect(request.contentType == "application/x-protobuf")
        #expect(request.headers.filter { $0.name.lowercased() == "content-type" }.count == 1)
        #expect(request.header("x-injected") == nil)
        #expect(request.header("x-evil") == nil)
        #expect(request.header("bad name") == nil)
    }

    @Test("the receiver's original callback API still answers success")
    func receiverOriginalAPI() async throws {
        let received = Mutex<[([UInt8], String)]>([])
        let receiver = try await OTLPHTTPReceiver.start { body, contentType in
            received.withLock { $0.append((body, contentType)) }
        }
        defer { Task { await receiver.stop() } }

        let result = await withExporter(testConfiguration(receiver.tracesEndpoint, contentType: "application/json")) {
            await $0.export(body: Array("{}".utf8))
        }

        #expect(result == .success)
        #expect(received.withLock { $0.map(\.0) } == [Array("{}".utf8)])
        #expect(received.withLock { $0.map(\.1) } == ["application/json"])
    }

    @Test("503 twice, then 200: success on the third attempt")
    func retriesServiceUnavailable() async throws {
        let recording = Recording { _, index in index < 2 ? ReceiverResponse(status: 503) : nil }
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }

        let result = await withExporter(testConfiguration(receiver.tracesEndpoint)) { await $0.export(body: [7, 7, 7]) }

        #expect(result.isSuccess)
        #expect(recording.count == 3)
        #expect(recording.requests.allSatisfy { $0.body == [7, 7, 7] })
    }

    @Test("429, 502 and 504 are retried too", arguments: [429, 502, 504])
    func retriesOtherTransientStatuses(status: Int) async throws {
        let recording = Recording { _, index in index == 0 ? ReceiverResponse(status: status) : nil }
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }

        let result = await withExporter(testConfiguration(receiver.tracesEndpoint)) { await $0.export(body: [1]) }

        #expect(result.isSuccess)
        #expect(recording.count == 2)
    }

    @Test("Retry-After: 1 delays the next attempt by about a second")
    func honoursRetryAfter() async throws {
        let recording = Recording { _, index in
            index == 0 ? ReceiverResponse(status: 503, headers: [("Retry-After", "1")]) : nil
        }
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }

        let result = await withExporter(testConfiguration(receiver.tracesEndpoint)) { await $0.export(body: [1]) }

        #expect(result.isSuccess)
        let arrivals = recording.arrivals
        try #require(arrivals.count == 2)
        // The configured backoff is at most 50 ms; only Retry-After explains a second's wait.
        #expect(arrivals[0].duration(to: arrivals[1]) >= .milliseconds(900))
    }

    @Test("a 4xx (or a non-retriable 5xx) is a permanent failure after one attempt", arguments: [400, 401, 404, 413, 500])
    func permanentFailure(status: Int) async throws {
        let recording = Recording { _, _ in
            ReceiverResponse(status: status, headers: [("Content-Type", "text/plain")], body: Array("bad spans".utf8))
        }
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }

        let result = await withExporter(testConfiguration(receiver.tracesEndpoint)) { await $0.export(body: [1]) }

        let failure = try #require(result.failure)
        #expect(!failure.retriable)
        #expect(failure.reason.contains("\(status)"))
        #expect(failure.reason.contains("bad spans"))
        #expect(recording.count == 1)
    }

    @Test("a status that stays 503 ends in a retriable failure after maxAttempts")
    func givesUpAfterMaxAttempts() async throws {
        let recording = Recording { _, _ in ReceiverResponse(status: 503) }
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }

        let result = await withExporter(testConfiguration(receiver.tracesEndpoint, maxAttempts: 4)) { await $0.export(body: [1]) }

        let failure = try #require(result.failure)
        #expect(failure.retriable)
        #expect(failure.reason.contains("503"))
        #expect(failure.reason.contains("4 attempts"))
        #expect(recording.count == 4)
    }

    @Test("nothing listening: a retriable failure after maxAttempts")
    func nothingListening() async throws {
        let result = try await withRefusingPort { port in
            await withExporter(testConfiguration("http://127.0.0.1:\(port)/v1/traces", maxAttempts: 3)) {
                await $0.export(body: [1])
            }
        }

        let failure = try #require(result.failure)
        #expect(failure.retriable)
        #expect(failure.reason.contains("cannot connect"), "\(failure.reason)")
        #expect(failure.reason.contains("3 attempts"))
    }

    @Test("one connection carries every export")
    func reusesConnection() async throws {
        let recording = Recording()
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }

        let results = await withExporter(testConfiguration(receiver.tracesEndpoint)) { exporter in
            var results: [ExportResult] = []
            for index in 0..<5 { results.append(await exporter.export(body: [UInt8(index)])) }
            return results
        }

        #expect(results.allSatisfy { $0.isSuccess })
        #expect(recording.requests.map(\.body) == [[0], [1], [2], [3], [4]])
        #expect(receiver.acceptedConnections == 1)
        #expect(recording.requests.allSatisfy { $0.connection == 1 })
    }

    @Test("a server that closes each connection: every export still succeeds in one request", arguments: [true, false])
    func reconnectsAfterClose(announced: Bool) async throws {
        let recording = Recording { _, _ in ReceiverResponse(status: 200, closeConnection: true, announceClose: announced) }
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }

        let results = await withExporter(testConfiguration(receiver.tracesEndpoint, maxAttempts: 1)) { exporter in
            var results: [ExportResult] = []
            for index in 0..<4 {
                results.append(await exporter.export(body: [UInt8(index)]))
            }
            return results
        }

        #expect(results.allSatisfy { $0.isSuccess })
        #expect(recording.requests.map(\.body) == [[0], [1], [2], [3]])
        #expect(receiver.acceptedConnections == 4)
    }

    @Test("concurrent exports are serialized over the one connection")
    func concurrentExports() async throws {
        let recording = Recording()
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }

        let results = await withExporter(testConfiguration(receiver.tracesEndpoint)) { exporter in
            await withTaskGroup(of: ExportResult.self) { group in
                for index in 0..<16 {
                    group.addTask { await exporter.export(body: randomBytes(2_000, seed: UInt64(index))) }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }

        #expect(results.count == 16)
        #expect(results.allSatisfy { $0.isSuccess })
        #expect(Set(recording.requests.map(\.body)) == Set((0..<16).map { randomBytes(2_000, seed: UInt64($0)) }))
        #expect(receiver.acceptedConnections == 1)
    }

    @Test("an attempt with no answer times out; timeouts are retried")
    func attemptTimeout() async throws {
        let server = try await startSilentServer()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        var configuration = testConfiguration("http://127.0.0.1:\(port)/v1/traces", maxAttempts: 2)
        // Long enough for the connect itself on a loaded machine (under the cold suite a loopback
        // connect took more than 200 ms), so that what times out is the silent server's answer.
        configuration.timeout = .seconds(3)

        let result = await withExporter(configuration) { await $0.export(body: [1]) }

        let failure = try #require(result.failure)
        #expect(failure.retriable)
        #expect(failure.reason.contains("no response within"), "\(failure.reason)")
        #expect(failure.reason.contains("2 attempts"))
    }

    @Test("cancelling the calling task ends an export waiting for an answer")
    func cancellation() async throws {
        let server = try await startSilentServer()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        var configuration = testConfiguration("http://127.0.0.1:\(port)/v1/traces")
        configuration.timeout = .seconds(120)

        let result = await withExporter(configuration) { exporter in
            let task = Task { await exporter.export(body: [1]) }
            try? await Task.sleep(for: .milliseconds(200))
            task.cancel()
            return await task.value
        }

        let failure = try #require(result.failure)
        #expect(failure.reason.contains("cancelled"))
    }

    @Test("cancelling ends a retry wait too")
    func cancellationDuringBackoff() async throws {
        let recording = Recording { _, _ in ReceiverResponse(status: 503, headers: [("Retry-After", "30")]) }
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }

        let result = await withExporter(testConfiguration(receiver.tracesEndpoint)) { exporter in
            let task = Task { await exporter.export(body: [1]) }
            try? await eventually { recording.count == 1 }
            task.cancel()
            return await task.value
        }

        #expect(result.failure?.reason.contains("cancelled") == true)
        #expect(recording.count == 1)
    }

    @Test("shutdown ends a retry wait; exports after it fail permanently")
    func shutdown() async throws {
        let recording = Recording { _, _ in ReceiverResponse(status: 503, headers: [("Retry-After", "30")]) }
        let receiver = try await recording.startReceiver()
        defer { Task { await receiver.stop() } }
        let exporter = OTLPHTTPExporter(configuration: testConfiguration(receiver.tracesEndpoint), logger: quietLogger)

        let inFlight = Task { await exporter.export(body: [1]) }
        try await eventually { recording.count == 1 }
        await exporter.shutdown()
        let first = await inFlight.value
        let after = await exporter.export(body: [2])

        #expect(first.failure?.reason.contains("shut down") == true)
        #expect(after.failure?.retriable == false)
        #expect(after.failure?.reason.contains("shut down") == true)
        #expect(recording.count == 1)
    }

    @Test("an https or malformed endpoint fails permanently without connecting",
          arguments: ["https://collector.example:4318/v1/traces", "ftp://host/v1/traces", "http://:4318/v1/traces", "http://host:99999/"])
    func unusableEndpoint(endpoint: String) async {
        let result = await withExporter(testConfiguration(endpoint)) { await $0.export(body: [1]) }

        #expect(result.failure?.retriable == false)
        if endpoint.hasPrefix("https") {
            #expect(result.failure?.reason.contains("https") == true)
        }
    }
}

@Suite("OTLP/HTTP exporter pieces", .timeLimit(.minutes(1)))
struct OTLPExporterUnitTests {
    @Test("gzip round-trips through zlib inflate", arguments: [0, 1, 100, 65_537, 1_000_000])
    func gzipRoundTrip(size: Int) throws {
        let original = randomBytes(size, seed: UInt64(size))
        let compressed = Gzip.compress(original)
        #expect(compressed.starts(with: [0x1f, 0x8b, 0x08]))
        #expect(gunzip(compressed) == original)
    }

    @Test("endpoint URLs are split into host, port, target and Host header")
    func endpointParsing() throws {
        let plain = try Endpoint.parse("http://collector:4318/v1/traces").get()
        #expect(plain == Endpoint(host: "collector", port: 4318, target: "/v1/traces", hostHeader: "collector:4318"))
        let bare = try Endpoint.parse("HTTP://collector").get()
        #expect(bare == Endpoint(host: "collector", port: 80, target: "/", hostHeader: "collector"))
        let ipv6 = try Endpoint.parse("http://[::1]:4318/otlp/v1/traces?tenant=a#frag").get()
        #expect(ipv6 == Endpoint(host: "::1", port: 4318, target: "/otlp/v1/traces?tenant=a", hostHeader: "[::1]:4318"))
        let query = try Endpoint.parse("http://h:1?x=1").get()
        #expect(query.target == "/?x=1")
        for bad in ["https://h/v1/traces", "h:4318/v1/traces", "http://", "http://h:0/", "http://h:x/", "http://u:p@h/", "http://[::1/"] {
            #expect(throws: Endpoint.Invalid.self, "\(bad)") { try Endpoint.parse(bad).get() }
        }
    }

    @Test("backoff doubles from initialBackoff, with up to 20 % jitter, capped at maxBackoff")
    func backoff() {
        var configuration = OTLPHTTPExporterConfiguration()
        configuration.initialBackoff = .milliseconds(100)
        configuration.maxBackoff = .seconds(1)
        let exporter = OTLPHTTPExporter(configuration: configuration, logger: quietLogger)
        for _ in 0..<50 {
            let first = exporter.backoff(afterAttempt: 1)
            #expect(first >= .milliseconds(100) && first < .milliseconds(120))
            let third = exporter.backoff(afterAttempt: 3)
            #expect(third >= .milliseconds(400) && third < .milliseconds(480))
            #expect(exporter.backoff(afterAttempt: 10) == .seconds(1))
            #expect(exporter.backoff(afterAttempt: 1_000) == .seconds(1))
        }
    }

    @Test("Retry-After in seconds is honoured up to maxRetryAfter; other forms are ignored")
    func retryAfterParsing() {
        var configuration = OTLPHTTPExporterConfiguration()
        configuration.maxRetryAfter = .seconds(30)
        let exporter = OTLPHTTPExporter(configuration: configuration, logger: quietLogger)
        #expect(exporter.retryAfterDelay("1") == .seconds(1))
        #expect(exporter.retryAfterDelay(" 0 ") == .zero)
        #expect(exporter.retryAfterDelay("3600") == .seconds(30))
        #expect(exporter.retryAfterDelay("-1") == nil)
        #expect(exporter.retryAfterDelay("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
        #expect(exporter.retryAfterDelay(nil) == nil)
    }
}
