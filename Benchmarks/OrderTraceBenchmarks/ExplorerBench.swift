import ArgumentParser
import CommandLineSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import OTLPExporter
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `bench explorer`: the explorer as a user runs it (`ordertrace explorer`, its own process)
/// against pipeline-shaped spans sent over OTLP/HTTP:
///
/// - ingest: `--spans` spans (default 2,000,000) sent as fast as it takes them by `--senders`
///   keep-alive connections (our exporter, which retries 503 after `Retry-After`); the rate is
///   spans stored (written, all indexes) per second of wall time, with the explorer's peak
///   memory (VmHWM) and the largest number of spans waiting to be written;
/// - lineage: `/api/lineage` of `--lookups` random client orders with everything stored:
///   median, 95th percentile and worst time;
/// - the same `--compare-spans` spans, the same way, to another receiver in another process:
///   a Python OTLP/HTTP sink that decodes each request with the OpenTelemetry protobuf classes
///   and counts its spans (stores nothing), when Python and `opentelemetry-proto` are installed.
struct ExplorerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explorer",
        abstract: "The explorer: sustained ingest with every index, lineage time with millions of spans stored, memory; against a Python OTLP sink."
    )

    @Option(help: "Spans to ingest.")
    var spans = 2_000_000

    @Option(help: "Batches (151 spans each) per request.")
    var batchesPerRequest = 4

    @Option(help: "Concurrent connections sending.")
    var senders = 2

    @Option(help: "Lineage look-ups after the ingest.")
    var lookups = 200

    @Option(help: "Spans sent to the Python sink (0 skips it).")
    var compareSpans = 300_000

    func run() async throws {
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let perRequest = batchesPerRequest * ExplorerWorkload.spansPerBatch
        let requests = max(1, spans / perRequest)
        let total = requests * perRequest
        say("bench explorer: generating \(requests) requests of \(perRequest) spans (\(total) spans, \(total / ExplorerWorkload.spansPerBatch * ExplorerWorkload.ordersPerBatch) orders)")
        let bodies = (0..<requests).map { ExplorerWorkload.request(firstBatch: $0 * batchesPerRequest, batches: batchesPerRequest) }
        let bytes = bodies.reduce(0) { $0 + $1.count }
        say("  \(bytes / total) bytes per span on the wire (protobuf, uncompressed)")

        // The explorer, as its own process.
        let folder = NSTemporaryDirectory() + "ordertrace-bench-explorer-\(getpid())"
        try? FileManager.default.removeItem(atPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (otlpPort, uiPort) = (try freeTCPPort(), try freeTCPPort())
        let explorer = try startProcess(
            "/proc/self/exe", ["explorer"],
            environment: [
                "EXPLORER_OTLP_PORT": String(otlpPort), "EXPLORER_PORT": String(uiPort), "EXPLORER_DB": folder + "/explorer.sqlite",
            ])
        defer { stop(explorer) }
        try await waitForPort(otlpPort)
        try await waitForPort(uiPort)
        let ui = "http://127.0.0.1:\(uiPort)"

        let sampler = Task { () -> (Int, Int) in
            var peakPending = 0
            while !Task.isCancelled {
                if let pending = try? await statistic(ui, "pendingSpans") { peakPending = max(peakPending, pending) }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return (peakPending, 0)
        }
        let start = ContinuousClock.now
        try await send(bodies, to: "http://127.0.0.1:\(otlpPort)/v1/traces", senders: senders, logger: logger)
        let sent = ContinuousClock.now - start
        while try await statistic(ui, "spans") < total {
            try await Task.sleep(for: .milliseconds(20))
        }
        let stored = ContinuousClock.now - start
        sampler.cancel()
        let (peakPending, _) = await sampler.value
        let busy = try await statistic(ui, "busyRequests")
        let memory = peakMemory(pid: explorer.processIdentifier)
        let databaseBytes = try await statistic(ui, "bytes")
        let ingestRate = Double(total) / stored.seconds
        say("ingest (ordertrace explorer, \(senders) connections):")
        say("  \(total) spans accepted in \(format(sent.seconds)) s, stored with every index in \(format(stored.seconds)) s: \(Int(ingestRate)) spans/s")
        say("  peak memory \(memory / 1024) MiB (VmHWM); at most \(peakPending) spans waiting to be written; \(busy) requests answered 503 and retried")
        say("  database \(databaseBytes / 1_048_576) MiB (\(databaseBytes / total) bytes per span)")

        // Lineage of random orders, with everything stored.
        let orders = total / ExplorerWorkload.spansPerBatch * ExplorerWorkload.ordersPerBatch
        var generator = SystemRandomNumberGenerator()
        var times: [Double] = []
        var spansPerLineage = 0
        for _ in 0..<lookups {
            let order = "o-\(Int.random(in: 0..<orders, using: &generator))"
            let begin = ContinuousClock.now
            let (data, status) = try await get(ui + "/api/lineage?id=" + order)
            times.append((ContinuousClock.now - begin).seconds * 1000)
            guard status == 200 else { throw CommandError(description: "lineage of \(order): HTTP \(status)") }
            let document = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            spansPerLineage = (document?["spans"] as? [Any])?.count ?? 0
        }
        times.sort()
        say("lineage of one order (\(total) spans stored, \(spansPerLineage) spans and the batch's \(ExplorerWorkload.ordersPerBatch - 1) other orders as stubs per answer, over HTTP):")
        say("  \(lookups) random orders: median \(format(times[times.count / 2])) ms, p95 \(format(times[times.count * 95 / 100])) ms, worst \(format(times.last!)) ms")

        // The same spans to a Python OTLP sink.
        guard compareSpans > 0 else { return }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("python_otlp_sink.py").path
        let sinkPort = try freeTCPPort()
        guard FileManager.default.fileExists(atPath: script),
            let sink = try? startProcess("/usr/bin/env", ["python3", script, String(sinkPort)], environment: [:])
        else {
            say("python sink: skipped (\(script) or python3 missing)")
            return
        }
        defer { stop(sink) }
        try await waitForPort(sinkPort)
        let compareBodies = Array(bodies.prefix(max(1, compareSpans / perRequest)))
        let compareTotal = compareBodies.count * perRequest
        let sinkStart = ContinuousClock.now
        try await send(compareBodies, to: "http://127.0.0.1:\(sinkPort)/v1/traces", senders: senders, logger: logger)
        while try await get("http://127.0.0.1:\(sinkPort)/count").0.count > 0,
            Int(String(decoding: try await get("http://127.0.0.1:\(sinkPort)/count").0, as: UTF8.self)) ?? 0 < compareTotal
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        let sinkTime = ContinuousClock.now - sinkStart
        let sinkRate = Double(compareTotal) / sinkTime.seconds
        say("python OTLP sink (opentelemetry-proto decode, counts only, stores nothing), same requests:")
        say("  \(compareTotal) spans in \(format(sinkTime.seconds)) s: \(Int(sinkRate)) spans/s, peak memory \(peakMemory(pid: sink.processIdentifier) / 1024) MiB")
        say("ratio: the explorer ingests \(format(ingestRate / sinkRate))x the spans per second the Python sink decodes")
    }

    private func send(_ bodies: [[UInt8]], to endpoint: String, senders: Int, logger: Logger) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<senders {
                group.addTask {
                    var configuration = OTLPHTTPExporterConfiguration(endpoint: endpoint)
                    configuration.timeout = .seconds(120)
                    configuration.maxAttempts = 1000
                    configuration.maxRetryAfter = .seconds(1)
                    let exporter = OTLPHTTPExporter(configuration: configuration, logger: logger)
                    for index in stride(from: sender, to: bodies.count, by: senders) {
                        let result = await exporter.export(body: bodies[index])
                        guard result == .success else {
                            await exporter.shutdown()
                            throw CommandError(description: "export failed: \(result)")
                        }
                    }
                    await exporter.shutdown()
                }
            }
            try await group.waitForAll()
        }
    }
}

private func format(_ value: Double) -> String {
    String(format: value < 10 ? "%.2f" : "%.1f", value)
}

private func statistic(_ base: String, _ name: String) async throws -> Int {
    let (data, _) = try await get(base + "/api/stats")
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return (object?[name] as? NSNumber)?.intValue ?? 0
}

private func get(_ url: String) async throws -> (Data, Int) {
    var request = URLRequest(url: URL(string: url)!)
    request.timeoutInterval = 60
    let (data, response) = try await URLSession.shared.data(for: request)
    return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
}

/// The peak resident memory of a process, in KiB (VmHWM).
private func peakMemory(pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
    return 0
}
