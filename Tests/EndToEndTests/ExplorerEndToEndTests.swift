import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import KafkaTestSupport
import TestSupport
import Testing

/// `ordertrace up` with tracing as a newcomer gets it: no OTLP endpoint set, so `up` starts the
/// explorer and every component sends its spans there; an order's lineage, read back with
/// `ordertrace trace`, is whole.
@Suite("End to end: ordertrace up traces into the explorer", .timeLimit(.minutes(4)))
struct ExplorerEndToEndTests {
    @Test("an order sent to the gateway shows its whole life in the explorer")
    func orderLineageFromTheRunningSystem() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let kafkaPort = freePort(), gatewayPort = freePort(), exchangePort = freePort(), otlpPort = freePort(), uiPort = freePort()
        let metricsPort = freePort()
        let dataDirectory = NSTemporaryDirectory() + "ordertrace-e2e-explorer-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        var environment = [
            "EXPLORER_OTLP_PORT": String(otlpPort), "EXPLORER_PORT": String(uiPort),
            "OTEL_BSP_SCHEDULE_DELAY": "200", "LOG_LEVEL": "warning",
        ]
        // Whatever the machine sets, this test is about the default.
        for name in ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"] where ProcessInfo.processInfo.environment[name] != nil {
            environment[name] = ""
        }
        let up = try UpProcess(
            arguments: [
                "--kafka-port", String(kafkaPort), "--gateway-port", String(gatewayPort), "--exchange-port", String(exchangePort),
                "--data-dir", dataDirectory, "--topics-dir", repositoryRoot.appendingPathComponent("topics").path,
                "--metrics-port", String(metricsPort),
            ],
            environment: environment)
        var stopped = false
        defer { if !stopped { up.process.terminate() } }
        // The banner comes once everything serves, the explorer included.
        let ready = await eventually(timeout: .seconds(120)) { up.fullOutput.contains("up: ready in") || !up.process.isRunning }
        try #require(ready && up.process.isRunning, "no banner:\n\(up.log)")
        #expect(up.fullOutput.contains("open http://127.0.0.1:\(uiPort)/"), "\(up.log)")

        func order(_ id: String, _ quantity: Int) -> String {
            #"{"clientOrderId":"\#(id)","symbol":"AAPL","side":"buy","quantity":\#(quantity),"orderType":"market"}"#
        }
        let pushed = try await PipelineEndToEndTests.trade(
            port: gatewayPort, token: "demo-alice", orders: [order("e-1", 30), order("e-2", 20)], expect: ["e-1", "e-2"])
        #expect(pushed.last { $0.clientOrderId == "e-1" }?.status == "filled", "\(up.log)")

        // Spans arrive within a few export periods; wait until the order's lineage is whole and
        // has every kind of edge. "complete" asks nothing of the batch trace's parents, so an
        // `exchange_order_send` exported before its `algorithm_processing` (another export
        // period of the algo) makes it complete before the "split into" edge is there.
        let explorer = "http://127.0.0.1:\(uiPort)"
        let expectedRoles: Set<String> = ["child of", "batched into", "split into", "allocated to", "filled by"]
        func roles(_ document: [String: Any]) -> Set<String> {
            Set((document["edges"] as? [[String: Any]] ?? []).compactMap { $0["role"] as? String })
        }
        var document: [String: Any] = [:]
        let whole = await eventually(timeout: .seconds(60)) {
            guard let result = try? runOrdertrace(["trace", "e-1", "--json", "--explorer", explorer]), result.status == 0,
                let object = try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
            else { return false }
            document = object
            let orders = object["orders"] as? [[String: Any]] ?? []
            return orders.first { $0["clientOrderId"] as? String == "e-1" }?["complete"] as? Bool == true
                && roles(object).isSuperset(of: expectedRoles)
        }
        let orders = document["orders"] as? [[String: Any]] ?? []
        let e1 = orders.first { $0["clientOrderId"] as? String == "e-1" }
        #expect(whole, "e-1's lineage never became complete: \(e1 ?? [:])\n\(up.log)")
        #expect(e1?["received"] as? Bool == true && e1?["batched"] as? Bool == true && e1?["sentToExchange"] as? Bool == true)
        #expect((e1?["fills"] as? Int ?? 0) >= 1)
        #expect((e1?["updatesDelivered"] as? Int ?? 0) >= 1)
        let traces = document["traces"] as? [[String: Any]] ?? []
        #expect(Set(traces.filter { $0["loaded"] as? Bool == true }.compactMap { $0["kind"] as? String }) == ["order", "batch"])
        #expect(roles(document).isSuperset(of: expectedRoles), "\(roles(document))")

        let tree = try runOrdertrace(["trace", "e-1", "--explorer", explorer])
        #expect(tree.status == 0)
        #expect(tree.output.contains("● order e-1"), "\(tree.output)")
        #expect(tree.output.contains("✓ e-1 (alice) filled"), "\(tree.output)")

        // The page, as a person opens it from `up`'s banner, on the running system's spans.
        if Chromium.isAvailable {
            let url = "\(explorer)/#id=e-1"
            let dom = try await offThePool { try Chromium.dumpDOM(url: url, virtualTimeBudgetMS: 10_000) }
            #expect(dom.contains("data-order-id=\"e-1\" data-complete=\"true\""), "the page does not show e-1 complete")
            #expect(dom.contains("class=\"edge edge-link"))
            #expect(dom.contains("class=\"timeline-row"))
            let screenshot = testOutputFolder().appendingPathComponent("explorer-e2e-order-e-1.png").path
            try await offThePool { try Chromium.screenshot(url: url, to: screenshot, width: 1600, height: 1300, virtualTimeBudgetMS: 10_000) }
        }

        // Every component's metrics at up's one address, as Prometheus's reference parser reads them.
        let metrics = try await fetchText("http://127.0.0.1:\(metricsPort)/metrics")
        let samples = try await parsePrometheus(metrics)
        func value(_ name: String, _ labels: [String: String]) -> Double {
            samples.filter { sample in
                sample["name"] as? String == name
                    && labels.allSatisfy { (sample["labels"] as? [String: String])?[$0.key] == $0.value }
            }.compactMap { $0["value"] as? Double }.reduce(0, +)
        }
        #expect(value("messaging_client_sent_messages_total", ["service": "gateway", "messaging_destination_name": "client-orders"]) >= 2, "\(metrics)")
        #expect(value("messaging_client_consumed_messages_total", ["service": "order-manager", "messaging_destination_name": "client-orders"]) >= 2)
        #expect(value("messaging_client_sent_messages_total", ["service": "allocator", "messaging_destination_name": "order-updates"]) >= 2)
        #expect(value("messaging_process_duration_seconds_count", ["service": "algo"]) >= 1)
        #expect(value("ordertrace_scrape_up", ["service": "exchange-gateway"]) == 1)
        #expect(value("ordertrace_order_updates_total", ["service": "gateway", "status": "filled"]) >= 2)
        #expect(value("ordertrace_batch_orders_count", ["service": "order-manager"]) >= 1)
        #expect(value("ordertrace_batch_wait_seconds_count", ["service": "order-manager"]) >= 1)
        #expect(value("ordertrace_tracer_spans_exported_total", ["service": "gateway"]) >= 1)
        #expect(
            value("ordertrace_tracer_spans_ended_total", ["service": "gateway"])
                >= value("ordertrace_tracer_spans_exported_total", ["service": "gateway"]))
        // Both orders went through the gateway and ended filled: two latencies, each above zero.
        #expect(value("ordertrace_order_latency_seconds_count", ["service": "gateway"]) == 2)
        #expect(value("ordertrace_order_latency_seconds_sum", ["service": "gateway"]) > 0)

        // The lag monitor's view of the order manager's group, in up's metrics, agrees with
        // `ordertrace lag` (everything was consumed: both 0 once the monitor sampled).
        var metricsLag = -1.0
        var commandLag = -2.0
        let agreed = await eventually(timeout: .seconds(60)) {
            guard let text = try? await fetchText("http://127.0.0.1:\(metricsPort)/metrics"),
                let samples = try? await parsePrometheus(text)
            else { return false }
            let lags = samples.filter {
                $0["name"] as? String == "kafka_consumergroup_group_lag" && ($0["labels"] as? [String: String])?["group"] == "order-manager"
                    && ($0["labels"] as? [String: String])?["service"] == "up"
            }
            guard !lags.isEmpty else { return false }
            metricsLag = lags.compactMap { $0["value"] as? Double }.reduce(0, +)
            guard let result = try? runOrdertrace(["lag", "--json", "-b", "127.0.0.1:\(kafkaPort)", "--group", "order-manager"]), result.status == 0,
                let object = try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any],
                let groups = object["groups"] as? [[String: Any]],
                let group = groups.first(where: { $0["group"] as? String == "order-manager" })
            else { return false }
            commandLag = (group["lag"] as? NSNumber)?.doubleValue ?? -3
            return metricsLag == commandLag
        }
        #expect(agreed, "monitor \(metricsLag), ordertrace lag \(commandLag)")

        let status = await up.stop()
        stopped = true
        #expect(status == 0, "ordertrace up did not stop cleanly:\n\(up.log)")
    }
}

/// GETs `url`'s body as text.
func fetchText(_ url: String) async throws -> String {
    var request = URLRequest(url: URL(string: url)!)
    request.timeoutInterval = 30
    let (data, _) = try await URLSession.shared.data(for: request)
    return String(decoding: data, as: UTF8.self)
}

/// Every sample of Prometheus text, as the reference parser (Python's prometheus_client) reads it.
func parsePrometheus(_ text: String) async throws -> [[String: Any]] {
    let script = repositoryRoot.appendingPathComponent("Tests/Interop/prometheus_parse.py").path
    let output = try await offThePool { () throws -> Data in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try launch(process)
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CancellationError() }
        return data
    }
    return try JSONSerialization.jsonObject(with: output) as? [[String: Any]] ?? []
}
