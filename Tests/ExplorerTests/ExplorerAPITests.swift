import Explorer
import Foundation
import KafkaTestSupport
import OTLPWire
import Testing
import TraceStore

/// The explorer with the recorded scenario in it, through its HTTP API.
func withScenarioExplorer<T>(_ body: (RunningExplorer, LineageScenario) async throws -> T) async throws -> T {
    let scenario = LineageScenario()
    return try await withExplorer { explorer in
        for batch in scenario.batches {
            let answer = try await explorer.post(OTLPTraceEncoder.protobuf(batch.spans, origin: batch.origin), contentType: "application/x-protobuf")
            try #require(answer.status == 200)
        }
        try await explorer.explorer.store.flush()
        return try await body(explorer, scenario)
    }
}

@Suite(.timeLimit(.minutes(3)))
struct ExplorerAPITests {
    @Test func lineageOrdersSearchAndStatsAnswerAsDocumented() async throws {
        try await withScenarioExplorer { explorer, scenario in
            let answer = try await explorer.get("/api/lineage?id=o-1")
            #expect(answer.status == 200)
            #expect(answer.headers["content-type"]?.hasPrefix("application/json") == true)
            let document = try JSONDecoder().decode(LineageDocument.self, from: answer.body)
            #expect(document.query == "o-1")
            #expect(document.traces.filter(\.loaded).map(\.traceId) == [scenario.orderTrace1.hex, scenario.batchTrace.hex])
            #expect(document.orders.first { $0.clientOrderId == "o-1" }?.complete == true)
            #expect(document.orders.first { $0.clientOrderId == "o-3" }?.received == false)
            #expect(document.missing.links.map(\.spanId) == [spanIDHex(scenario.missingMemberSpan)])
            #expect(Set(document.edges.map(\.role)) == ["child of", "split into", "batched into", "filled by", "allocated to", "matches"])
            let received = try #require(document.spans.first { $0.name == "client_order_received" })
            #expect(received.kind == "server" && received.service == "gateway" && received.duration == 100)
            #expect(received.attributes["order.quantity"]?.description == "100")

            #expect(try await explorer.get("/api/lineage?id=no-such-order").status == 404)
            #expect(try await explorer.get("/api/lineage").status == 400)

            let incomplete = try JSONSerialization.jsonObject(with: try await explorer.get("/api/orders?filter=incomplete").body) as? [String: Any]
            let orders = incomplete?["orders"] as? [[String: Any]]
            #expect(orders?.map { $0["clientOrderId"] as? String } == ["o-2"])
            #expect(try await explorer.get("/api/orders?filter=sideways").status == 400)

            let search = try await explorer.get("/api/search?q=x-").text
            #expect(search.contains("\"value\":\"x-1\"") && search.contains("\"value\":\"x-2\""))

            #expect(try await explorer.statistic("spans") == scenario.spanCount)
            #expect(try await explorer.statistic("orders") == 2)
        }
    }

    @Test func oneTraceInJaegersShape() async throws {
        try await withScenarioExplorer { explorer, scenario in
            let answer = try await explorer.get("/api/traces/\(scenario.orderTrace1.hex)")
            #expect(answer.status == 200)
            let object = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])
            let trace = try #require((object["data"] as? [[String: Any]])?.first)
            #expect(trace["traceID"] as? String == scenario.orderTrace1.hex)
            let spans = try #require(trace["spans"] as? [[String: Any]])
            #expect(spans.count == scenario.batches.flatMap(\.spans).filter { $0.traceID == scenario.orderTrace1 }.count)
            let batched = try #require(spans.first { $0["operationName"] as? String == "client_order_batched" })
            let references = try #require(batched["references"] as? [[String: Any]])
            #expect(references.map { $0["refType"] as? String } == ["CHILD_OF", "FOLLOWS_FROM"])
            #expect(references[1]["traceID"] as? String == scenario.batchTrace.hex)
            let processes = try #require(trace["processes"] as? [String: [String: Any]])
            #expect(Set(processes.values.compactMap { $0["serviceName"] as? String }) == ["gateway", "order-manager", "allocator"])
            #expect(try await explorer.get("/api/traces/nothex").status == 400)
            #expect(try await explorer.get("/api/traces/\(TraceID(high: 9, low: 9).hex)").status == 404)
        }
    }

    @Test func theCommandLineTreeShowsLinksAndCompleteness() async throws {
        try await withScenarioExplorer { explorer, scenario in
            let document = try await ExplorerClient(baseURL: explorer.uiURL).lineage(of: "o-2")
            let text = LineageText.render(document)
            #expect(text.contains("● order o-2"))
            #expect(text.contains("○ batch b-1"))
            #expect(text.contains("  client_order_received  [gateway]  100 µs  client.order_id=o-2"))
            #expect(text.contains("⇢ batched into → order_batching (batch b-1)"))
            #expect(text.contains("⇢ filled by → fill_matching (batch b-1)"))
            #expect(text.contains("✗ parent \(spanIDHex(scenario.missingSendUpdate)) never arrived"))
            #expect(text.contains("✗ o-2 (bob) filled:"))
            #expect(text.contains("- not completed (no order_completed)"))
            let unreachable = ExplorerClient(baseURL: "http://127.0.0.1:1")
            await #expect(throws: ExplorerClient.Failure.self) { try await unreachable.lineage(of: "o-1") }
        }
    }

    @Test func theUIsFilesAreServedWithTheirTypes() async throws {
        try await withExplorer { explorer in
            let index = try await explorer.get("/")
            #expect(index.status == 200)
            #expect(index.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(index.text.contains("id=\"graph\""))
            #expect(try await explorer.get("/style.css").headers["content-type"]?.hasPrefix("text/css") == true)
            let script = try await explorer.get("/app.js")
            #expect(script.status == 200 && script.headers["content-type"]?.contains("javascript") == true)
        }
    }
}
