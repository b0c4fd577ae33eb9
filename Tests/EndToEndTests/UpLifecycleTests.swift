import Foundation
import Glibc
import KafkaTestSupport
import TestSupport
import LocalHTTP
import Testing

/// `ordertrace up` as a process a person starts and stops: ready means ready, and its children do
/// not outlive it.
@Suite("End to end: ordertrace up's readiness and its children's lifetime", .timeLimit(.minutes(4)))
struct UpLifecycleTests {
    /// Starts `up` on ports of its own, tracing off; returns it once its banner is out.
    func startUp(dataDirectory: String, arguments extra: [String] = []) async throws -> (up: UpProcess, gatewayPort: Int, exchangePort: Int, metricsPort: Int) {
        let kafkaPort = freePort(), gatewayPort = freePort(), exchangePort = freePort(), metricsPort = freePort()
        let up = try UpProcess(
            arguments: [
                "--kafka-port", String(kafkaPort), "--gateway-port", String(gatewayPort), "--exchange-port", String(exchangePort),
                "--metrics-port", String(metricsPort), "--data-dir", dataDirectory,
                "--topics-dir", repositoryRoot.appendingPathComponent("topics").path,
            ] + extra,
            environment: ["OTEL_SDK_DISABLED": "true"])
        let ready = await eventually(timeout: .seconds(120)) { up.fullOutput.contains("up: ready in") || !up.process.isRunning }
        try #require(ready && up.process.isRunning, "no banner:\n\(up.log)")
        return (up, gatewayPort, exchangePort, metricsPort)
    }

    @Test("orders sent the moment the banner appears get every update: accepted, batched and terminal")
    func readyMeansReady() async throws {
        let dataDirectory = NSTemporaryDirectory() + "ordertrace-ready-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let (up, gatewayPort, _, _) = try await startUp(dataDirectory: dataDirectory)
        var stopped = false
        defer { if !stopped { up.process.terminate() } }
        let ids = (1...200).map { "r-\($0)" }
        let symbols = ["AAPL", "MSFT", "NVDA", "AMZN"]
        let orders = ids.enumerated().map { index, id in
            #"{"clientOrderId":"\#(id)","symbol":"\#(symbols[index % symbols.count])","side":"\#(index % 2 == 0 ? "buy" : "sell")","quantity":\#(10 + index % 7),"orderType":"market"}"#
        }
        let pushed = try await PipelineEndToEndTests.trade(port: gatewayPort, token: "demo-alice", orders: orders, expect: Set(ids), timeout: .seconds(120))
        var missing: [String] = []
        for id in ids {
            let statuses = Set(pushed.filter { $0.clientOrderId == id }.map(\.status))
            if !statuses.contains("accepted") || !statuses.contains("batched") || statuses.isDisjoint(with: ["filled", "canceled", "rejected"]) {
                missing.append("\(id): \(statuses.sorted())")
            }
        }
        #expect(missing.isEmpty, "\(missing.count) orders lack updates, e.g. \(missing.prefix(5))\n\(up.log)")

        // The terminal shows the banner, not the components' info logs; those are in their files.
        #expect(up.fullOutput.contains("ws://127.0.0.1:\(gatewayPort)/v1/orders"))
        #expect(up.fullOutput.contains("alice (token demo-alice)"))
        #expect(up.fullOutput.contains("kcat -P -b 127.0.0.1:"))
        #expect(!up.fullOutput.contains("[order-manager] order-manager: running"), "\(up.log)")
        for component in ["order-manager", "algo", "exchange-gateway", "allocator", "gateway", "exchange-sim"] {
            let log = (try? String(contentsOfFile: "\(dataDirectory)/logs/\(component).log", encoding: .utf8)) ?? ""
            #expect(log.contains("\(component): "), "\(component).log: \(log.prefix(300))")
        }
        let status = await up.stop()
        stopped = true
        #expect(status == 0, "ordertrace up did not stop cleanly:\n\(up.log)")
    }

