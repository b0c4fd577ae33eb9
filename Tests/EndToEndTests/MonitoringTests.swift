import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import KafkaTestSupport
import TestSupport
import LagStatus
import Synchronization
import Testing

/// compose/'s monitoring: the Prometheus config as promtool reads it, and the Grafana
/// dashboard's shape (its datasource, its status colours).
@Suite("Compose monitoring: Prometheus config and Grafana dashboard")
struct MonitoringConfigTests {
    @Test("promtool accepts compose/prometheus/prometheus.yml")
    func promtoolAcceptsTheConfig() async throws {
        let promtool = try #require(executableOnPath("promtool"), "promtool is missing: `make test-deps` installs it (Debian's prometheus package)")
        let config = repositoryRoot.appendingPathComponent("compose/prometheus/prometheus.yml").path
        let result = try await offThePool { try runToEnd(promtool, ["check", "config", config]) }
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("SUCCESS"), "\(result.output)")
    }

    @Test("every pipeline process and the lag monitor is a target on port 9464, labelled with its service name (the scalable ones found by DNS)")
    func everyProcessIsATarget() throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("compose/prometheus/prometheus.yml"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        // The gateway and the lag monitor run once: a static target with its service label.
        for service in ["gateway", "lag-monitor"] {
            let target = lines.firstIndex(of: #"- targets: ["\#(service):9464"]"#)
            #expect(target != nil, "no target \(service):9464")
            if let target {
                #expect(lines[target + 1 ..< min(lines.count, target + 3)].contains("service: \(service)"), "\(service)'s target has no service label")
            }
        }
        // The scalable components: every replica, by Docker's DNS (one A record per container);
        // the name looked up becomes the service label.
        let names = try #require(lines.firstIndex(of: #"- names: ["order-manager", "algo", "exchange-gateway", "allocator"]"#), "the scalable services are not discovered")
        #expect(lines[names + 1 ..< min(lines.count, names + 4)].contains("type: A"))
        #expect(lines[names + 1 ..< min(lines.count, names + 4)].contains("port: 9464"))
        let relabel = try #require(lines.firstIndex(of: "- source_labels: [__meta_dns_name]"), "discovered targets get no service label")
        #expect(lines[relabel + 1 ..< min(lines.count, relabel + 5)].contains("target_label: service"))
        #expect(lines[relabel + 1 ..< min(lines.count, relabel + 5)].contains("regex: (.+)"))
        #expect(lines.contains("scrape_interval: 5s"))
    }

    @Test("a real Prometheus loads compose's config: the named targets keep their service label beside the DNS relabelling")
    func realPrometheusKeepsTheStaticLabels() async throws {
        let prometheus = try #require(executableOnPath("prometheus"), "prometheus is missing: `make test-deps` installs it (Debian's prometheus package)")
        let folder = NSTemporaryDirectory() + "ordertrace-compose-prometheus-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let port = freePort()
        let server = try LoggedProcess(
            executable: prometheus,
            arguments: [
                "--config.file=\(repositoryRoot.appendingPathComponent("compose/prometheus/prometheus.yml").path)",
                "--storage.tsdb.path=\(folder)/tsdb", "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
            ])
        defer { server.killNow() }
        // The compose services' names do not resolve here: the named targets are listed (down),
        // and the DNS lookups find nothing, so only the named ones are active.
        var targets: [[String: Any]] = []
        let listed = await eventually(timeout: .seconds(60)) {
            guard let text = try? await fetchText("http://127.0.0.1:\(port)/api/v1/targets?state=active"),
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let data = object["data"] as? [String: Any]
            else { return false }
            targets = data["activeTargets"] as? [[String: Any]] ?? []
            return targets.count >= 3
        }
        try #require(listed, "prometheus listed no targets:\n\(server.log)")
        let labels = targets.map { $0["labels"] as? [String: String] ?? [:] }
        for service in ["gateway", "lag-monitor"] {
            let target = labels.first { $0["instance"] == "\(service):9464" }
            #expect(target?["service"] == service && target?["job"] == "ordertrace", "\(service):9464 is labelled \(target ?? [:])")
        }
        #expect(labels.filter { $0["job"] == "ordertrace" }.allSatisfy { $0["service"]?.isEmpty == false }, "\(labels)")
        await server.stop()
    }

    @Test("the dashboard reads the provisioned datasource, and its status colours name every lag status in LagState's order")
    func dashboardShape() throws {
        let dashboard = try Dashboard.load()
        let datasource = try String(
            contentsOf: repositoryRoot.appendingPathComponent("compose/grafana/provisioning/datasources/prometheus.yml"), encoding: .utf8)
        #expect(datasource.contains("uid: ordertrace-prometheus"))
        #expect(datasource.contains("url: http://prometheus:9090"))
        let provider = try String(
            contentsOf: repositoryRoot.appendingPathComponent("compose/grafana/provisioning/dashboards/ordertrace.yml"), encoding: .utf8)
        #expect(provider.contains("path: /var/lib/grafana/dashboards"))

        #expect(!dashboard.targets.isEmpty)
        for target in dashboard.targets {
            #expect(target.datasourceUID == "ordertrace-prometheus", "\(target.panel) reads another datasource")
        }
        // The group status panels encode each status as its rank: `status="WARN"} * 1`, and map
        // the rank back to the name.
        let status = try #require(dashboard.targets.first { $0.panel == "Group status" })
        for state in LagState.allCases {
            #expect(status.expression.contains(#"status="\#(state.description)"} * \#(state.rawValue)"#), "\(state) is not ranked \(state.rawValue)")
            #expect(status.valueMappings[String(state.rawValue)] == state.description, "\(state.rawValue) is not shown as \(state)")
        }
        let titles = Set(dashboard.targets.map(\.panel))
        for expected in [
            "Lag (records) per partition", "Lag (seconds) per partition", "Group status over time", "Messages sent per second by topic",
            "Messages consumed per second by topic", "Order latency", "Send duration", "Process duration by group", "Orders per batch",
            "Batch wait", "Order updates by status", "Dead letters by reason", "Tracer spans",
        ] {
            #expect(titles.contains(expected), "no panel \(expected)")
        }
    }
}

