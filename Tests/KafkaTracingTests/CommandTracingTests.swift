import Foundation
import Kafka
import KafkaTestSupport
import Testing

/// The `ordertrace` executable built next to the test bundle.
private let ordertrace = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ordertrace")

/// Runs `ordertrace` with `arguments`, `input` on stdin and extra environment; returns status and stdout.
private func run(_ arguments: [String], input: String = "", environment: [String: String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = ordertrace
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdin = Pipe()
    let stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

@Suite("Tracing in the ordertrace commands", .timeLimit(.minutes(2)))
struct CommandTracingTests {
    @Test("produce and consume export their spans before they exit: the process span is the child of the send span", arguments: testedTracers)
    func spansAreFlushedOnExit(tracer: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let collector = try await OTLPCollector.start()
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("cli")
            try broker.createTopic(topic, partitions: 1)
            let environment = [
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint.replacingOccurrences(of: "/v1/traces", with: ""),
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
                "OTEL_BSP_SCHEDULE_DELAY": "60000",  // nothing is exported on a timer: only the flush at exit
                "LOG_LEVEL": "error",
                "ORDERTRACE_TRACER": tracer,
            ]
            let (sent, _) = try run(
                ["produce", "-b", broker.bootstrapServers, "-t", topic, "-K", ":", "--baggage", "user.id=carol"],
                input: "AAPL:{\"quantity\":100}\n", environment: environment)
            #expect(sent == 0)
            let (read, printed) = try run(["consume", "-b", broker.bootstrapServers, "--count", "1", topic], environment: environment)
            #expect(read == 0)
            #expect(printed.contains("AAPL\tuser.id=carol\t{\"quantity\":100}"))
        }
        await collector.stop()
        let spans = collector.spans
        let send = try #require(spans.first { ($0["name"] as? String)?.hasPrefix("send cli-") == true }, "send span exported at exit")
        let process = try #require(spans.first { ($0["name"] as? String)?.hasPrefix("process cli-") == true }, "process span exported at exit")
        #expect(process["parentSpanId"] as? String == send["spanId"] as? String)
        #expect(OTLPJSON.attributes(process["attributes"])["user.id"] == "carol")
    }

    @Test("a long-running command flushes its spans when SIGTERM stops it", arguments: testedTracers)
    func spansAreFlushedOnSIGTERM(tracer: String) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let collector = try await OTLPCollector.start()
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("term")
            try broker.createTopic(topic, partitions: 1)
            let environment = [
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint.replacingOccurrences(of: "/v1/traces", with: ""),
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
                "OTEL_BSP_SCHEDULE_DELAY": "600000",
                "LOG_LEVEL": "error",
                "ORDERTRACE_TRACER": tracer,
            ]
            // A consumer that runs until it is stopped.
            let consumer = Process()
            consumer.executableURL = ordertrace
            consumer.arguments = ["consume", "-b", broker.bootstrapServers, topic]
            consumer.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let output = Pipe()
            consumer.standardOutput = output
            try consumer.run()
            defer { if consumer.isRunning { consumer.terminate() } }
            let (sent, _) = try run(["produce", "-b", broker.bootstrapServers, "-t", topic, "-K", ":"], input: "MSFT:{\"quantity\":5}\n", environment: environment)
            #expect(sent == 0)
            // Wait for the record to be printed, then stop the consumer as a supervisor would.
            let line = try await Task.detached { () -> String in
                var bytes: [UInt8] = []
                while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") { bytes.append(byte) }
                return String(decoding: bytes, as: UTF8.self)
            }.value
            #expect(line.contains("MSFT"))
            kill(consumer.processIdentifier, SIGTERM)
            consumer.waitUntilExit()
            #expect(consumer.terminationStatus == 0)
        }
        await collector.stop()
        let process = collector.spans.first { ($0["name"] as? String)?.hasPrefix("process term-") == true }
        #expect(process != nil, "the process span was not exported when SIGTERM stopped the consumer")
    }
}