    @Test("up --replicas 2 runs two of each replicated component in its group: every order ends, each replica has its log, and the merged metrics name each")
    func replicas() async throws {
        let dataDirectory = NSTemporaryDirectory() + "ordertrace-replicas-up-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let (up, gatewayPort, _, metricsPort) = try await startUp(dataDirectory: dataDirectory, arguments: ["--replicas", "2"])
        var stopped = false
        defer { if !stopped { up.process.terminate() } }
        let ids = (1...120).map { "rp-\($0)" }
        let symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "JPM"]
        let orders = ids.enumerated().map { index, id in
            #"{"clientOrderId":"\#(id)","symbol":"\#(symbols[index % symbols.count])","side":"\#(index % 2 == 0 ? "buy" : "sell")","quantity":\#(10 + index % 7),"orderType":"market"}"#
        }
        let pushed = try await PipelineEndToEndTests.trade(port: gatewayPort, token: "demo-alice", orders: orders, expect: Set(ids), timeout: .seconds(120))
        let ended = Set(pushed.filter { ["filled", "canceled", "rejected"].contains($0.status) }.map(\.clientOrderId))
        #expect(ended == Set(ids), "\(Set(ids).subtracting(ended).count) orders did not end\n\(up.log)")
        let metrics = await HTTPGet.fetch("http://127.0.0.1:\(metricsPort)/metrics", timeout: .seconds(10), maxBodyBytes: 1 << 24)
        let text = metrics.map { String(decoding: $0.body, as: UTF8.self) } ?? ""
        for name in ["order-manager", "order-manager-2", "algo-2", "exchange-gateway-2", "allocator", "allocator-2"] {
            #expect(text.contains(#"ordertrace_scrape_up{service="\#(name)"} 1"#), "\(name) is not in the merged metrics")
            let log = (try? String(contentsOfFile: "\(dataDirectory)/logs/\(name).log", encoding: .utf8)) ?? ""
            #expect(log.contains("assigned"), "\(name).log: \(log.prefix(300))")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dataDirectory)/logs/gateway-2.log"), "the gateway runs once")
        // Each replica's metrics say which partitions it holds: between them, every partition of
        // client-orders, each held by one order manager.
        var holders: [String: [String]] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("kafka_consumer_assigned_partition{") && Double(line.split(separator: " ").last ?? "") == 1 {
            guard line.contains(#"topic="client-orders""#), let service = Self.label("service", in: line), let partition = Self.label("partition", in: line) else { continue }
            holders[partition, default: []].append(service)
        }
        #expect(holders.keys.sorted() == ["0", "1", "2", "3"], "\(holders): \(text.split(separator: "\n").filter { $0.contains("assigned_partition") }.prefix(6))")
        #expect(holders.values.allSatisfy { $0.count == 1 }, "\(holders)")
        #expect(Set(holders.values.flatMap { $0 }) == ["order-manager", "order-manager-2"], "\(holders)")
        let status = await up.stop()
        stopped = true
        #expect(status == 0, "ordertrace up did not stop cleanly:\n\(up.log)")
    }

    @Test("ordertrace demo against a running up: orders over the WebSocket and kcat, some invalid, every one ends, the audit passes")
    func demoAgainstUp() async throws {
        let dataDirectory = NSTemporaryDirectory() + "ordertrace-demo-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let (up, gatewayPort, _, metricsPort) = try await startUp(dataDirectory: dataDirectory)
        var stopped = false
        defer { if !stopped { up.process.terminate() } }
        let brokers = try #require(up.fullOutput.split(separator: "\n").first { $0.contains("up: embedded broker at ") }?.split(separator: " ")[4])
        let demo = try await offThePool {
            try runOrdertrace([
                "demo", "-b", String(brokers), "--gateway", "ws://127.0.0.1:\(gatewayPort)/v1/orders", "--rate", "30", "--duration", "3", "--seed", "7",
                "--metrics", "http://127.0.0.1:\(metricsPort)/metrics",
            ])
        }
        #expect(demo.status == 0, "\(demo.output)\n\(up.log)")
        #expect(demo.output.contains("audit: OK"), "\(demo.output)")
        // The audit read the run's records as they were written, not what the broker kept.
        #expect(demo.output.contains("read as it was written"), "\(demo.output)")
        #expect(demo.output.contains("records the broker deleted before a component read them: 0"), "\(demo.output)")
        #expect(demo.output.contains("over WebSocket") && demo.output.contains("over Kafka"), "\(demo.output)")
        #expect(demo.output.contains("rejected"), "the invalid orders were not refused: \(demo.output)")
        #expect(!demo.output.contains("NOT ENDED"), "\(demo.output)")
        let status = await up.stop()
        stopped = true
        #expect(status == 0, "ordertrace up did not stop cleanly:\n\(up.log)")
    }

    @Test("ordertrace audit --follow reads the orders written while it runs and audits them at Ctrl-C")
    func auditFollows() async throws {
        let dataDirectory = NSTemporaryDirectory() + "ordertrace-follow-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let (up, gatewayPort, _, _) = try await startUp(dataDirectory: dataDirectory)
        var stopped = false
        defer { if !stopped { up.process.terminate() } }
        let brokers = try #require(up.fullOutput.split(separator: "\n").first { $0.contains("up: embedded broker at ") }?.split(separator: " ")[4])
        // Orders from before it started are not its run.
        let before = [#"{"clientOrderId":"before-1","symbol":"AAPL","side":"buy","quantity":5,"orderType":"market"}"#]
        _ = try await PipelineEndToEndTests.trade(port: gatewayPort, token: "demo-bob", orders: before, expect: ["before-1"], timeout: .seconds(120))

        let audit = try OrdertraceProcess(
            command: "audit", arguments: ["--follow", "--require-terminal", "--wait-seconds", "60", "-b", String(brokers)], environment: [:])
        defer { if audit.process.isRunning { audit.process.terminate() } }
        try #require(await eventually(timeout: .seconds(90)) { audit.fullOutput.contains("from now on") }, "\(audit.log)")
        let ids = (1...30).map { "fw-\($0)" }
        let orders = ids.enumerated().map { index, id in
            #"{"clientOrderId":"\#(id)","symbol":"MSFT","side":"\#(index % 2 == 0 ? "buy" : "sell")","quantity":\#(5 + index),"orderType":"market"}"#
        }
        _ = try await PipelineEndToEndTests.trade(port: gatewayPort, token: "demo-alice", orders: orders, expect: Set(ids), timeout: .seconds(120))
        kill(audit.process.processIdentifier, SIGINT)
        let ended = await eventually(timeout: .seconds(120)) { !audit.process.isRunning }
        try #require(ended, "audit --follow did not end on SIGINT:\n\(audit.log)")
        #expect(audit.process.terminationStatus == 0, "\(audit.log)")
        #expect(audit.fullOutput.contains("read as it was written"), "\(audit.log)")
        #expect(audit.fullOutput.contains("audit: 30 client orders"), "\(audit.log)")
        #expect(audit.fullOutput.contains("audit: OK"), "\(audit.log)")
        let status = await up.stop()
        stopped = true
        #expect(status == 0, "ordertrace up did not stop cleanly:\n\(up.log)")
    }

    @Test("when up is killed (SIGKILL), its children stop by themselves and free their ports")
    func childrenDieWithTheirParent() async throws {
        let dataDirectory = NSTemporaryDirectory() + "ordertrace-orphans-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let (up, gatewayPort, exchangePort, _) = try await startUp(dataDirectory: dataDirectory)
        let children = processes(withEnvironment: "ORDERTRACE_DATA_DIR=\(dataDirectory)")
        #expect(children.count == 6, "expected the exchange and five components, found \(children)")
        kill(up.process.processIdentifier, SIGKILL)
        var left: [Int32] = []
        let gone = await eventually(timeout: .seconds(90)) {
            left = processes(withEnvironment: "ORDERTRACE_DATA_DIR=\(dataDirectory)")
            return left.isEmpty
        }
        #expect(gone, "still running after up was killed: \(left)")
        #expect(canListen(on: gatewayPort) && canListen(on: exchangePort))
    }

    /// The pids of processes whose environment holds `entry` (`NAME=value`).
    func processes(withEnvironment entry: String) -> [Int32] {
        let needle = Array(entry.utf8) + [0]
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init) ?? []
        return pids.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            let bytes = [UInt8](data)
            guard bytes.count >= needle.count else { return false }
            // Each entry ends with NUL: match a whole entry.
            var start = 0
            for index in bytes.indices where bytes[index] == 0 {
                if Array(bytes[start...index]) == needle { return true }
                start = index + 1
            }
            return false
        }
    }

    func canListen(on port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    /// The value of `name="..."` in a Prometheus sample line.
    static func label(_ name: String, in line: Substring) -> String? {
        guard let range = line.range(of: name + "=\"") else { return nil }
        let rest = line[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
