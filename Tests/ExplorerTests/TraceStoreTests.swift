import Foundation
import OTLPWire
import Testing
import TestSupport
@testable import TraceStore

/// A store in a file of its own; closed at the end.
func withStore<T>(
    _ configure: (inout TraceStoreConfiguration) -> Void = { _ in }, path: String? = nil, _ body: (TraceStore) async throws -> T
) async throws -> T {
    var configuration = TraceStoreConfiguration(path: path ?? temporaryFilePath("trace-store", extension: "sqlite"))
    configure(&configuration)
    let store = try TraceStore(configuration: configuration, logger: quietLogger)
    do {
        let result = try await body(store)
        try store.close()
        return result
    } catch {
        try? store.close()
        throw error
    }
}

@Suite(.timeLimit(.minutes(2)))
struct TraceStoreTests {
    let scenario = LineageScenario()

    @Test func spansComeBackByTraceGroupedFromEveryService() async throws {
        try await withStore { store in
            #expect(store.ingest(scenario.batches))
            try await store.flush()
            let spans = try await store.spans(inTrace: scenario.orderTrace1)
            let expected = scenario.batches.flatMap(\.spans).filter { $0.traceID == scenario.orderTrace1 }
            #expect(Set(spans.map(\.span)) == Set(expected))
            #expect(Set(spans.map(\.service)) == ["gateway", "order-manager", "allocator"])
            let batch = try await store.spans(inTrace: scenario.batchTrace)
            #expect(batch.count == scenario.batches.flatMap(\.spans).filter { $0.traceID == scenario.batchTrace }.count)
        }
    }

    @Test func everyKindOfIDFindsItsTraces() async throws {
        try await withStore { store in
            _ = store.ingest(scenario.batches)
            try await store.flush()
            func traces(_ id: String) async throws -> Set<TraceID> { Set(try await store.resolve(id).map(\.traceID)) }
            #expect(try await traces("o-1") == [scenario.orderTrace1])
            #expect(try await traces("b-1") == [scenario.batchTrace, scenario.orderTrace1, scenario.orderTrace2])
            #expect(try await traces("x-2") == [scenario.batchTrace])
            #expect(try await traces("f-1") == [scenario.batchTrace, scenario.orderTrace1, scenario.orderTrace2])
            #expect(try await traces(scenario.orderTrace2.hex) == [scenario.orderTrace2])
            #expect(try await traces(spanIDHex(scenario.batching)) == [scenario.batchTrace])
            #expect(try await traces("o-3").isEmpty)
            #expect(try await store.traces(linkingTo: scenario.orderTrace1) == [scenario.batchTrace])
            #expect(Set(try await store.search(prefix: "o-").map(\.value)) == ["o-1", "o-2"])
        }
    }

    @Test func aRestartedStoreHasEverything() async throws {
        let path = temporaryFilePath("trace-store", extension: "sqlite")
        try await withStore(path: path) { store in
            _ = store.ingest(scenario.batches)
            try await store.flush()
        }
        try await withStore(path: path) { store in
            let statistics = try await store.statistics()
            #expect(statistics.spans == scenario.spanCount)
            #expect(statistics.orders == 2)
            #expect(try await store.spans(inTrace: scenario.batchTrace).count > 20)
            #expect(try await store.resolve("x-1").map(\.traceID) == [scenario.batchTrace])
        }
    }

    @Test func theRunLoopWritesWhatItAcceptedWhenItStops() async throws {
        let path = temporaryFilePath("trace-store", extension: "sqlite")
        try await withStore({ $0.flushInterval = .seconds(3600) }, path: path) { store in
            let loop = Task { try await store.writeLoop() }
            #expect(store.ingest(scenario.batches))
            store.stopWriting()
            try await loop.value
        }
        try await withStore(path: path) { store in
            let spans = try await store.statistics().spans
            #expect(spans == scenario.spanCount)
        }
    }

    @Test func aFullBufferRefusesAndKeepsWhatItHas() async throws {
        try await withStore({ $0.maxPendingSpans = 10 }) { store in
            let spans = scenario.batches.flatMap(\.spans)
            let origin = scenario.batches[0].origin
            #expect(store.ingest([ExportedSpans(origin: origin, spans: Array(spans[0..<6]))]))
            #expect(!store.ingest([ExportedSpans(origin: origin, spans: Array(spans[6..<11]))]))
            #expect(store.pendingSpans == 6)
            try await store.flush()
            #expect(store.ingest([ExportedSpans(origin: origin, spans: Array(spans[6..<11]))]))
            try await store.flush()
            #expect(try await store.statistics().spans == 11)
        }
    }

