import Logging
import OTLPReceiver
import Synchronization
import OTLPWire
import ServiceLifecycle
import TestSupport
import Settings
import Testing
import Tracing

@testable import LeanTracing
@testable import TracingSetup

@Suite("The lean tracer's export when the backend is down", .timeLimit(.minutes(1)))
struct ExportDownTests {
    @Test("with nothing listening, memory stays bounded: spans past the buffer are dropped and counted, creating spans never waits")
    func boundedWhenTheReceiverIsDown() async throws {
        // A port nothing listens on (bound, then closed by the OS when we drop it is racy: use port 9, discard, which is not served here).
        let environment = [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:9/v1/traces",
            "OTEL_BSP_MAX_QUEUE_SIZE": "1000",
            "OTEL_BSP_SCHEDULE_DELAY": "10",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "200",
        ]
        let (tracer, service) = try LeanTracingBackend.make(serviceName: "down", environment: environment, logger: quietLogger)
        let group = ServiceGroup(services: [service], logger: quietLogger)
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            for round in 0..<20 {
                for _ in 0..<1_000 {
                    tracer.startSpan("s\(round)", context: .topLevel, ofKind: .internal).end()
                }
                #expect(tracer.buffer.count <= tracer.buffer.capacity)
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(tracer.recordedSpanCount + tracer.droppedSpanCount == 20_000)
            #expect(tracer.droppedSpanCount > 0, "the exporter cannot send, so the buffer must have overflowed")
            #expect(tracer.buffer.capacity == 1_000)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func environmentErrorsAreClear() {
        #expect(throws: ConfigurationError.self) {
            try LeanTracingBackend.make(serviceName: "x", environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"], logger: quietLogger)
        }
        #expect(throws: ConfigurationError.self) {
            try LeanTracingBackend.make(serviceName: "x", environment: ["OTEL_BSP_MAX_QUEUE_SIZE": "lots"], logger: quietLogger)
        }
        let attributes = LeanTracingBackend.resourceAttributes(serviceName: "svc", environment: ["OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test,team=a%20b"])
        #expect(attributes.contains(Attribute("service.name", .string("svc"))))
        #expect(attributes.contains(Attribute("deployment.environment", .string("test"))))
        #expect(attributes.contains(Attribute("team", .string("a b"))))
        #expect(attributes.contains { $0.key == "service.instance.id" })
        #expect(attributes.contains { $0.key == "host.name" })
    }
}

@Suite("The lean tracer's export, drain after drain", .timeLimit(.minutes(2)))
struct ExportDrainsTests {
    @Test("every span arrives once over many drains, each request holding only its own drain's spans")
    func everySpanOnceOverManyDrains() async throws {
        let requests = Mutex<[[SpanData]]>([])
        let receiver = try await OTLPHTTPReceiver.start { body, _ in
            let spans = ((try? OTLPTraceDecoder.protobuf(body)) ?? []).flatMap(\.spans)
            requests.withLock { $0.append(spans) }
        }
        let environment = [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": receiver.tracesEndpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "5",
        ]
        let (tracer, service) = try LeanTracingBackend.make(serviceName: "drains", environment: environment, logger: quietLogger)
        let group = ServiceGroup(services: [service], logger: quietLogger)
        var sent: [String] = []
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            // Waves of different sizes, each exported before the next starts: a drain's batch
            // and request hold its wave's spans and nothing of the waves before.
            for (wave, size) in [400, 7, 120, 1, 300, 15].enumerated() {
                for index in 0..<size {
                    let span = tracer.startSpan("w\(wave)-\(index)", context: .topLevel, ofKind: .internal)
                    span.attributes["wave"] = wave
                    span.end()
                    sent.append("w\(wave)-\(index)")
                }
                let deadline = ContinuousClock.now + .seconds(60)
                while requests.withLock({ $0.joined().count }) < sent.count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await receiver.stop()
        let received = requests.withLock { $0 }
        #expect(received.joined().map(\.name).sorted() == sent.sorted())
        // No request mixes waves: each was written from its own drain's spans only.
        for spans in received {
            let waves = Set(spans.map { $0.name.split(separator: "-")[0] })
            #expect(waves.count <= 1, "a request held spans of \(waves.sorted())")
            for span in spans {
                let wave = Int64(span.name.dropFirst().prefix { $0 != "-" })
                #expect(span.attributes == [Attribute("wave", .int(try #require(wave)))])
            }
        }
    }
}
