import Baggage
import InMemoryTracing
import Kafka
import KafkaTestSupport
import LeanTracing
import Logging
import OrderGateway
import OrderModel
import ServiceLifecycle
import TestSupport
import Testing
import Tracing
import WebSocketClient

private let aliceOrder = #"{"clientOrderId":"c-1001","symbol":"AAPL","side":"buy","quantity":300,"orderType":"limit","limitPrice":189.25}"#

@Suite("The gateway over WebSocket and HTTP, with an embedded broker", .timeLimit(.minutes(2)))
struct OrderGatewayTests {
    @Test("WebSocket: invalid and foreign-user orders are rejected at once; a valid one reaches client-orders with the token's user, traceparent and baggage; updates reach their owner only")
    func webSocket() async throws {
        // A W3C-propagating tracer that exports nowhere, so traceparent headers are written.
        let tracer = LeanTracer()

        try await withTracer(tracer) {
            try await GatewayHarness.run { gateway in
                let alice = TestSocket(url: gateway.socketURL, token: "demo-alice")
                let bob = TestSocket(url: gateway.socketURL + "?access_token=demo-bob", token: nil)

                // Invalid: the reply names the field.
                alice.send(#"{"clientOrderId":"c-bad","symbol":"AAPL","side":"hold","quantity":1,"orderType":"market"}"#)
                let rejected = await alice.waitFor { $0.contains("c-bad") }
                #expect(rejected?.contains(#""status":"rejected""#) == true)
                #expect(rejected?.contains("side: ") == true, "\(rejected ?? "no reply")")

                // Another user's id in the payload.
                alice.send(#"{"clientOrderId":"c-bob","userId":"bob","symbol":"AAPL","side":"buy","quantity":1,"orderType":"market"}"#)
                let foreign = await alice.waitFor { $0.contains("c-bob") }
                #expect(foreign?.contains("userId comes from the token") == true, "\(foreign ?? "no reply")")

                // Not JSON, binary-free garbage: a reply, and the socket goes on.
                alice.send("not json")
                #expect(await alice.waitFor { $0.contains("not JSON") || $0.contains("JSON") } != nil)

                // Valid: on client-orders, keyed by symbol, with alice as the user.
                alice.send(aliceOrder)
                let records = try await gateway.read(gateway.topics.clientOrders, count: 1)
                let record = try #require(records.first)
                #expect(record.keyString == "AAPL")
                let order = try ClientOrder(json: record.value)
                #expect(order.userId == "alice")
                #expect(order.clientOrderId == "c-1001")
                #expect(record.headers.string("traceparent") != nil)
                let baggage = Baggage(headerValues: [try #require(record.headers.string("baggage"))])
                #expect(baggage["user.id"] == "alice")
                #expect(baggage["client.order_id"] == "c-1001")
                #expect(records.count == 1, "the rejected orders never reach Kafka")

                // Bob's socket is open too (query token); an update for alice goes to alice only.
                bob.send("{}")
                #expect(await bob.waitFor { $0.contains(#""userId":"bob""#) } != nil)
                let update = OrderUpdate(
                    clientOrderId: "c-1001", userId: "alice", symbol: "AAPL", side: .buy, status: .accepted,
                    cumulativeQuantity: 0, leavesQuantity: 300)
                let producer = try KafkaProducer(configuration: producerConfiguration(gateway.broker), logger: testLogger)
                // The gateway's group starts at the end of the topic: send until it sees one.
                var delivered: String?
                for _ in 0..<20 where delivered == nil {
                    try await producer.send(
                        KafkaProducerRecord(topic: gateway.topics.orderUpdates, key: "alice", value: update.encodeJSON()))
                    delivered = await alice.waitFor(timeout: .seconds(1)) { $0.contains(#""status":"accepted""#) }
                }
                await producer.close()
                let pushed = try #require(delivered, "alice got no update")
                #expect(try OrderUpdate(json: pushed) == update)
                try await Task.sleep(for: .milliseconds(300))
                #expect(bob.received.withLock { $0.allSatisfy { !$0.contains("c-1001") } }, "bob got alice's update")

                // POST answers with the id of the order's trace.
                let posted = try await gateway.request(
                    "POST", "/v1/orders", headers: ["Authorization": "Bearer demo-alice"],
                    body: #"{"clientOrderId":"c-post","symbol":"MSFT","side":"sell","quantity":5,"orderType":"market"}"#)
                #expect(posted.status == 202)
                let all = try await gateway.read(gateway.topics.clientOrders, count: 2)
                let postedRecord = try #require(all.first { $0.keyString == "MSFT" })
                let traceparent = try #require(postedRecord.headers.string("traceparent"))
                #expect(posted.body.contains(#""traceId":"\#(traceparent.dropFirst(3).prefix(32))""#), "\(posted.body) vs \(traceparent)")

                await alice.close()
                await bob.close()
            }
        }
    }

    @Test("HTTP: POST 202 with the trace id, 400 with the problems, 401, 413; WebSocket without a token 401; /health 200")
    func http() async throws {
        try await GatewayHarness.run { gateway in
            let health = try await gateway.request("GET", "/health")
            #expect(health.status == 200)
            #expect(health.body == #"{"status":"ok"}"#)

            let accepted = try await gateway.request(
                "POST", "/v1/orders", headers: ["Authorization": "Bearer demo-carol", "baggage": "session.id=s-9"], body: aliceOrder)
            #expect(accepted.status == 202, "\(accepted.body)")
            #expect(accepted.body.contains(#""clientOrderId":"c-1001""#))
            #expect(accepted.body.contains(#""status":"received""#))
            let record = try #require(try await gateway.read(gateway.topics.clientOrders, count: 1).first)
            #expect(try ClientOrder(json: record.value).userId == "carol")
            let baggage = Baggage(headerValues: [try #require(record.headers.string("baggage"))])
            #expect(baggage["session.id"] == "s-9", "incoming baggage is passed on")
            #expect(baggage["user.id"] == "carol")

            let invalid = try await gateway.request(
                "POST", "/v1/orders", headers: ["Authorization": "Bearer demo-carol"],
                body: #"{"clientOrderId":"c-2","symbol":"AAPL","side":"buy","quantity":0,"orderType":"market"}"#)
            #expect(invalid.status == 400)
            #expect(invalid.body.contains(#""errors":[{"field":"quantity""#), "\(invalid.body)")
            #expect(invalid.body.contains(#""status":"rejected""#))

            let noToken = try await gateway.request("POST", "/v1/orders", body: aliceOrder)
            #expect(noToken.status == 401)
            let wrongToken = try await gateway.request("POST", "/v1/orders", headers: ["Authorization": "Bearer nope"], body: aliceOrder)
            #expect(wrongToken.status == 401)

            let large = try await gateway.request(
                "POST", "/v1/orders", headers: ["Authorization": "Bearer demo-carol"], body: String(repeating: " ", count: 5_000) + aliceOrder)
            #expect(large.status == 413)
            #expect(large.body.contains("larger than 4096 bytes") && large.body.contains(#""status":"rejected""#), "the client hears why: \(large.body)")

            for url in [gateway.socketURL, gateway.socketURL + "?access_token=nope"] {
                let refused = await #expect(throws: WebSocketClientError.self) {
                    try await WebSocketClient.connect(url: url) { _, _ in }
                }
                // Hummingbird answers a refused WebSocket upgrade with 400.
                #expect(refused?.code == .upgradeFailed && refused?.httpStatus == 400, "\(String(describing: refused))")
            }
        }
    }

    @Test("a WebSocket message over the limit, or a binary one, gets a rejection and the socket goes on")
    func limits() async throws {
        try await GatewayHarness.run { gateway in
            let socket = TestSocket(url: gateway.socketURL, token: "demo-bob")
            socket.send(String(repeating: "x", count: 5_000))
            #expect(await socket.waitFor { $0.contains("larger than 4096 bytes") } != nil)
            socket.send(binary: Array(aliceOrder.utf8))
            #expect(await socket.waitFor { $0.contains("binary messages are not read") } != nil)
            socket.send(#"{"clientOrderId":"c-ok","symbol":"MSFT","side":"sell","quantity":5,"orderType":"market"}"#)
            let record = try #require(try await gateway.read(gateway.topics.clientOrders, count: 1).first)
            #expect(try ClientOrder(json: record.value).clientOrderId == "c-ok")
            await socket.close()
        }
    }

    @Test("client_order_received is a root SERVER span whatever the current context; send client-orders is its child")
    func spans() async throws {
        let tracer = InMemoryTracer()
        try await withTracer(tracer) {
            // A current span that the gateway must not adopt as the order's parent.
            try await withSpan("unrelated") { _ in
                try await GatewayHarness.run { gateway in
                    let response = try await gateway.request("POST", "/v1/orders", headers: ["Authorization": "Bearer demo-alice"], body: aliceOrder)
                    #expect(response.status == 202)
                }
            }
        }
        let spans = tracer.finishedSpans
        let received = try #require(spans.first { $0.operationName == "client_order_received" })
        let send = try #require(spans.first { $0.operationName == "send client-orders" })
        #expect(received.kind == .server)
        #expect(received.parentSpanID == nil)
        #expect(received.attributes["user.id"]?.toSpanAttribute() == "alice")
        #expect(received.attributes["client.order_id"]?.toSpanAttribute() == "c-1001")
        #expect(received.attributes["order.symbol"]?.toSpanAttribute() == "AAPL")
        #expect(received.attributes["order.side"]?.toSpanAttribute() == "buy")
        #expect(received.attributes["order.quantity"]?.toSpanAttribute() == .int64(300))
        #expect(received.attributes["order.type"]?.toSpanAttribute() == "limit")
        #expect(send.kind == .producer)
        #expect(send.traceID == received.traceID)
        #expect(send.parentSpanID == received.spanID)
        #expect(send.attributes["user.id"]?.toSpanAttribute() == "alice", "baggage business ids reach the send span")
    }

    @Test("POST: client baggage cannot set business ids; its other entries go on; user.id is the token's user")
    func clientBaggage() async throws {
        let tracer = InMemoryTracer()
        try await withTracer(tracer) {
            try await GatewayHarness.run { gateway in
                let response = try await gateway.request(
                    "POST", "/v1/orders",
                    headers: [
                        "Authorization": "Bearer demo-bob",
                        "baggage": "batch.id=evil,fill.id=x,other=ok,exchange.order_id=e-1,user.id=alice,client.order_id=c-666",
                    ],
                    body: aliceOrder)
                #expect(response.status == 202, "\(response.body)")
                let record = try #require(try await gateway.read(gateway.topics.clientOrders, count: 1).first)
                let baggage = Baggage(headerValues: [try #require(record.headers.string("baggage"))])
                #expect(baggage["other"] == "ok")
                #expect(baggage["batch.id"] == nil)
                #expect(baggage["fill.id"] == nil)
                #expect(baggage["exchange.order_id"] == nil)
                #expect(baggage.values(forKey: "user.id") == ["bob"])
                #expect(baggage.values(forKey: "client.order_id") == ["c-1001"])
            }
        }
        for span in tracer.finishedSpans where ["client_order_received", "send client-orders"].contains(span.operationName) {
            #expect(span.attributes["batch.id"] == nil, "\(span.operationName)")
            #expect(span.attributes["fill.id"] == nil, "\(span.operationName)")
            #expect(span.attributes["exchange.order_id"] == nil, "\(span.operationName)")
            #expect(span.attributes["user.id"]?.toSpanAttribute() == "bob", "\(span.operationName)")
        }
        #expect(tracer.finishedSpans.contains { $0.operationName == "send client-orders" })
    }

    @Test("an update for a user with no socket here is counted without decoding or spans; one for a connected user is delivered and traced")
    func updatesNobodyListensToAreNotTraced() async throws {
        let tracer = InMemoryTracer()
        try await withTracer(tracer) {
            try await GatewayHarness.run { gateway in
                let alice = TestSocket(url: gateway.socketURL, token: "demo-alice")
                // A reply proves the socket is registered.
                alice.send(#"{"clientOrderId":"c-bad","symbol":"AAPL","side":"hold","quantity":1,"orderType":"market"}"#)
                #expect(await alice.waitFor { $0.contains("c-bad") } != nil)

                let producer = try KafkaProducer(configuration: producerConfiguration(gateway.broker), logger: testLogger)
                func update(_ user: String, _ id: String) -> KafkaProducerRecord {
                    let order = ClientOrder(clientOrderId: id, userId: user, symbol: "AAPL", side: .buy, quantity: 10, orderType: .market)
                    return KafkaProducerRecord(topic: gateway.topics.orderUpdates, partition: 0, key: user, value: OrderUpdate(order: order, status: .accepted).encodeJSON())
                }
                // Same partition, so bob's is handled before alice's arrives at her socket.
                _ = try await producer.send(update("bob", "c-bob-1"))
                _ = try await producer.send(update("alice", "c-alice-1"))
                #expect(await alice.waitFor(timeout: .seconds(60)) { $0.contains("c-alice-1") } != nil)
                await producer.close()
                await alice.close()
            }
        }
        let spans = tracer.finishedSpans
        let processed = spans.filter { $0.operationName == "process order-updates" }
        let delivered = spans.filter { $0.operationName == "client_order_update_delivered" }
        #expect(processed.count == 1, "only the update with a socket to go to is traced: \(processed.count) process spans")
        #expect(delivered.count == 1)
        #expect(delivered.first?.attributes["user.id"]?.toSpanAttribute() == "alice")
        #expect(delivered.first?.parentSpanID == processed.first?.spanID, "the delivery is a child of the record's process span")
        #expect(delivered.first?.traceID == processed.first?.traceID)
    }
}