    @Test func recentOrdersCarryTheirStatus() async throws {
        try await withStore { store in
            _ = store.ingest(scenario.batches)
            try await store.flush()
            let all = try await store.recentOrders()
            #expect(all.map(\.clientOrderID) == ["o-2", "o-1"])
            #expect(all.allSatisfy { $0.status == "filled" })
            #expect(try await store.recentOrders(filter: .incomplete).map(\.clientOrderID) == ["o-2"])
            #expect(try await store.recentOrders(filter: .complete).map(\.clientOrderID) == ["o-1"])
            #expect(try await store.recentOrders(user: "alice").map(\.clientOrderID) == ["o-1"])
            let order = try #require(try await store.order("o-1"))
            #expect(order.traceID == scenario.orderTrace1)
            #expect(order.userID == "alice")
            #expect(order.completed)
        }
    }

    @Test func retentionByAgeDeletesOldChunksAndTheirIndexEntries() async throws {
        try await withStore({ $0.maxAge = .seconds(3600) }) { store in
            _ = store.ingest(scenario.batches)
            try await store.flush()
            #expect(try await store.applyRetention(now: Date()) == 0)
            #expect(try await store.applyRetention(now: Date().addingTimeInterval(7200)) > 0)
            #expect(try await store.statistics().spans == 0)
            #expect(try await store.resolve("o-1").isEmpty)
            #expect(try await store.resolve(spanIDHex(scenario.batching)).isEmpty)
            #expect(try await store.recentOrders().isEmpty)
        }
    }

    @Test func retentionBySizeDeletesTheOldestFirst() async throws {
        try await withStore({ $0.maxBytes = 256 << 10; $0.maxAge = nil }) { store in
            // Many writes of distinct traces, each a little over 10 KB of attributes.
            let filler = String(repeating: "x", count: 2000)
            for round in 0..<60 {
                let spans = (0..<5).map { index in
                    SpanData(
                        traceID: TraceID(high: UInt64(round + 1), low: UInt64(index + 1)), spanID: UInt64(round * 10 + index + 1),
                        name: "work", startTimeUnixNano: 1, endTimeUnixNano: 2,
                        attributes: [Attribute("client.order_id", .string("r\(round)-\(index)")), Attribute("payload", .string(filler))])
                }
                _ = store.ingest([ExportedSpans(origin: ExportOrigin(resourceAttributes: []), spans: spans)])
                try await store.flush()
            }
            let before = try await store.statistics()
            #expect(before.bytes > 256 << 10)
            #expect(try await store.applyRetention() > 0)
            let after = try await store.statistics()
            #expect(after.bytes <= 256 << 10)
            #expect(after.spans < before.spans)
            #expect(try await store.resolve("r0-0").isEmpty)
            #expect(try await !store.resolve("r59-4").isEmpty)
        }
    }
}

@Suite(.timeLimit(.minutes(2)))
struct TraceStoreWALTests {
    @Test("a write-ahead log past its limit is checkpointed and truncated, and what it held is still there")
    func aLargeWALIsTruncated() async throws {
        let path = temporaryFilePath("trace-store-wal", extension: "sqlite")
        defer { removeFiles(derivedFrom: path) }
        let scenario = LineageScenario()
        try await withStore({ $0.maxWALBytes = 64 << 10 }, path: path) { store in
            func walSize() -> Int64 {
                (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? NSNumber)?.int64Value ?? 0
            }
            // The writer never checkpoints by itself: flushes alone grow the log.
            for _ in 0..<5 {
                #expect(store.ingest(scenario.batches))
                try await store.flush()
            }
            #expect(walSize() > 64 << 10, "the log did not grow: \(walSize()) bytes")
            try await store.truncateWALIfTooLarge()
            #expect(walSize() == 0)
            let spans = try await store.spans(inTrace: scenario.orderTrace1)
            #expect(!spans.isEmpty)
        }
    }
}