/// The dashboard's queries against a real Prometheus (Debian's binary) that scrapes a running
/// `ordertrace up` every second, as compose's Prometheus scrapes each process.
@Suite("Compose monitoring: the dashboard's queries on a real Prometheus scraping ordertrace up", .timeLimit(.minutes(6)))
struct DashboardQueryTests {
    @Test("every panel's query is valid PromQL, and lag, lag seconds, throughput, order updates and latency show data once orders flowed")
    func dashboardQueriesOnLiveData() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let prometheus = try #require(executableOnPath("prometheus"), "prometheus is missing: `make test-deps` installs it (Debian's prometheus package)")
        let dashboard = try Dashboard.load()

        let kafkaPort = freePort(), gatewayPort = freePort(), exchangePort = freePort(), metricsPort = freePort(), prometheusPort = freePort()
        let folder = NSTemporaryDirectory() + "ordertrace-dashboard-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let up = try UpProcess(
            arguments: [
                "--kafka-port", String(kafkaPort), "--gateway-port", String(gatewayPort), "--exchange-port", String(exchangePort),
                "--metrics-port", String(metricsPort), "--data-dir", folder + "/data", "--topics-dir", repositoryRoot.appendingPathComponent("topics").path,
            ],
            environment: ["OTEL_SDK_DISABLED": "true", "LOG_LEVEL": "warning"])
        var stopped = false
        defer { if !stopped { up.process.terminate() } }
        let healthy = await eventually(timeout: .seconds(120)) { await httpStatus("http://127.0.0.1:\(gatewayPort)/health") == 200 }
        try #require(healthy, "the gateway never became healthy:\n\(up.log)")

        // Prometheus scrapes up's merged address: its samples carry their own `service` label,
        // as the compose targets add it.
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: ordertrace-up
                honor_labels: true
                static_configs:
                  - targets: ["127.0.0.1:\(metricsPort)"]
            """
        try config.write(toFile: folder + "/prometheus.yml", atomically: true, encoding: .utf8)
        let server = try LoggedProcess(
            executable: prometheus,
            arguments: [
                "--config.file=\(folder)/prometheus.yml", "--storage.tsdb.path=\(folder)/tsdb",
                "--web.listen-address=127.0.0.1:\(prometheusPort)", "--log.level=warn",
            ])
        defer { server.killNow() }
        let api = PrometheusAPI(base: "http://127.0.0.1:\(prometheusPort)")
        let scraping = await eventually(timeout: .seconds(120)) {
            (try? await api.query(#"up{job="ordertrace-up"} == 1"#))?.samples.isEmpty == false
        }
        try #require(scraping, "prometheus never scraped up's metrics:\n\(server.log)\n\(up.log)")

        // Orders after the first scrapes, so rates see them: over the WebSocket, and a malformed
        // record straight into Kafka (a dead letter).
        func order(_ id: String, _ quantity: Int) -> String {
            #"{"clientOrderId":"\#(id)","symbol":"AAPL","side":"buy","quantity":\#(quantity),"orderType":"market"}"#
        }
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: KafkaConfiguration(brokers: ["127.0.0.1:\(kafkaPort)"])), logger: testLogger)
        _ = try await producer.send(KafkaProducerRecord(topic: "client-orders", key: "AAPL", value: Array("{oops".utf8)))
        await producer.close()
        let pushed = try await PipelineEndToEndTests.trade(
            port: gatewayPort, token: "demo-alice", orders: [order("g-1", 30), order("g-2", 20), order("g-3", 10)], expect: ["g-1", "g-2", "g-3"])
        #expect(pushed.last { $0.clientOrderId == "g-1" }?.status == "filled", "\(up.log)")
        // A counter appears with its first increment, and a rate needs an increase between two
        // scrapes: once Prometheus holds the series, a second wave of orders moves them.
        let seen = await eventually(timeout: .seconds(120)) {
            (try? await api.query(#"ordertrace_order_updates_total{status="filled"}"#))?.samples.isEmpty == false
        }
        try #require(seen, "prometheus never saw the order updates:\n\(server.log)")
        let second = try await PipelineEndToEndTests.trade(
            port: gatewayPort, token: "demo-bob", orders: [order("g-4", 15), order("g-5", 25)], expect: ["g-4", "g-5"])
        #expect(second.last { $0.clientOrderId == "g-4" }?.status == "filled", "\(up.log)")

        // The latency histogram is a key panel once the system exports it.
        let exported = try await fetchText("http://127.0.0.1:\(metricsPort)/metrics")
        var keyPanels = ["Lag (records) per partition", "Lag (seconds) per partition", "Group status", "Messages sent per second by topic",
            "Messages consumed per second by topic", "Order updates by status"]
        let movingPanels: Set = ["Messages sent per second by topic", "Messages consumed per second by topic", "Order updates by status", "Order latency"]
        if exported.contains("ordertrace_order_latency_seconds_bucket") { keyPanels.append("Order latency") }

        // Grafana's variables as a person first sees the dashboard: every group, a 5 minute window.
        func expression(_ target: Dashboard.Target) -> String {
            target.expression.replacingOccurrences(of: "$__rate_interval", with: "5m").replacingOccurrences(of: "$group", with: ".*")
        }
        var missing: [String] = []
        let shown = await eventually(timeout: .seconds(120)) {
            missing = []
            for panel in keyPanels {
                var hasData = false
                for target in dashboard.targets where target.panel == panel {
                    guard let answer = try? await api.query(expression(target)) else { continue }
                    let values = answer.samples.compactMap { Double($0.value) }.filter(\.isFinite)
                    if movingPanels.contains(panel) ? values.contains { $0 > 0 } : !values.isEmpty { hasData = true }
                }
                if !hasData { missing.append(panel) }
            }
            return missing.isEmpty
        }
        #expect(shown, "no data in \(missing)\n\(up.log)")

        for target in dashboard.targets {
            let promQL = expression(target)
            #expect(!promQL.contains("$"), "\(target.panel): a dashboard variable the test does not set: \(promQL)")
            do {
                let answer = try await api.query(promQL)
                #expect(answer.error == nil, "\(target.panel) \(target.refID): \(answer.error ?? "") in \(promQL)")
            } catch {
                Issue.record("\(target.panel) \(target.refID): \(error)")
            }
        }
        // The group variable's values: the pipeline's groups, from the lag monitor.
        let groups = try await api.labelValues("group", match: "kafka_consumergroup_group_max_lag")
        #expect(Set(groups).isSuperset(of: ["order-manager", "algo", "exchange-gateway", "allocator"]), "\(groups)")

        await server.stop()
        let status = await up.stop()
        stopped = true
        #expect(status == 0, "ordertrace up did not stop cleanly:\n\(up.log)")
    }
}

/// The compose stack's `lag-monitor` service: `ordertrace lag --serve PORT` beside a broker.
@Suite("Compose monitoring: ordertrace lag --serve", .timeLimit(.minutes(3)))
struct LagServeTests {
    @Test("lag --serve samples the pipeline's groups and serves their status at /metrics until SIGTERM")
    func servesTheMonitorsSeries() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let kafkaPort = freePort(), metricsPort = freePort()
        let broker = try LoggedProcess(
            executable: ordertrace.path,
            arguments: ["broker", "--port", String(kafkaPort), "--topics-dir", repositoryRoot.appendingPathComponent("topics").path])
        defer { broker.killNow() }
        let monitor = try LoggedProcess(
            executable: ordertrace.path, arguments: ["lag", "--serve", String(metricsPort), "-b", "127.0.0.1:\(kafkaPort)"])
        defer { monitor.killNow() }
        var text = ""
        let served = await eventually(timeout: .seconds(120)) {
            text = (try? await fetchText("http://127.0.0.1:\(metricsPort)/metrics")) ?? ""
            return text.contains(#"ordertrace_consumergroup_group_status{group="order-manager",status="OK"}"#)
        }
        #expect(served, "\(text)\n\(monitor.log)\n\(broker.log)")
        #expect(text.contains("# TYPE kafka_consumergroup_group_max_lag gauge"))
        #expect(text.contains("ordertrace_lag_samples_total"))
        await monitor.stop()
        #expect(monitor.process.terminationStatus == 0, "\(monitor.log)")
        await broker.stop()
    }

    /// In a container Prometheus reaches the monitor from another host: METRICS_HOST=0.0.0.0, as
    /// the components read it. 127.0.0.2 is a loopback address a socket bound to 127.0.0.1 does
    /// not answer on, and one bound to 0.0.0.0 does (Linux routes all of 127/8 to lo). No broker
    /// is needed: the server answers while the monitor's rounds fail.
    @Test("lag --serve listens on 127.0.0.1 by default and on every address with METRICS_HOST=0.0.0.0", arguments: [nil, "0.0.0.0"] as [String?])
    func honoursMetricsHost(_ host: String?) async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let metricsPort = freePort(), silentBroker = freePort()
        let monitor = try LoggedProcess(
            executable: ordertrace.path, arguments: ["lag", "--serve", String(metricsPort), "-b", "127.0.0.1:\(silentBroker)"],
            environment: ["METRICS_HOST": host, "LOG_LEVEL": "critical"])
        defer { monitor.killNow() }
        let serving = await eventually(timeout: .seconds(60)) { await httpStatus("http://127.0.0.1:\(metricsPort)/ready") == 200 }
        try #require(serving, "\(monitor.log)")
        let other = await httpStatus("http://127.0.0.2:\(metricsPort)/ready")
        if host != nil {
            #expect(other == 200, "not reachable on 127.0.0.2:\n\(monitor.log)")
        } else {
            #expect(other == nil, "bound beyond 127.0.0.1 without METRICS_HOST:\n\(monitor.log)")
        }
        let line = "lag: monitoring; metrics at http://\(host ?? "127.0.0.1"):\(metricsPort)/metrics"
        let announced = await eventually(timeout: .seconds(60)) { monitor.log.contains(line) }
        #expect(announced, "no line \(line):\n\(monitor.log)")
        // A clean exit is servesTheMonitorsSeries's: here no broker answers the round in flight.
        await monitor.stop()
    }
}

/// The panels' queries of compose/grafana/dashboards/ordertrace.json.
struct Dashboard {
    struct Target {
        var panel: String
        var refID: String
        var expression: String
        var datasourceUID: String?
        /// The panel's value mappings: value -> text.
        var valueMappings: [String: String]
    }

    var targets: [Target]

    static func load() throws -> Dashboard {
        let data = try Data(contentsOf: repositoryRoot.appendingPathComponent("compose/grafana/dashboards/ordertrace.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var targets: [Target] = []
        func visit(_ panels: [[String: Any]]) {
            for panel in panels {
                visit(panel["panels"] as? [[String: Any]] ?? [])
                let title = panel["title"] as? String ?? ""
                var mappings: [String: String] = [:]
                let defaults = (panel["fieldConfig"] as? [String: Any])?["defaults"] as? [String: Any]
                for mapping in defaults?["mappings"] as? [[String: Any]] ?? [] {
                    for (value, result) in mapping["options"] as? [String: [String: Any]] ?? [:] {
                        mappings[value] = result["text"] as? String
                    }
                }
                for target in panel["targets"] as? [[String: Any]] ?? [] {
                    targets.append(
                        Target(
                            panel: title, refID: target["refId"] as? String ?? "", expression: target["expr"] as? String ?? "",
                            datasourceUID: (target["datasource"] as? [String: Any])?["uid"] as? String, valueMappings: mappings))
                }
            }
        }
        visit(object["panels"] as? [[String: Any]] ?? [])
        return Dashboard(targets: targets)
    }
}

/// Prometheus's HTTP API.
struct PrometheusAPI {
    var base: String

    struct Answer {
        var error: String?
        var samples: [(labels: [String: String], value: String)]
    }

    /// An instant query (/api/v1/query); a PromQL error is in `error`.
    func query(_ promQL: String) async throws -> Answer {
        let object = try await get("/api/v1/query", ["query": promQL])
        if object["status"] as? String != "success" {
            return Answer(error: "\(object["errorType"] ?? "error"): \(object["error"] ?? "")", samples: [])
        }
        let data = object["data"] as? [String: Any] ?? [:]
        var samples: [(labels: [String: String], value: String)] = []
        switch data["resultType"] as? String {
        case "vector":
            for entry in data["result"] as? [[String: Any]] ?? [] {
                let value = (entry["value"] as? [Any])?.last as? String ?? ""
                samples.append((entry["metric"] as? [String: String] ?? [:], value))
            }
        case "scalar":
            samples.append(([:], (data["result"] as? [Any])?.last as? String ?? ""))
        default:
            break
        }
        return Answer(error: nil, samples: samples)
    }

    /// The values of a label over the series `match` selects (what Grafana's `label_values` asks).
    func labelValues(_ label: String, match: String) async throws -> [String] {
        let object = try await get("/api/v1/label/\(label)/values", ["match[]": match])
        return object["data"] as? [String] ?? []
    }

    private func get(_ path: String, _ parameters: [String: String]) async throws -> [String: Any] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let query = parameters.map { "\($0.key.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&")
        var request = URLRequest(url: URL(string: base + path + "?" + query)!)
        request.timeoutInterval = 30
        let (data, _) = try await URLSession.shared.data(for: request)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// A child process whose output is kept for failure messages.
final class LoggedProcess: Sendable {
    let process = Process()
    private let output = Mutex(Data())

    /// `environment`: variables set or (when nil) removed for the child, over this process's.
    init(executable: String, arguments: [String], environment: [String: String?] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            var merged = ProcessInfo.processInfo.environment
            for (name, value) in environment { merged[name] = value }
            process.environment = merged
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.output.withLock { $0.append(data) }
        }
        try launch(process)
    }

    var log: String {
        String(decoding: output.withLock { $0.suffix(4_000) }, as: UTF8.self)
    }

    /// SIGTERM, then SIGKILL if it has not exited within 10 s.
    func stop() async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// SIGKILL at once, when it still runs (a test that failed half-way).
    func killNow() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// The full path of an executable found on $PATH.
func executableOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Runs an executable to the end (blocking: call it off the pool), with `environment` over this
/// process's; its status and output.
func runToEnd(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try launch(process)
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}
