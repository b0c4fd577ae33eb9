import Foundation
import GRDB
import Kafka
import OrderModel
import TestSupport
import Testing

@testable import Allocator

@Suite("Allocator state: durable, idempotent, rebuilt exactly after a restart")
struct AllocatorStoreTests {
    static let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    func batch(_ id: String, _ quantities: [Int64]) -> Batch {
        Batch(
            batchId: id, symbol: "AAPL", side: .buy,
            members: quantities.enumerated().map { Batch.Member(clientOrderId: "c\($0)", userId: "u\($0 % 2)", quantity: $1, traceparent: Self.traceparent) },
            closeReason: .size, openedAt: "2026-11-30T09:30:00.000Z", closedAt: "2026-11-30T09:30:00.050Z")
    }

    func fill(_ id: String, batch: String, quantity: Int64, price: Int64 = 1_900_000, status: FillStatus = .partiallyFilled, leaves: Int64 = 0) -> Fill {
        Fill(
            fillId: id, exchangeOrderId: "x-\(batch)-0", batchId: batch, symbol: "AAPL", side: .buy, quantity: quantity,
            price: Price(ticks: status.isExecution ? price : 0), cumulativeQuantity: 0, leavesQuantity: leaves, status: status)
    }

    func apply(_ store: AllocatorStore, _ fill: Fill) throws -> AllocatorStore.FillResult {
        try store.transaction { try store.apply(fill, fillTraceparent: nil, now: 1) }
    }

