import Foundation
import Kafka
import KafkaTestSupport
import LeanTracing
import OrderModel
import Pipeline
import Testing
import TestSupport
import Tracing

extension PipelineFlowTests {
    /// An order sent by another OpenTelemetry SDK keeps its whole context through the fan-in:
    /// every update of it, the allocator's fill updates included, is in the order's trace and
    /// carries the order's baggage, entries the pipeline does not know included, as the Python
    /// SDK reads them from the update's headers.
    @Test("an order's baggage and trace survive its batch: every update, fills included, carries them as the Python SDK reads them")
    func orderContextSurvivesBatch() async throws {
        let orderBaggage = ["user.id": "alice", "client.order_id": "c-ctx-1", "desk": "emea-equities"]
        let peer = try await pythonPeer("inject", input: ["baggage": orderBaggage])
        let headers = try #require(peer["headers"] as? [String: String])
        let traceID = try #require(peer["traceId"] as? String)
        let database = temporaryFilePath("order-context", extension: "sqlite")
        defer { removeFiles(derivedFrom: database) }

        var updates: [KafkaMessage] = []
        try await withTracer(LeanTracer(propagatesBaggage: false)) {
            try await withPipeline(databasePath: database) { pipeline in
                let order = ClientOrder(
                    clientOrderId: "c-ctx-1", userId: "alice", symbol: "AAPL", side: .buy, quantity: 100, orderType: .market)
                var recordHeaders = KafkaHeaders()
                for (key, value) in headers { recordHeaders.set(key, value) }
                try await pipeline.producer.send(
                    KafkaProducerRecord(topic: pipeline.topics.clientOrders, key: "AAPL", value: order.encodeJSON(), headers: recordHeaders))

                let reader = try KafkaConsumer(
                    configuration: consumerConfiguration(pipeline.broker, group: uniqueName("read"), topics: [pipeline.topics.orderUpdates]),
                    logger: testLogger)
                updates = try await withRunningConsumer(reader) {
                    var seen: [KafkaMessage] = []
                    let deadline = ContinuousClock.now + .seconds(60)
                    while ContinuousClock.now < deadline {
                        seen += await collect(reader, count: 1, timeout: .milliseconds(200))
                        if try seen.contains(where: { try OrderUpdate(json: $0.value).status.isTerminal }) { break }
                    }
                    return seen
                }
            }
        }

        let statuses = try updates.map { try OrderUpdate(json: $0.value).status }
        #expect(statuses.first == .accepted)
        #expect(statuses.contains(.batched))
        #expect(statuses.last == .filled, "statuses: \(statuses)")
        for (message, status) in zip(updates, statuses) {
            let traceparent = try #require(message.headers.string("traceparent"), "\(status) update has no traceparent")
            let baggage = try #require(message.headers.string("baggage"), "\(status) update has no baggage")
            let read = try await pythonPeer("extract", input: ["traceparent": traceparent, "baggage": baggage])
            #expect(read["traceId"] as? String == traceID, "\(status) update is not in the order's trace")
            let entries = try #require(read["baggage"] as? [String: String])
            for (key, value) in orderBaggage {
                #expect(entries[key] == value, "\(status) update: baggage \(key) is \(entries[key] ?? "missing"), not \(value)")
            }
            let update = try OrderUpdate(json: message.value)
            if status != .accepted {
                #expect(entries["batch.id"] != nil && entries["batch.id"] == update.batchId, "\(status) update: batch.id \(entries["batch.id"] ?? "missing")")
            }
            if status == .filled || status == .partiallyFilled {
                #expect(entries["fill.id"] != nil && entries["fill.id"] == update.fillId, "\(status) update: fill.id \(entries["fill.id"] ?? "missing")")
            } else {
                #expect(entries["fill.id"] == nil, "\(status) update carries a fill.id")
            }
        }
    }
}
