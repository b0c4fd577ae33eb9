import Foundation
import Kafka
import KafkaTestSupport
import Logging
import Synchronization
import Testing
import WebSocketClient

/// The whole system as a user runs it: `ordertrace up` (embedded broker, exchange, every
/// component as its own process), orders over the WebSocket and straight into Kafka, the audit,
/// and the spans every process exported, checked against the trace model.
@Suite("End to end: ordertrace up, orders in, terminal states, audit, trace model", .timeLimit(.minutes(4)))
struct PipelineEndToEndTests {
    struct Pushed: Sendable {
        var clientOrderId: String
        var userId: String
        var status: String
        var reason: String?
    }

    /// Sends `orders` over a WebSocket as the token's user and collects what is pushed back,
    /// until every order id in `expect` has a terminal status (or `timeout`).
    static func trade(port: Int, token: String, orders: [String], expect: Set<String>, timeout: Duration = .seconds(90)) async throws -> [Pushed] {
        let pushed = Mutex<[Pushed]>([])
        try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(port)/v1/orders?access_token=\(token)", configuration: .init(maxMessageSize: 1 << 16, connectTimeout: .seconds(60))
        ) { inbound, outbound in
            for order in orders { try await outbound.write(.text(order)) }
            let deadline = ContinuousClock.now + timeout
            let watchdog = Task {
                try await Task.sleep(until: deadline)
                try await outbound.close(.normalClosure, reason: "timeout")
            }
            defer { watchdog.cancel() }
            for try await message in inbound {
                guard case .text(let text) = message,
                    let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                else { continue }
                let update = Pushed(
                    clientOrderId: object["clientOrderId"] as? String ?? "", userId: object["userId"] as? String ?? "",
                    status: object["status"] as? String ?? "", reason: object["reason"] as? String)
                let all = pushed.withLock { $0.append(update); return $0 }
                let terminal = Set(all.filter { ["filled", "canceled", "rejected"].contains($0.status) }.map(\.clientOrderId))
                if expect.isSubset(of: terminal) { break }
            }
        }
        return pushed.withLock { $0 }
    }

    @Test("orders over the WebSocket and over Kafka all end terminal, the audit passes, and the spans have the trace model's shape")
    func wholeSystem() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let collector = try await OTLPCollector.start()
        let kafkaPort = freePort(), gatewayPort = freePort(), exchangePort = freePort(), metricsPort = freePort()
        let dataDirectory = NSTemporaryDirectory() + "ordertrace-e2e-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let up = try UpProcess(
            arguments: [
                "--kafka-port", String(kafkaPort), "--gateway-port", String(gatewayPort), "--exchange-port", String(exchangePort),
                "--metrics-port", String(metricsPort), "--data-dir", dataDirectory, "--topics-dir", repositoryRoot.appendingPathComponent("topics").path,
                "--verbose",
            ],
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint.replacingOccurrences(of: "/v1/traces", with: ""),
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
                "OTEL_BSP_SCHEDULE_DELAY": "200",
                "EXCHANGE_ORDER_TIMEOUT_MS": "2000",
                "LOG_LEVEL": "warning",
            ])
        var stopped = false
        defer { if !stopped { up.process.terminate() } }
        let healthy = await eventually(timeout: .seconds(60)) { await httpStatus("http://127.0.0.1:\(gatewayPort)/health") == 200 }
        try #require(healthy, "the gateway never became healthy:\n\(up.log)")

        // Over Kafka, as kcat users do: no trace context, a duplicate, and a malformed record.
        let brokers = "127.0.0.1:\(kafkaPort)"
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: KafkaConfiguration(brokers: [brokers])), logger: testLogger)
        let kcatOrder = #"{"clientOrderId":"k-1","userId":"carol","symbol":"NVDA","side":"buy","quantity":10,"orderType":"market"}"#
        for value in [kcatOrder, kcatOrder, "{oops"] {
            try await producer.send(KafkaProducerRecord(topic: "client-orders", key: "NVDA", value: Array(value.utf8)))
        }
        await producer.close()

        // Over the WebSocket: market and marketable limit orders, one resting limit order that
        // the exchange gateway cancels after its timeout, and an invalid one.
        func order(_ id: String, _ symbol: String, _ side: String, _ quantity: Int, limit: String? = nil) -> String {
            let price = limit.map { #","orderType":"limit","limitPrice":\#($0)}"# } ?? #","orderType":"market"}"#
            return #"{"clientOrderId":"\#(id)","symbol":"\#(symbol)","side":"\#(side)","quantity":\#(quantity)"# + price
        }
        async let alice = Self.trade(
            port: gatewayPort, token: "demo-alice",
            orders: [order("a-1", "AAPL", "buy", 40), order("a-2", "AAPL", "buy", 25, limit: "200"), order("a-3", "MSFT", "sell", 30), order("a-4", "AAPL", "buy", 0)],
            expect: ["a-1", "a-2", "a-3", "a-4"])
        async let bob = Self.trade(
            port: gatewayPort, token: "demo-bob",
            orders: [order("b-1", "AAPL", "buy", 15), order("b-2", "TSLA", "sell", 20, limit: "240"), order("b-3", "TSLA", "buy", 5, limit: "230")],
            expect: ["b-1", "b-2", "b-3"])
        let (alicePushed, bobPushed) = try await (alice, bob)

        func last(_ pushed: [Pushed], _ id: String) -> String? { pushed.last { $0.clientOrderId == id }?.status }
        #expect(last(alicePushed, "a-1") == "filled", "\(up.log)")
        #expect(last(alicePushed, "a-2") == "filled")
        #expect(last(alicePushed, "a-3") == "filled")
        #expect(last(alicePushed, "a-4") == "rejected")
        #expect(alicePushed.first { $0.clientOrderId == "a-4" }?.reason?.contains("quantity") == true)
        #expect(last(bobPushed, "b-1") == "filled")
        #expect(last(bobPushed, "b-2") == "filled")
        #expect(last(bobPushed, "b-3") == "canceled", "a resting order ends canceled when the exchange gateway's timeout cancels it")
        #expect(alicePushed.allSatisfy { $0.userId == "alice" || $0.userId.isEmpty }, "alice saw another user's update")
        #expect(bobPushed.allSatisfy { $0.userId == "bob" || $0.userId.isEmpty }, "bob saw another user's update")
        #expect(Set(alicePushed.map(\.status)).isSuperset(of: ["accepted", "batched", "filled"]))

        // The audit reads every topic and checks the invariants; every order must be terminal.
        let audit = try runOrdertrace(["audit", "-b", brokers, "--require-terminal", "--wait-seconds", "60"], environment: ["LOG_LEVEL": "error"])
        #expect(audit.status == 0, "\(audit.output)")
        #expect(audit.output.contains("audit: OK"))
        #expect(audit.output.contains("8 client orders") || audit.output.contains("7 client orders"), "\(audit.output)")

        let status = await up.stop()
        stopped = true
        #expect(status == 0, "ordertrace up did not stop cleanly:\n\(up.log)")
        await collector.stop()
        let exported = collector.spansWithService
        if let path = ProcessInfo.processInfo.environment["ORDERTRACE_E2E_SPANS"] {
            let lines = exported.map { "\($0.service) \(Span($0.span, service: $0.service))" }
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        try checkTraceModel(exported)
    }

    /// The spans of one WebSocket order and of one Kafka order against trace-model.md.
    func checkTraceModel(_ exported: [(service: String, span: [String: Any])]) throws {
        let spans = exported.map { Span($0.span, service: $0.service) }
        #expect(Set(spans.map(\.service)).isSuperset(of: [
            "ordertrace-gateway", "ordertrace-order-manager", "ordertrace-algo", "ordertrace-exchange-gateway", "ordertrace-allocator",
        ]))
        func one(_ name: String, _ filter: (Span) -> Bool = { _ in true }) throws -> Span {
            try #require(spans.first { $0.name == name && filter($0) }, "no \(name) span")
        }
        func children(of parent: Span, named name: String) -> [Span] {
            spans.filter { $0.name == name && $0.parentSpanID == parent.spanID && $0.traceID == parent.traceID }
        }

        // The order trace of a-1: its root at the gateway.
        let received = try one("client_order_received") { $0.attributes["client.order_id"] == "a-1" }
        #expect(received.service == "ordertrace-gateway")
        #expect(received.kind == "SERVER")
        #expect(received.parentSpanID.isEmpty)
        #expect(received.attributes["user.id"] == "alice")
        let send = try #require(children(of: received, named: "send client-orders").first)
        #expect(send.kind == "PRODUCER")
        #expect(send.attributes["messaging.system"] == "kafka")
        #expect(send.attributes["messaging.destination.name"] == "client-orders")
        #expect(send.attributes["messaging.operation.name"] == "send")
        #expect(send.attributes["messaging.kafka.message.key"] == "AAPL")
        let process = try #require(children(of: send, named: "process client-orders").first)
        #expect(process.kind == "CONSUMER")
        #expect(process.links.contains { $0.spanID == send.spanID })
        #expect(process.attributes["messaging.consumer.group.name"] == "order-manager")
        #expect(process.attributes["messaging.destination.partition.id"] != nil)
        #expect(process.attributes["messaging.kafka.offset"] != nil)
        #expect(process.attributes["user.id"] == "alice" && process.attributes["client.order_id"] == "a-1")
        let processing = try #require(children(of: process, named: "order_manager_processing").first)
        let batched = try #require(children(of: processing, named: "client_order_batched").first)

        // Fan-in: the batch trace's root links to the order, and the order links back to it.
        let batching = try #require(spans.first { $0.name == "order_batching" && $0.links.contains { $0.spanID == processing.spanID } })
        #expect(batching.parentSpanID.isEmpty)
        #expect(batching.traceID != received.traceID)
        #expect(batching.links.first { $0.spanID == processing.spanID }?.attributes["client.order_id"] == "a-1")
        #expect(batched.links.contains { $0.spanID == batching.spanID && $0.traceID == batching.traceID })
        let batchID = try #require(batching.attributes["batch.id"])
        #expect(batched.attributes["batch.id"] == batchID)

        // The batch trace: algorithm, exchange orders, the exchange round trip, fills, matching.
        let sendBatch = try #require(children(of: batching, named: "send batches").first)
        let algoProcess = try #require(children(of: sendBatch, named: "process batches").first { $0.service == "ordertrace-algo" })
        let algorithm = try #require(children(of: algoProcess, named: "algorithm_processing").first)
        let exchangeOrderSends = children(of: algorithm, named: "exchange_order_send")
        #expect(!exchangeOrderSends.isEmpty)
        var sawFill = false
        for exchangeOrderSend in exchangeOrderSends {
            let producerSpan = try #require(children(of: exchangeOrderSend, named: "send exchange-orders").first)
            let consumerSpan = try #require(children(of: producerSpan, named: "process exchange-orders").first)
            let wsSend = try #require(children(of: consumerSpan, named: "external_exchange_ws_send").first)
            #expect(wsSend.kind == "CLIENT")
            #expect(wsSend.attributes["exchange.order_id"] == exchangeOrderSend.attributes["exchange.order_id"])
            for wsReceive in children(of: wsSend, named: "external_exchange_ws_recv") {
                #expect(wsReceive.kind == "CONSUMER")
                for fillReceived in children(of: wsReceive, named: "exchange_fill_received") {
                    let sendFill = try #require(children(of: fillReceived, named: "send fills").first)
                    let processFill = try #require(children(of: sendFill, named: "process fills").first)
                    let matching = try #require(children(of: processFill, named: "fill_matching").first)
                    #expect(matching.links.contains { $0.spanID == sendFill.spanID })
                    // Many-to-many: the matching links to each order it allocated to, which links back.
                    if let link = matching.links.first(where: { $0.spanID == processing.spanID }) {
                        sawFill = true
                        #expect(link.attributes["client.order_id"] == "a-1")
                        #expect(Int(link.attributes["allocated.quantity"] ?? "") ?? 0 > 0)
                        let update = try #require(children(of: processing, named: "client_order_update").first { $0.links.contains { $0.spanID == matching.spanID } })
                        #expect(update.attributes["fill.id"] == matching.attributes["fill.id"])
                        #expect(children(of: update, named: "send order-updates").count == 1)
                    }
                }
            }
        }
        #expect(sawFill, "no fill_matching span links to a-1")
        let completed = try #require(children(of: processing, named: "order_completed").first)
        #expect(completed.attributes["order.status"] == "filled")
        #expect(completed.links.count == 1)
        let delivered = spans.filter { $0.name == "client_order_update_delivered" && $0.traceID == received.traceID }
        #expect(!delivered.isEmpty, "the gateway's delivery of a-1's updates is in a-1's trace")

        // An order that came by Kafka without a trace context gets its root at the order manager.
        let kcatRoot = try one("client_order_received") { $0.attributes["client.order_id"] == "k-1" }
        #expect(kcatRoot.service == "ordertrace-order-manager")
        #expect(kcatRoot.kind == "CONSUMER")
        #expect(kcatRoot.parentSpanID.isEmpty)
        #expect(kcatRoot.attributes["ordertrace.trace_context.problem"] != nil)
    }
}

/// An exported span, as read from OTLP/JSON.
struct Span {
    struct Link {
        var traceID: String
        var spanID: String
        var attributes: [String: String]
    }

    var service: String
    var name: String
    var kind: String
    var traceID: String
    var spanID: String
    var parentSpanID: String
    var attributes: [String: String]
    var links: [Link]

    /// OTLP/JSON ids are hex; swift-otel 1.6 writes them base64 (the protobuf JSON mapping).
    /// Either way, hex comes out.
    static func id(_ value: Any?) -> String {
        let text = value as? String ?? ""
        if text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let bytes = Data(base64Encoded: text) else { return text }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    init(_ json: [String: Any], service: String) {
        self.service = service
        name = json["name"] as? String ?? ""
        kind = OTLPJSON.kind(json)
        traceID = Self.id(json["traceId"])
        spanID = Self.id(json["spanId"])
        parentSpanID = Self.id(json["parentSpanId"])
        attributes = OTLPJSON.attributes(json["attributes"])
        links = (json["links"] as? [[String: Any]] ?? []).map {
            Link(
                traceID: Self.id($0["traceId"]), spanID: Self.id($0["spanId"]),
                attributes: OTLPJSON.attributes($0["attributes"]))
        }
    }
}