    @Test("a record the store refuses is undone alone: the records before it in the same transaction are kept, and the transaction goes on and commits")
    func refusedRecordIsUndoneAlone() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try AllocatorStore(path: path)
            try store.transaction {
                _ = try store.isolated { try store.addBatch(batch("b1", [10]), now: 1) }
                #expect(throws: AllocatorStore.InputRefused.self) {
                    try store.isolated {
                        _ = try store.enqueue(key: "u9", value: Array("undone".utf8), traceparent: nil, baggage: nil)
                        // A row without its batch: the table's NOT NULL constraint refuses it.
                        try store.access { db in try db.execute(sql: "INSERT INTO open_batches (batch_id, batch) VALUES ('b9', NULL)") }
                    }
                }
                _ = try store.isolated { try store.enqueue(key: "u1", value: Array("kept".utf8), traceparent: nil, baggage: nil) }
            }
            #expect(try store.outbox().map { String(decoding: $0.value, as: UTF8.self) } == ["kept"])
        }
        let reopened = try AllocatorStore(path: path)
        #expect(reopened.open.keys.sorted() == ["b1"])
        #expect(try reopened.outbox().map { String(decoding: $0.value, as: UTF8.self) } == ["kept"])
    }

    @Test("a transaction whose body throws stores none of it, and the store takes the next one")
    func failedTransactionStoresNothing() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        struct Stop: Error {}
        let store = try AllocatorStore(path: path)
        #expect(throws: Stop.self) {
            try store.transaction {
                _ = try store.enqueue(key: "u1", value: Array("lost".utf8), traceparent: nil, baggage: nil)
                throw Stop()
            }
        }
        #expect(try store.outbox().isEmpty)
        _ = try store.transaction { try store.enqueue(key: "u1", value: Array("next".utf8), traceparent: nil, baggage: nil) }
        #expect(try AllocatorStore(path: path).outbox().map { String(decoding: $0.value, as: UTF8.self) } == ["next"])
    }

    @Test("a step's transaction held open across its delivery: rolled back, it leaves the state as it was, in memory and on disk; committed, it is there after a restart")
    func heldTransactionRollsBackOrCommits() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        func isApplied(_ result: AllocatorStore.FillResult) -> Bool {
            if case .applied = result { return true }
            return false
        }
        func isDuplicate(_ result: AllocatorStore.FillResult) -> Bool {
            if case .duplicate = result { return true }
            return false
        }
        do {
            let store = try AllocatorStore(path: path)
            _ = try store.transaction { try store.addBatch(batch("b1", [10, 30]), now: 1) }
            let before = try #require(store.open["b1"]).allocation.filledQuantity

            // Delivery failed: the fill and a new batch are undone, the open batch's
            // allocation in memory is what is stored.
            try store.begin()
            #expect(isApplied(try store.apply(fill("f1", batch: "b1", quantity: 8), fillTraceparent: nil, now: 2)))
            _ = try store.addBatch(batch("b2", [5]), now: 2)
            #expect(store.open["b1"]?.allocation.filledQuantity != before)
            try store.rollBack()
            #expect(store.open.keys.sorted() == ["b1"])
            #expect(store.open["b1"]?.allocation.filledQuantity == before)
            #expect(store.open["b1"]?.allocation.appliedFillIds.isEmpty == true)

            // Delivered: the same fill applies again, and is kept once committed.
            try store.begin()
            #expect(isApplied(try store.apply(fill("f1", batch: "b1", quantity: 8), fillTraceparent: nil, now: 3)))
            try store.commit()
            #expect(isDuplicate(try apply(store, fill("f1", batch: "b1", quantity: 8))))
        }
        let reopened = try AllocatorStore(path: path)
        #expect(isDuplicate(try apply(reopened, fill("f1", batch: "b1", quantity: 8))))
        #expect(reopened.open.keys.sorted() == ["b1"])
        #expect(try reopened.outbox().isEmpty, "a held step keeps nothing in the outbox")
    }

    @Test func fillsAreAppliedOnceAndSurviveARestart() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var updatesBefore: [OrderUpdate] = []
        do {
            let store = try AllocatorStore(path: path)
            _ = try store.transaction { try store.addBatch(batch("b1", [100, 200, 300]), now: 1) }
            guard case .applied(let first) = try apply(store, fill("f1", batch: "b1", quantity: 120)) else {
                Issue.record("f1 not applied")
                return
            }
            #expect(first.allocation.quantities.reduce(0, +) == 120)
            guard case .duplicate = try apply(store, fill("f1", batch: "b1", quantity: 120)) else {
                Issue.record("f1 applied twice")
                return
            }
            updatesBefore = store.open["b1"]!.allocation.members.indices.map { store.open["b1"]!.allocation.currentUpdate(ofMemberAt: $0) }
        }
        // A new process: the same state, and the fill is still a duplicate.
        let store = try AllocatorStore(path: path)
        let rebuilt = store.open["b1"]!.allocation
        #expect(rebuilt.members.indices.map { rebuilt.currentUpdate(ofMemberAt: $0) } == updatesBefore)
        guard case .duplicate = try apply(store, fill("f1", batch: "b1", quantity: 120)) else {
            Issue.record("f1 applied again after the restart")
            return
        }
        guard case .applied(let second) = try apply(store, fill("f2", batch: "b1", quantity: 480)) else {
            Issue.record("f2 not applied")
            return
        }
        #expect(second.allocation.updates.allSatisfy { $0.status == .filled })
        // A finished batch leaves only its id: its state is gone, late duplicates are still known.
        #expect(store.open["b1"] == nil)
        guard case .duplicate = try apply(store, fill("f2", batch: "b1", quantity: 480)) else {
            Issue.record("a late duplicate of a finished batch was not recognized")
            return
        }
        #expect(try store.transaction { try store.addBatch(batch("b1", [100, 200, 300]), now: 2) } == nil)
    }

    @Test func aFillBeforeItsBatchWaitsForIt() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try AllocatorStore(path: path)
        guard case .pending = try apply(store, fill("f1", batch: "b2", quantity: 30)) else {
            Issue.record("an early fill was not kept")
            return
        }
        guard case .duplicate = try apply(store, fill("f1", batch: "b2", quantity: 30)) else {
            Issue.record("an early fill was kept twice")
            return
        }
        #expect(try store.pendingFillCount == 1)
        let applied = try store.transaction { try store.addBatch(batch("b2", [10, 20]), now: 3) }
        #expect(applied?.applied.count == 1)
        #expect(applied?.applied.first?.allocation.quantities == [10, 20])
        #expect(try store.pendingFillCount == 0)
    }

    @Test func aFillIDAppliedToAnotherBatchIsRejectedAndChangesNothing() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try AllocatorStore(path: path)
        _ = try store.transaction { try store.addBatch(batch("b1", [10, 20]), now: 1) }
        _ = try store.transaction { try store.addBatch(batch("b2", [10, 20]), now: 1) }
        guard case .applied = try apply(store, fill("f1", batch: "b1", quantity: 6)) else {
            Issue.record("f1 not applied")
            return
        }
        guard case .rejected(let reason) = try apply(store, fill("f1", batch: "b2", quantity: 6)) else {
            Issue.record("a fill id applied to b1 was taken by b2")
            return
        }
        #expect(reason.contains("b1"))
        #expect(store.open["b2"]!.allocation.members.allSatisfy { $0.cumulativeQuantity == 0 })
        // The same fill again for its own batch is still a duplicate, and b2 takes other fills.
        guard case .duplicate = try apply(store, fill("f1", batch: "b1", quantity: 6)) else {
            Issue.record("the redelivered f1 was not a duplicate")
            return
        }
        guard case .applied = try apply(store, fill("f2", batch: "b2", quantity: 3)) else {
            Issue.record("b2 refused a valid fill")
            return
        }
        // A fill waiting for a batch that never opened, with an id applied elsewhere, is refused too.
        guard case .rejected = try apply(store, fill("f1", batch: "b9", quantity: 6)) else {
            Issue.record("a fill id applied to b1 was kept for b9")
            return
        }
        #expect(try store.pendingFillCount == 0)
    }

    @Test func aFillIDOfAFinishedBatchReusedForAnotherBatchIsRejected() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try AllocatorStore(path: path)
            _ = try store.transaction { try store.addBatch(batch("b1", [4, 6]), now: 1) }
            _ = try store.transaction { try store.addBatch(batch("b2", [4, 6]), now: 1) }
            // f1 fills b1 whole: b1 is done and its state is gone.
            guard case .applied = try apply(store, fill("f1", batch: "b1", quantity: 10, status: .filled)) else {
                Issue.record("f1 not applied")
                return
            }
            #expect(store.open["b1"] == nil)
            guard case .rejected(let reason) = try apply(store, fill("f1", batch: "b2", quantity: 10, status: .filled)) else {
                Issue.record("a fill id that finished b1 was taken by b2")
                return
            }
            #expect(reason.contains("b1"))
        }
        // After a restart too; and the same fill for its own batch is still a duplicate.
        let store = try AllocatorStore(path: path)
        guard case .rejected = try apply(store, fill("f1", batch: "b2", quantity: 10, status: .filled)) else {
            Issue.record("after a restart, a fill id that finished b1 was taken by b2")
            return
        }
        guard case .duplicate = try apply(store, fill("f1", batch: "b1", quantity: 10, status: .filled)) else {
            Issue.record("the redelivered f1 was not a duplicate")
            return
        }
        #expect(store.open["b2"]!.allocation.members.allSatisfy { $0.cumulativeQuantity == 0 })
    }

    @Test func deadLettersWaitInTheOutboxWithTheirTopicAndHeaders() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try AllocatorStore(path: path)
            try store.transaction {
                var headers = KafkaHeaders()
                headers.set("error.type", "batch_missing")
                headers.set("error.message", "waited\tfor ever\n")
                headers.set("empty", bytes: nil)
                _ = try store.enqueue(topic: "dead-letters", key: "AAPL", value: Array("{}".utf8), headers: headers, traceparent: nil, baggage: nil)
                _ = try store.enqueue(key: "alice", value: Array("one".utf8), traceparent: nil, baggage: nil)
            }
        }
        let store = try AllocatorStore(path: path)
        let rows = try store.outbox()
        #expect(rows.count == 2)
        #expect(rows.first?.topic == "dead-letters")
        #expect(rows.first?.headers.string("error.type") == "batch_missing")
        #expect(rows.first?.headers.string("error.message") == "waited\tfor ever\n")
        #expect(rows.first?.headers.contains("empty") == true)
        #expect(rows.last?.topic == nil)
        #expect(rows.last?.headers.isEmpty == true)
    }

    @Test func aRecordTheStoreRefusesIsRolledBackAloneAndTheStepGoesOn() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try AllocatorStore(path: path)
            _ = try store.transaction { try store.addBatch(batch("b1", [10, 20]), now: 1) }
            try store.transaction {
                _ = try store.isolated { try store.apply(fill("f1", batch: "b1", quantity: 6), fillTraceparent: nil, now: 1) }
                // A record whose content breaks a constraint: only its own changes are undone.
                #expect(throws: AllocatorStore.InputRefused.self) {
                    try store.isolated {
                        _ = try store.enqueue(key: "u0", value: [1], traceparent: nil, baggage: nil)
                        try store.database.unsafeReentrantWrite { db in
                            try db.execute(sql: "INSERT INTO applied_fills (fill_id, batch_id, fill) VALUES ('f1', 'b2', x'00')")
                        }
                    }
                }
                #expect(store.open["b1"]!.allocation.members.map(\.cumulativeQuantity).reduce(0, +) == 6)
            }
        }
        let store = try AllocatorStore(path: path)
        #expect(try store.outbox().isEmpty)
        #expect(store.open["b1"]!.allocation.members.map(\.cumulativeQuantity).reduce(0, +) == 6)
    }

    @Test func outboxKeepsUpdatesUntilDelivered() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let store = try AllocatorStore(path: path)
            try store.transaction {
                _ = try store.enqueue(key: "alice", value: Array("one".utf8), traceparent: Self.traceparent, baggage: "user.id=alice")
                _ = try store.enqueue(key: "bob", value: Array("two".utf8), traceparent: nil, baggage: nil)
            }
            let rows = try store.outbox()
            #expect(rows.map(\.key) == ["alice", "bob"])
            try store.delivered([rows[0].sequence])
        }
        let store = try AllocatorStore(path: path)
        let rows = try store.outbox()
        #expect(rows.count == 1)
        #expect(rows.first?.value == Array("two".utf8))
    }

    /// The updates of one handled record share a row: they survive a restart together, in their
    /// order and with their trace context; a row some of whose records were delivered keeps just
    /// the others.
    @Test func oneRowKeepsSeveralRecords() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var headers = KafkaHeaders()
        headers.set("error.type", "batch_missing")
        headers.set("empty", bytes: nil)
        let records = [
            AllocatorStore.OutboxRecord(key: "alice", value: Array("one".utf8), traceparent: Self.traceparent, baggage: "user.id=alice"),
            AllocatorStore.OutboxRecord(topic: "dead-letters", key: "AAPL", value: [], headers: headers, traceparent: nil, baggage: nil),
            AllocatorStore.OutboxRecord(key: "bob", value: Array("three".utf8), traceparent: nil, baggage: "user.id=bob,a=%20"),
        ]
        let sequence: Int64
        do {
            let store = try AllocatorStore(path: path)
            let single = try store.transaction { try store.enqueue(key: "carol", value: [9], traceparent: nil, baggage: nil) }
            sequence = try store.transaction { try store.enqueue(records) }
            #expect(sequence > single)
            try store.delivered([single])
        }
        let store = try AllocatorStore(path: path)
        let rows = try store.outbox()
        #expect(rows.map(\.record) == records)
        #expect(rows.map(\.part) == [0, 1, 2])
        #expect(rows.allSatisfy { $0.sequence == sequence })
        // The second failed, the others were delivered.
        try store.keepUndelivered([1], of: sequence)
        #expect(try store.outbox().map(\.record) == [records[1]])
        // All that is left failed again: nothing changes.
        try store.keepUndelivered([0], of: sequence)
        #expect(try store.outbox().map(\.record) == [records[1]])
        try store.keepUndelivered([], of: sequence)
        #expect(try store.outbox().isEmpty)
    }

    @Test func damagedRecordsAreAnErrorNotACrash() throws {
        let bytes = AllocatorStore.encode([AllocatorStore.OutboxRecord(key: "alice", value: [1, 2, 3], traceparent: nil, baggage: nil)])
        #expect(try AllocatorStore.decodeRecords(bytes).map(\.value) == [[1, 2, 3]])
        for cut in [0, 3, 6, bytes.count - 1] {
            #expect(throws: AllocatorStore.ChangelogError.self) { try AllocatorStore.decodeRecords(Array(bytes.prefix(cut))) }
        }
    }

    /// A run of sequences goes in one range delete, any other set row by row: either way exactly
    /// the delivered rows leave.
    @Test func deliveredRemovesExactlyTheDeliveredRows() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try AllocatorStore(path: path)
        let sequences = try store.transaction {
            try (0..<8).map { try store.enqueue(key: "u\($0)", value: [UInt8($0)], traceparent: nil, baggage: nil) }
        }
        try store.delivered([sequences[1], sequences[2], sequences[3]])
        #expect(try store.outbox().map(\.key) == ["u0", "u4", "u5", "u6", "u7"])
        try store.delivered([sequences[4], sequences[6]])
        #expect(try store.outbox().map(\.key) == ["u0", "u5", "u7"])
        try store.delivered([sequences[7], sequences[5]])
        #expect(try store.outbox().map(\.key) == ["u0"])
    }

    @Test func aFailedStepLeavesNothingBehind() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        struct Crash: Error {}
        do {
            let store = try AllocatorStore(path: path)
            _ = try store.transaction { try store.addBatch(batch("b3", [5, 5]), now: 1) }
            #expect(throws: Crash.self) {
                try store.transaction {
                    _ = try store.apply(fill("f1", batch: "b3", quantity: 4), fillTraceparent: nil, now: 1)
                    _ = try store.enqueue(key: "u0", value: [1], traceparent: nil, baggage: nil)
                    throw Crash()
                }
            }
        }
        // The process "crashed" mid-step: neither the fill nor its update was stored.
        let store = try AllocatorStore(path: path)
        #expect(try store.outbox().isEmpty)
        guard case .applied = try apply(store, fill("f1", batch: "b3", quantity: 4)) else {
            Issue.record("the fill of the failed step counts as applied")
            return
        }
    }

    /// The store checkpoints its WAL rarely (`walCheckpointPages`), so most of the time the
    /// latest commits live only in the WAL file: what a crash leaves (the database and its WAL,
    /// copied while the store is open) must still open with every committed batch.
    @Test func commitsNotYetCheckpointedSurviveACrash() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        let copy = temporaryFilePath("allocator-crash", extension: "sqlite")
        defer {
            for file in [path, copy] {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
            }
        }
        func size(_ file: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int) ?? 0 }
        let store = try AllocatorStore(path: path)
        // Past SQLite's default checkpoint threshold (1,000 pages of 4 KiB), which would have
        // checkpointed and reused the WAL from its start, keeping it at about 4 MB.
        let pastDefault = 1_100 * 4_096
        var batches = 0
        while size(path + "-wal") < pastDefault && batches < 5_000 {
            _ = try store.transaction { try store.addBatch(batch("b\(batches)", [10, 20, 30]), now: 1) }
            batches += 1
        }
        #expect(size(path + "-wal") >= pastDefault, "the WAL was checkpointed after \(batches) batches")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
        let reopened = try AllocatorStore(path: copy)
        #expect(reopened.open.count == batches)
        #expect(reopened.open["b\(batches - 1)"]?.allocation.members.map(\.quantity) == [10, 20, 30])
        withExtendedLifetime(store) {}
    }

    /// One fill's updates for a batch of `members`, as the outbox keeps them.
    static func fillUpdates(members: Int, valueBytes: Int, baggageBytes: Int) -> [AllocatorStore.OutboxRecord] {
        (0..<members).map { member in
            AllocatorStore.OutboxRecord(
                key: "user-\(member)", value: Array(repeating: UInt8(ascii: "u"), count: valueBytes),
                traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", baggage: String(repeating: "b", count: baggageBytes))
        }
    }

    static func walSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0
    }

    static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// A delivered outbox row leaves without its pages going through the WAL again: only the
    /// pages the delete changes anyway are written, not the row's freed pages overwritten with
    /// zeros (Debian's SQLite does that by default, `secure_delete`).
    @Test func deliveringARowDoesNotRewriteItsPages() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { Self.removeDatabase(path) }
        func walSize() -> Int { Self.walSize(path) }
        let store = try AllocatorStore(path: path)
        // A fill's updates for a large batch: one row of about 40 KB, ten pages and more.
        let records = Self.fillUpdates(members: 80, valueBytes: 300, baggageBytes: 150)
        let before = walSize()
        let sequence = try store.transaction { try store.enqueue(records) }
        let inserted = walSize() - before
        try store.delivered([sequence])
        let deleted = walSize() - before - inserted
        #expect(try store.outbox().isEmpty)
        #expect(inserted > 40_000, "the row took \(inserted) bytes of WAL")
        #expect(deleted < inserted / 3, "delivering the row wrote \(deleted) bytes of WAL, inserting it \(inserted)")
    }

    /// A step's transaction larger than SQLite's default page cache (2 MiB) stays in the cache
    /// until its commit: no page goes to the WAL while the step is still being handled (SQLite
    /// spills changed pages one at a time once its cache is full, and writes again those that
    /// change again).
    @Test func aLargeStepReachesTheWALOnlyAtItsCommit() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { Self.removeDatabase(path) }
        func walSize() -> Int { Self.walSize(path) }
        let store = try AllocatorStore(path: path)
        // 200 fills' updates of 40 KB each: 8 MB, four times the default cache.
        let row = Self.fillUpdates(members: 80, valueBytes: 400, baggageBytes: 100)
        let before = walSize()
        var during = 0
        try store.transaction {
            for _ in 0..<200 { _ = try store.enqueue(row) }
            during = walSize() - before
        }
        let committed = walSize() - before
        #expect(committed > 8_000_000, "the step took \(committed) bytes of WAL")
        #expect(during == 0, "\(during) bytes went to the WAL before the commit")
        #expect(try store.outbox().count == 200 * 80)
    }

    @Test func aFileWrittenBeforeMigrationsOpensWithItsState() throws {
        let path = temporaryFilePath("allocator-test", extension: "sqlite")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The schema as the store created it before it had migrations: the tables, no migration table.
        do {
            let old = try DatabaseQueue(path: path)
            try old.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE open_batches (batch_id TEXT PRIMARY KEY, batch BLOB NOT NULL);
                        CREATE TABLE applied_fills (sequence INTEGER PRIMARY KEY AUTOINCREMENT, fill_id TEXT NOT NULL UNIQUE, batch_id TEXT NOT NULL, fill BLOB NOT NULL);
                        CREATE INDEX applied_fills_batch ON applied_fills (batch_id, sequence);
                        CREATE TABLE pending_fills (fill_id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, fill BLOB NOT NULL, traceparent TEXT, arrived_at INTEGER NOT NULL);
                        CREATE INDEX pending_fills_batch ON pending_fills (batch_id);
                        CREATE TABLE done_batches (batch_id TEXT PRIMARY KEY, done_at INTEGER NOT NULL);
                        CREATE TABLE outbox (sequence INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value BLOB NOT NULL, traceparent TEXT, baggage TEXT);
                        """)
                try db.execute(sql: "INSERT INTO open_batches (batch_id, batch) VALUES (?, ?)", arguments: ["b4", Data(batch("b4", [10, 30]).encodeJSON())])
                try db.execute(
                    sql: "INSERT INTO applied_fills (fill_id, batch_id, fill) VALUES (?, ?, ?)",
                    arguments: ["f1", "b4", Data(fill("f1", batch: "b4", quantity: 20).encodeJSON())])
                try db.execute(sql: "INSERT INTO outbox (key, value) VALUES (?, ?)", arguments: ["u0", Data([7])])
            }
        }
        let store = try AllocatorStore(path: path)
        #expect(store.open["b4"]?.allocation.members.map(\.cumulativeQuantity) == [5, 15])
        #expect(try store.outbox().map(\.value) == [[7]])
        guard case .duplicate = try apply(store, fill("f1", batch: "b4", quantity: 20)) else {
            Issue.record("a fill stored before the migration counts as new")
            return
        }
        // WAL, and synchronous=NORMAL (1): the durability the store always had.
        #expect(try store.database.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try store.database.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
        #expect(try store.database.read { try AllocatorStore.migrator.hasCompletedMigrations($0) })
    }
}
