import Lineage
import OTLPWire
import Testing
import TraceStore

@Suite(.timeLimit(.minutes(2)))
struct LineageTests {
    let scenario = LineageScenario()

    func lineage(_ id: String, limits: LineageLimits = LineageLimits()) async throws -> LineageGraph? {
        try await withStore { store in
            _ = store.ingest(scenario.batches)
            try await store.flush()
            return try await LineageBuilder(store: store, limits: limits).lineage(of: id)
        }
    }

    func edges(_ graph: LineageGraph, _ role: LineageEdge.Role) -> [LineageEdge] {
        graph.edges.filter { $0.role == role }
    }

    @Test func anOrderSeesItsBatchAndItsFillsAndIsComplete() async throws {
        let graph = try #require(try await lineage("o-1"))
        #expect(graph.traces.filter(\.loaded).map(\.traceID) == [scenario.orderTrace1, scenario.batchTrace])
        #expect(graph.traces.first?.kind == .order && graph.traces.first?.label == "order o-1" && graph.traces.first?.seed == true)
        #expect(graph.traces[1].kind == .batch && graph.traces[1].label == "batch b-1")
        // The other orders of the batch are stubs: o-2 is stored, o-3 never arrived.
        #expect(Set(graph.traces.filter { !$0.loaded }.map(\.traceID)) == [scenario.orderTrace2, scenario.orderTrace3])
        #expect(!graph.truncated)

        let processing1 = SpanReference(traceID: scenario.orderTrace1, spanID: scenario.processing["o-1"]!)
        let batching = SpanReference(traceID: scenario.batchTrace, spanID: scenario.batching)
        #expect(edges(graph, .batchedInto).contains { $0.from == processing1 && $0.to == batching && $0.type == .link })
        #expect(edges(graph, .splitInto).map(\.to.spanID).sorted() == scenario.exchangeOrderSends.sorted())
        #expect(edges(graph, .allocatedTo).filter { $0.to == processing1 }.map(\.from.spanID).sorted() == scenario.fillMatchings.sorted())
        #expect(edges(graph, .filledBy).count == 3)  // two updates and order_completed
        #expect(edges(graph, .matches).count == 2)
        // A consumer's link to its producer parent is the parent edge only.
        #expect(!graph.edges.contains { $0.type == .link && $0.role == .linkedTo })

        let order = try #require(graph.orders.first { $0.clientOrderID == "o-1" })
        #expect(order.received && order.batched && order.sentToExchange && order.completed)
        #expect(order.fills == 2 && order.updates == 2 && order.updatesDelivered == 2)
        #expect(order.status == "filled" && order.userID == "alice" && order.batchIDs == ["b-1"])
        #expect(order.complete, "\(order.problems)")
        #expect(order.problems.isEmpty)

        // The member whose spans never arrived.
        #expect(graph.missingLinks.map(\.missing) == [SpanReference(traceID: scenario.orderTrace3, spanID: scenario.missingMemberSpan)])
        let missing = try #require(graph.orders.first { $0.clientOrderID == "o-3" })
        #expect(!missing.received && !missing.complete && missing.userID == "carol")
        #expect(missing.problems.first?.contains("never arrived") == true)
        #expect(graph.missingParents.isEmpty)
    }

