import Foundation
import GRDB
import Kafka
import OrderModel
import TestSupport
import Testing

@testable import Allocator

/// The store's changelog without Kafka: what `pendingChanges` gives, appended to a list as a topic
/// would keep it, rebuilds the same state in another file, whole or compacted.
@Suite("Allocator state changelog: a rebuilt store equals the one that wrote it")
struct AllocatorChangelogTests {
    static let traceparent = AllocatorStoreTests.traceparent
    /// The batches and fills of the store's own tests.
    let fixtures = AllocatorStoreTests()

    func batch(_ id: String, _ quantities: [Int64]) -> Batch { fixtures.batch(id, quantities) }

    func fill(_ id: String, batch: String, quantity: Int64) -> Fill { fixtures.fill(id, batch: batch, quantity: quantity) }

    /// A topic partition as the store sees it: records in order, and their end.
    struct Log {
        var records: [(key: [UInt8]?, value: [UInt8])] = []

        /// Takes the store's pending changes as a delivered write.
        mutating func take(from store: AllocatorStore) throws {
            let changes = try store.pendingChanges()
            records += changes.records.map { (Array($0.key.utf8), $0.value ?? []) }
            try store.changesWritten(changes, end: Int64(records.count))
        }

        /// What compaction leaves once tombstones expired: the last record of each key, when not a tombstone.
        var compacted: [(key: [UInt8]?, value: [UInt8])] {
            var last: [[UInt8]: Int] = [:]
            for (index, record) in records.enumerated() { last[record.key ?? []] = index }
            return records.enumerated().filter { last[$1.key ?? []] == $0 && !$1.value.isEmpty }.map(\.element)
        }
    }

    /// Every row of the state's tables, rowid included, as text.
    func dump(_ store: AllocatorStore) throws -> [String] {
        try store.access { db in
            try AllocatorStore.changelogTables.flatMap { table in
                try Row.fetchAll(db, sql: "SELECT rowid, * FROM \(table) ORDER BY rowid").map { "\(table): \($0)" }
            }
        }
    }

    @Test func everyKindOfChangeReachesTheChangelogAndRebuildsTheSameState() throws {
        let path = temporaryFilePath("allocator-changelog", extension: "sqlite")
        let elsewhere = temporaryFilePath("allocator-changelog-rebuilt", extension: "sqlite")
        defer {
            removeFiles(derivedFrom: path)
            removeFiles(derivedFrom: elsewhere)
        }
        let store = try AllocatorStore(path: path)
        try store.recordChanges()
        var log = Log()
        // A batch, a fill applied, one waiting for a batch that comes later, updates in the
        // outbox, some delivered; a batch finished (its rows replaced by its ids), a finished
        // batch's id replaced (INSERT OR REPLACE), old ids pruned.
        try store.transaction {
            _ = try store.addBatch(batch("b1", [10, 20]), now: 1)
            _ = try store.apply(fill("f1", batch: "b1", quantity: 6), fillTraceparent: Self.traceparent, now: 1)
            _ = try store.apply(fill("f2", batch: "b2", quantity: 3), fillTraceparent: nil, now: 1)
            _ = try store.enqueue(key: "u0", value: Array("first".utf8), traceparent: Self.traceparent, baggage: "user.id=u0")
            _ = try store.enqueue(key: "u1", value: Array("second".utf8), traceparent: nil, baggage: nil)
            // A fill's updates, in one row.
            _ = try store.enqueue([
                AllocatorStore.OutboxRecord(key: "u0", value: Array("fourth".utf8), traceparent: Self.traceparent, baggage: "user.id=u0"),
                AllocatorStore.OutboxRecord(key: "u1", value: Array("fifth".utf8), traceparent: nil, baggage: nil),
            ])
        }
        try log.take(from: store)
        try store.delivered(try store.outbox().prefix(1).map(\.sequence))
        try store.transaction {
            _ = try store.addBatch(batch("b2", [3]), now: 2)
            _ = try store.apply(fill("f3", batch: "b1", quantity: 24), fillTraceparent: nil, now: 2)
            _ = try store.addBatch(batch("b3", [5]), now: 2)
            _ = try store.apply(fill("f4", batch: "b3", quantity: 5), fillTraceparent: nil, now: 3)
            try store.access { db in try db.execute(sql: "INSERT OR REPLACE INTO done_batches (batch_id, done_at) VALUES ('b3', 9)") }
        }
        // An update delivered before the changelog write: a row that came and went, no record.
        let third = try store.transaction { try store.enqueue(key: "u1", value: Array("third".utf8), traceparent: nil, baggage: nil) }
        try store.delivered([third])
        try log.take(from: store)
        #expect(!log.records.contains { $0.key == Array("outbox/\(third)".utf8) })
        try store.transaction { try store.pruneDone(before: 3) }
        try log.take(from: store)
        #expect(try store.pendingChanges().isEmpty)
        #expect(log.records.contains { $0.value.isEmpty }, "deletions are written as tombstones")

        let expected = try dump(store)
        #expect(expected.contains { $0.hasPrefix("done_batches") } && expected.contains { $0.hasPrefix("outbox") })
        for (name, records) in [("whole", log.records), ("compacted", log.compacted)] {
            let rebuilt = try AllocatorStore.rebuilt(path: elsewhere, from: records, end: Int64(log.records.count))
            #expect(try dump(rebuilt) == expected, "\(name) changelog")
            #expect(try rebuilt.outbox().map(\.record) == store.outbox().map(\.record), "\(name) changelog")
            #expect(Set(rebuilt.open.keys) == Set(store.open.keys), "\(name) changelog")
            #expect(try rebuilt.changelogPosition == Int64(log.records.count))
            // The rebuilt store carries on as the first would: a fill of the finished batch it
            // still remembers is a duplicate there.
            guard case .duplicate = try rebuilt.transaction({ try rebuilt.apply(fill("f4", batch: "b3", quantity: 5), fillTraceparent: nil, now: 4) }) else {
                Issue.record("\(name): f4 is not known as applied after the rebuild")
                continue
            }
        }
    }

