import Foundation
import Glibc
import Kafka
import KafkaTestSupport
import OrderModel
import Pipeline
import Synchronization
import Testing
import WebSocketClient

/// Asks the exchange for the state of each order of `session` by sending its `new_order` again
/// (which a session that knows the id answers with `order_status`, after the older executions as
/// `execution` messages when they are many). Returns per order id the first answer and the
/// quantities of all its executions, by execution id, known when the answer came.
private func exchangeState(port: Int, session: String, orders: [ExchangeOrder]) async throws -> [String: (reply: [String: Any], executions: [String: Int64])] {
    struct Collected: Sendable {
        var replies: [String: String] = [:]
        var executions: [String: [String: Int64]] = [:]
    }
    let collected = Mutex(Collected())
    let ids = Set(orders.map(\.exchangeOrderId))
    try await WebSocketClient.connect(
        url: "ws://127.0.0.1:\(port)/?session=\(session)", configuration: .init(maxMessageSize: 1 << 16, connectTimeout: .seconds(60))
    ) { inbound, outbound in
        for order in orders {
            var line = #"{"type":"new_order","orderId":"\#(order.exchangeOrderId)","symbol":"\#(order.symbol)","side":"\#(order.side.rawValue)","quantity":\#(order.quantity),"orderType":"\#(order.orderType.rawValue)""#
            if let price = order.limitPrice { line += #","limitPrice":"\#(price)""# }
            try await outbound.write(.text(line + "}"))
        }
        let deadline = ContinuousClock.now + .seconds(60)
        for try await message in inbound {
            guard case .text(let text) = message,
                let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
                let id = object["orderId"] as? String, ids.contains(id)
            else { continue }
            let type = object["type"] as? String
            let count = collected.withLock { collected -> Int in
                guard collected.replies[id] == nil else { return collected.replies.count }
                if type == "execution", let executionId = object["executionId"] as? String {
                    collected.executions[id, default: [:]][executionId] = number(object["quantity"])
                }
                if type == "order_status" {
                    for execution in (object["executions"] as? [[String: Any]]) ?? [] {
                        if let executionId = execution["executionId"] as? String {
                            collected.executions[id, default: [:]][executionId] = number(execution["quantity"])
                        }
                    }
                }
                // An ack means the exchange took the id as a new order: kept, it is a failure.
                if type == "order_status" || type == "ack" || type == "reject" { collected.replies[id] = text }
                return collected.replies.count
            }
            if count == ids.count || ContinuousClock.now > deadline { break }
        }
    }
    return collected.withLock { collected in
        var result: [String: (reply: [String: Any], executions: [String: Int64])] = [:]
        for (id, text) in collected.replies {
            let reply = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            result[id] = (reply, collected.executions[id] ?? [:])
        }
        return result
    }
}

private func number(_ value: Any?) -> Int64 { (value as? NSNumber)?.int64Value ?? -1 }

@Suite("The exchange gateway killed and restarted, as real processes", .timeLimit(.minutes(6)))
struct GatewayRestartProcessTests {
    @Test("SIGKILL mid-stream and a restart: no exchange order executes twice, no fill is counted twice, every order that ends ends once")
    func killAndRestart() async throws {
        let topics = PipelineTopics(prefix: uniqueName("xgkill") + ".")
        let session = uniqueName("gw")
        try await withEmbeddedBroker { broker in
            try broker.createTopic(topics.exchangeOrders, partitions: 1)
            try broker.createTopic(topics.fills, partitions: 1)
            try broker.createTopic(topics.deadLetters, partitions: 1)

            let exchange = try OrdertraceProcess(command: "exchange-sim", arguments: ["--port", "0", "--seed", "11"], environment: ["LOG_LEVEL": "warning"])
            defer { exchange.signal(SIGKILL) }
            var port: Int?
            _ = await eventually(timeout: .seconds(120)) {
                if let range = exchange.fullOutput.range(of: #"listening on ws://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) {
                    port = Int(exchange.fullOutput[range].split(separator: ":").last!.dropLast())
                }
                return port != nil
            }
            let exchangePort = try #require(port, "exchange-sim did not start: \(exchange.log)")

            let environment = [
                "KAFKA_BROKERS": broker.bootstrapServers, "ORDERTRACE_TOPIC_PREFIX": topics.exchangeOrders.replacingOccurrences(of: "exchange-orders", with: ""),
                "EXCHANGE_URL": "ws://127.0.0.1:\(exchangePort)/", "EXCHANGE_SESSION": session, "EXCHANGE_ORDER_TIMEOUT_MS": "600000",
                "EXCHANGE_RECONNECT_MAX_BACKOFF_MS": "500", "OTEL_SDK_DISABLED": "true", "LOG_LEVEL": "info",
            ]
            let output = try TopicReader(broker: broker, topics: [topics.fills])
            let input = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)

            // Orders that fill at once (market), that rest away from the market (never trade), and
            // that partly fill and keep filling over time (large, at the best asks).
            func orders(_ round: Int) -> [ExchangeOrder] {
                let market = (0..<6).map { exchangeOrder("r\(round)-\($0)-m", symbol: "AAPL", quantity: 300, batch: "b-\(round)-\($0)") }
                let resting = (0..<3).map {
                    exchangeOrder("r\(round)-\($0)-rest", symbol: "MSFT", quantity: 100, limit: Price(ticks: 3_900_000), batch: "b-\(round)-r\($0)")
                }
                // One per symbol: a limit a whole unit above the reference, so every refresh of the asks
                // trades with it wherever the reference walks, and far more than the depth ever holds.
                let big = round == 1
                    ? exchangeOrder("r1-0-big", symbol: "NVDA", quantity: 50_000_000, limit: Price(ticks: 1_210_000), batch: "b-1-big")
                    : exchangeOrder("r2-0-big", symbol: "AMZN", quantity: 50_000_000, limit: Price(ticks: 1_860_000), batch: "b-2-big")
                return [big] + market + resting
            }
            let first = orders(1)
            let second = orders(2)
            let all = first + second

            var gateway = try OrdertraceProcess(command: "exchange-gateway", arguments: [], environment: environment)
            defer { gateway.signal(SIGKILL) }
            for result in try await input.send(first.map { record($0, topic: topics.exchangeOrders) }) { _ = try result.get() }
            // Mid-stream: some orders filled, the large ones are filling.
            let started = await eventually(timeout: .seconds(120)) {
                let fills = (try? decodedFills(output.messages(topic: topics.fills))) ?? [:]
                return first.filter { $0.exchangeOrderId.hasSuffix("-m") }.allSatisfy { fills[$0.exchangeOrderId]?.contains { $0.status.isTerminal } == true }
                    && first.filter { $0.exchangeOrderId.hasSuffix("-big") }.allSatisfy { fills[$0.exchangeOrderId]?.isEmpty == false }
            }
            #expect(started, "fills did not come: \(gateway.log)")
            await gateway.stop(SIGKILL)
            for result in try await input.send(second.map { record($0, topic: topics.exchangeOrders) }) { _ = try result.get() }

            gateway = try OrdertraceProcess(command: "exchange-gateway", arguments: [], environment: environment)
            let fillsBeforeSettling = output.messages(topic: topics.fills).count
            // Settled: every market order ended, every large order filled more since the restart.
            let settled = await eventually(timeout: .seconds(180)) {
                let fills = (try? decodedFills(output.messages(topic: topics.fills))) ?? [:]
                return all.filter { $0.exchangeOrderId.hasSuffix("-m") }.allSatisfy { fills[$0.exchangeOrderId]?.contains { $0.status.isTerminal } == true }
                    && all.filter { $0.exchangeOrderId.hasSuffix("-big") }.allSatisfy { fills[$0.exchangeOrderId]?.isEmpty == false }
                    && output.messages(topic: topics.fills).count > fillsBeforeSettling + 12
            }
            #expect(settled, "the restarted gateway did not settle: \(gateway.log)")
            await gateway.stop(SIGTERM)

            // What the exchange executed, per order, asked of the session the gateway used.
            let state = try await exchangeState(port: exchangePort, session: session, orders: all)
            let fills = try decodedFills(output.messages(topic: topics.fills))
            for order in all {
                let id = order.exchangeOrderId
                let (reply, executions) = try #require(state[id], "no answer about \(id)")
                #expect(reply["type"] as? String == "order_status", "the exchange took \(id) as a new order: \(reply)")
                let executed = executions.values.reduce(0, +)
                #expect(executed <= order.quantity, "\(id): the exchange executed \(executed) of \(order.quantity)")
                #expect(executed == number(reply["cumulativeQuantity"]), "\(id): \(reply)")

                // Distinct fills: a fill published twice counts once (the allocator drops the copy).
                var distinct: [String: Fill] = [:]
                for fill in fills[id] ?? [] { distinct[fill.fillId] = distinct[fill.fillId] ?? fill }
                let filled = distinct.values.map(\.quantity).reduce(0, +)
                #expect(filled <= order.quantity, "\(id): fills add up to \(filled) of \(order.quantity)")
                #expect(filled <= executed, "\(id): fills add up to \(filled), the exchange executed \(executed)")
                let terminal = distinct.values.filter { $0.status.isTerminal }
                #expect(terminal.count <= 1, "\(id): \(terminal.count) terminal fills: \(terminal.map(\.fillId))")
                if id.hasSuffix("-m") {
                    #expect(terminal.count == 1, "\(id) did not end")
                    #expect(filled == executed, "\(id): fills add up to \(filled), the exchange executed \(executed)")
                }
                if id.hasSuffix("-rest") {
                    #expect(executed == 0 && filled == 0 && terminal.isEmpty, "\(id) rests away from the market: \(reply)")
                }
            }
            await output.stop()
            await input.close()
            await exchange.stop(SIGTERM)
        }
    }
}