    @Test("an order read twice has a trace per read; it is judged by the one that carries its batch, not by the read that found it already batched")
    func anOrderReadTwiceIsJudgedByItsWholeTrace() async throws {
        // The second read of o-1's record (no trace context: a root of its own), recognised as
        // already batched: received and processed, nothing else. Its trace id sorts first.
        let again = TraceID(high: 1, low: 1)
        let ids = [Attribute("client.order_id", .string("o-1")), Attribute("user.id", .string("alice"))]
        let start = LineageScenario.base - 10_000_000
        let received = SpanData(
            traceID: again, spanID: 0x9001, parentSpanID: 0, name: "client_order_received", kind: .server, startTimeUnixNano: start,
            endTimeUnixNano: start + 100_000, attributes: ids, links: [])
        let processing = SpanData(
            traceID: again, spanID: 0x9002, parentSpanID: 0x9001, name: "order_manager_processing", kind: .internal, startTimeUnixNano: start + 10_000,
            endTimeUnixNano: start + 90_000, attributes: ids + [Attribute("ordertrace.duplicate", .bool(true))], links: [])
        let duplicate = ExportedSpans(
            origin: ExportOrigin(resourceAttributes: [Attribute("service.name", .string("order-manager"))], scopeName: "ordertrace"), spans: [received, processing])
        let graph = try #require(
            try await withStore { store in
                _ = store.ingest([duplicate])
                _ = store.ingest(scenario.batches)
                try await store.flush()
                return try await LineageBuilder(store: store, limits: LineageLimits()).lineage(of: "o-1")
            })
        #expect(graph.traces.contains { $0.traceID == again && $0.loaded }, "both reads are in the graph")
        let reports = graph.orders.filter { $0.clientOrderID == "o-1" }
        #expect(reports.count == 1)
        #expect(reports.first?.traceID == scenario.orderTrace1)
        #expect(reports.first?.complete == true, "\(reports.first?.problems ?? [])")
    }

    @Test func anOrderWithASpanLostAndNoCompletionIsIncomplete() async throws {
        let graph = try #require(try await lineage("o-2"))
        #expect(graph.missingParents.map(\.missing.spanID) == [scenario.missingSendUpdate])
        let order = try #require(graph.orders.first { $0.clientOrderID == "o-2" })
        #expect(order.received && order.batched && order.sentToExchange)
        // Its second update's send span never arrived: one update seen published, two delivered.
        #expect(order.fills == 2 && order.updates == 1 && order.updatesDelivered == 2)
        #expect(!order.completed && !order.complete)
        #expect(order.problems.contains("not completed (no order_completed)"))
        #expect(order.problems.contains { $0.contains("parent that never arrived") && $0.contains(spanIDHex(scenario.missingSendUpdate)) })
    }

    @Test func aBatchSeesEveryMember() async throws {
        let graph = try #require(try await lineage("b-1"))
        #expect(Set(graph.traces.filter(\.loaded).map(\.traceID)) == [scenario.batchTrace, scenario.orderTrace1, scenario.orderTrace2])
        #expect(graph.orders.map(\.clientOrderID).sorted() == ["o-1", "o-2", "o-3"])
        #expect(graph.orders.filter(\.complete).map(\.clientOrderID) == ["o-1"])
    }

    @Test func aFillAnExchangeOrderATraceAndASpanLeadToTheSameBatch() async throws {
        for id in ["f-2", "x-1", scenario.batchTrace.hex, spanIDHex(scenario.fillMatchings[0])] {
            let graph = try #require(try await lineage(id), "\(id)")
            #expect(graph.traces.contains { $0.traceID == scenario.batchTrace && $0.loaded && $0.seed }, "\(id)")
            #expect(graph.orders.contains { $0.clientOrderID == "o-1" && $0.complete }, "\(id)")
        }
    }

    @Test func anUnknownIDHasNoLineage() async throws {
        #expect(try await lineage("nothing-like-it") == nil)
    }

    @Test func theLimitsBoundTheGraphAndSaySo() async throws {
        let graph = try #require(try await lineage("o-1", limits: LineageLimits(maxTraces: 1, maxSpans: 1000)))
        #expect(graph.truncated)
        #expect(graph.traces.filter(\.loaded).map(\.traceID) == [scenario.orderTrace1])
        let spanLimited = try #require(try await lineage("b-1", limits: LineageLimits(maxTraces: 10, maxSpans: 20)))
        #expect(spanLimited.truncated)
        #expect(spanLimited.spans.count == 20)
    }
}