    @Test func changesOfACrashedStepAreStillWrittenAfterTheRestart() throws {
        let path = temporaryFilePath("allocator-changelog", extension: "sqlite")
        defer { removeFiles(derivedFrom: path) }
        do {
            let store = try AllocatorStore(path: path)
            try store.recordChanges()
            _ = try store.transaction { try store.addBatch(batch("b1", [10]), now: 1) }
            // The process ends before the changelog took the change.
        }
        let store = try AllocatorStore(path: path)
        let pending = try store.pendingChanges()
        #expect(pending.records.map(\.table) == ["open_batches"])
        #expect(try store.changelogPosition == nil)
    }

    @Test func aStoreWithoutChangelogIsWrittenWhole() throws {
        let path = temporaryFilePath("allocator-changelog", extension: "sqlite")
        let elsewhere = temporaryFilePath("allocator-changelog-rebuilt", extension: "sqlite")
        defer {
            removeFiles(derivedFrom: path)
            removeFiles(derivedFrom: elsewhere)
        }
        let store = try AllocatorStore(path: path)
        try store.transaction {
            _ = try store.addBatch(batch("b1", [10, 20]), now: 1)
            _ = try store.apply(fill("f1", batch: "b1", quantity: 6), fillTraceparent: nil, now: 1)
            _ = try store.enqueue(key: "u0", value: Array("left".utf8), traceparent: nil, baggage: nil)
        }
        // Before recordChanges nothing is recorded; the outbox is compared, not recorded.
        #expect(try store.pendingChanges().records.map(\.key) == ["outbox/1"])
        try store.recordChanges()
        try store.markAllChanged()
        var log = Log()
        try log.take(from: store)
        let rebuilt = try AllocatorStore.rebuilt(path: elsewhere, from: log.records, end: Int64(log.records.count))
        #expect(try dump(rebuilt) == dump(store))
    }

    @Test func aRecordTheStoreDidNotWriteIsRefusedWithItsKey() throws {
        let path = temporaryFilePath("allocator-changelog", extension: "sqlite")
        defer { removeFiles(derivedFrom: path) }
        for (key, value) in [("sqlite_master/1", [UInt8(1)]), ("outbox/x", [1]), ("outbox/1", [2]), ("outbox/1", [1, 3, 0x41, 0x3B, 0x2D, 0]), ("outbox/1", [1, 3])] {
            #expect(throws: AllocatorStore.ChangelogError.self, "\(key)") {
                _ = try AllocatorStore.rebuilt(path: path, from: [(Array(key.utf8), value)], end: 1)
            }
        }
    }
}
