import Foundation
import GRDB

/// The store's changelog: every row the allocator changes is also written to a compacted Kafka
/// topic (`allocator-changelog`, one partition per input partition), keyed by table and rowid,
/// its value the row's columns (or a tombstone for a row that is gone). A replica that gets a
/// partition and has no current copy of its file rebuilds the file from that partition of the
/// changelog, on any machine.
///
/// - Changes are recorded by triggers (on this connection only) into `changelog_pending`, in the
///   same transaction as the change itself, so a crash keeps them until they are written.
/// - The allocator writes a step's changes after its updates are delivered (and its transaction
///   committed) and before its input records count as done. So a row that lived only within one
///   step never reaches the changelog, and no input is committed whose effect the changelog
///   lacks. A crash between the updates and the changelog leaves their input uncommitted: the
///   next owner applies it again to the state the changelog has, and sends the same updates
///   again (identical: allocation is deterministic), which the audit counts as a redelivery.
/// - `changelog_position` holds the changelog's end after this file's last write. A file whose
///   position is the partition's end is current (nobody wrote since); any other is rebuilt.
extension AllocatorStore {
    /// The tables whose rows go to the changelog: all of the allocator's state.
    static let changelogTables = ["open_batches", "applied_fills", "pending_fills", "done_batches", "done_fills", "outbox"]
    /// The tables whose changes triggers record. The outbox is not one of them: its rows (kept by
    /// files of earlier versions, which wrote each step's updates there until they were delivered)
    /// came and went within a step, so instead of recording each, a write compares it with
    /// `changelog_outbox` (the outbox rows the changelog has), both normally empty.
    static let recordedTables = changelogTables.filter { $0 != "outbox" }

    /// One changed row: its current columns, or nil when it was deleted.
    struct ChangelogRecord: Equatable {
        var table: String
        var row: Int64
        var value: [UInt8]?

        var key: String { "\(table)/\(row)" }
    }

    /// A changelog record this store cannot apply (it was not written by this store's code).
    struct ChangelogError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts recording every change of the state's tables into `changelog_pending`. Temporary
    /// triggers: they live as long as this connection, so a store opened without a changelog
    /// records nothing.
    func recordChanges() throws {
        try access { db in
            // REPLACE deletes the row it replaces; only with recursive triggers does that fire
            // the delete trigger, so the replaced row's key gets its tombstone.
            try db.execute(sql: "PRAGMA recursive_triggers = ON")
            for table in Self.recordedTables {
                // The first change of a row since the last write tells whether the changelog may
                // have it: an insert first means the row is new (fresh).
                let record = { (row: String, fresh: Int) in
                    "INSERT OR IGNORE INTO changelog_pending (tbl, row, fresh) VALUES ('\(table)', \(row).rowid, \(fresh));"
                }
                try db.execute(
                    sql: """
                        CREATE TEMP TRIGGER IF NOT EXISTS changelog_\(table)_insert AFTER INSERT ON main.\(table) BEGIN \(record("NEW", 1)) END;
                        CREATE TEMP TRIGGER IF NOT EXISTS changelog_\(table)_update AFTER UPDATE ON main.\(table) BEGIN \(record("OLD", 0)) \(record("NEW", 0)) END;
                        CREATE TEMP TRIGGER IF NOT EXISTS changelog_\(table)_delete AFTER DELETE ON main.\(table) BEGIN \(record("OLD", 0)) END;
                        """)
            }
        }
    }

    /// Marks every row as changed, so that the whole state goes to the changelog: for a file that
    /// kept state before it had a changelog.
    func markAllChanged() throws {
        try transaction {
            try access { db in
                for table in Self.recordedTables {
                    try db.execute(sql: "INSERT OR IGNORE INTO changelog_pending (tbl, row, fresh) SELECT '\(table)', rowid, 0 FROM \(table)")
                }
                try db.execute(sql: "DELETE FROM changelog_outbox")
            }
        }
    }

    /// The changes not yet written to the changelog.
    struct PendingChanges {
        /// What to write, in key order: each changed row's content, or a tombstone.
        var records: [ChangelogRecord] = []
        /// Every change the triggers recorded, written or not: a row that came and went since the
        /// last write needs no record.
        var keys: [(table: String, row: Int64)] = []
        /// Outbox rows written, and outbox rows gone whose tombstones are written.
        var outboxWritten: [Int64] = []
        var outboxRemoved: [Int64] = []

        var isEmpty: Bool { keys.isEmpty && outboxWritten.isEmpty && outboxRemoved.isEmpty }
    }

    func pendingChanges() throws -> PendingChanges {
        try access { db in
            var changes = PendingChanges()
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: "SELECT tbl, row, fresh FROM changelog_pending ORDER BY tbl, row"))
            while let pending = try cursor.next() {
                let table: String = pending[0]
                let row: Int64 = pending[1]
                let fresh: Bool = pending[2]
                changes.keys.append((table, row))
                guard Self.recordedTables.contains(table) else { continue }
                let current = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM \(table) WHERE rowid = ?"), arguments: [row])
                if current == nil && fresh { continue }
                changes.records.append(ChangelogRecord(table: table, row: row, value: current.map(Self.encodeRow)))
            }
            // The outbox: rows the changelog lacks, and rows it has that are gone.
            let added = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT * FROM outbox WHERE sequence NOT IN (SELECT sequence FROM changelog_outbox) ORDER BY sequence"))
            while let row = try added.next() {
                let sequence: Int64 = row["sequence"]
                changes.outboxWritten.append(sequence)
                changes.records.append(ChangelogRecord(table: "outbox", row: sequence, value: Self.encodeRow(row)))
            }
            changes.outboxRemoved = try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT sequence FROM changelog_outbox WHERE sequence NOT IN (SELECT sequence FROM outbox) ORDER BY sequence"))
            changes.records += changes.outboxRemoved.map { ChangelogRecord(table: "outbox", row: $0, value: nil) }
            return changes
        }
    }

    /// Forgets changes the changelog now has, and records its end after them (nil when the broker
    /// did not tell: the next open then rebuilds rather than trust this file).
    func changesWritten(_ changes: PendingChanges, end: Int64?) throws {
        guard !changes.isEmpty else { return }
        try transaction {
            try access { db in
                let statement = try db.cachedStatement(sql: "DELETE FROM changelog_pending WHERE tbl = ? AND row = ?")
                for key in changes.keys { try statement.execute(arguments: [key.table, key.row]) }
                let written = try db.cachedStatement(sql: "INSERT OR IGNORE INTO changelog_outbox (sequence) VALUES (?)")
                for sequence in changes.outboxWritten { try written.execute(arguments: [sequence]) }
                let removed = try db.cachedStatement(sql: "DELETE FROM changelog_outbox WHERE sequence = ?")
                for sequence in changes.outboxRemoved { try removed.execute(arguments: [sequence]) }
                if !changes.records.isEmpty { try Self.setPosition(end, db) }
            }
        }
    }

    /// The changelog's end when this file last wrote to it or was rebuilt from it; nil when it
    /// never did, or does not know.
    var changelogPosition: Int64? {
        get throws {
            try access { db in try Int64.fetchOne(db.cachedStatement(sql: "SELECT next_offset FROM changelog_position WHERE id = 0")) }
        }
    }

    /// Whether the store holds no state at all.
    var isEmpty: Bool {
        get throws {
            try access { db in
                for table in Self.changelogTables where try Int64.fetchOne(db, sql: "SELECT 1 FROM \(table) LIMIT 1") != nil {
                    return false
                }
                return true
            }
        }
    }

    private static func setPosition(_ end: Int64?, _ db: Database) throws {
        if let end {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO changelog_position (id, next_offset) VALUES (0, ?)").execute(arguments: [end])
        } else {
            try db.cachedStatement(sql: "DELETE FROM changelog_position").execute()
        }
    }

    /// A new store at `path` (whatever was there is removed) holding what the changelog records
    /// say, applied in their order: the last record of a key wins, a tombstone deletes its row.
    /// `records` are (key, value) pairs, an empty value being a tombstone; `end` is the
    /// changelog's end after them.
    ///
    /// - Throws: `ChangelogError` for a record this code did not write.
    static func rebuilt(path: String, from records: [(key: [UInt8]?, value: [UInt8])], end: Int64) throws -> AllocatorStore {
        try remove(path: path)
        let store = try AllocatorStore(path: path)
        try store.transaction {
            try store.access { db in
                for (key, value) in records {
                    let text = key.map { String(decoding: $0, as: UTF8.self) } ?? ""
                    guard let slash = text.lastIndex(of: "/"), case let table = String(text[..<slash]), changelogTables.contains(table),
                        let row = Int64(text[text.index(after: slash)...])
                    else { throw ChangelogError(description: "changelog record with key '\(text)': not a table/rowid of the allocator's state") }
                    if value.isEmpty {
                        try db.cachedStatement(sql: "DELETE FROM \(table) WHERE rowid = ?").execute(arguments: [row])
                        continue
                    }
                    let columns = try decodeRow(value, key: text)
                    let names = columns.map(\.name).joined(separator: ", ")
                    let marks = Array(repeating: "?", count: columns.count).joined(separator: ", ")
                    try db.cachedStatement(sql: "INSERT OR REPLACE INTO \(table) (rowid, \(names)) VALUES (?, \(marks))")
                        .execute(arguments: StatementArguments([row.databaseValue] + columns.map(\.value)))
                }
                // The outbox rows it holds now are the changelog's.
                try db.execute(sql: "INSERT INTO changelog_outbox (sequence) SELECT sequence FROM outbox")
                try setPosition(end, db)
            }
        }
        try store.reload()
        return store
    }

    /// Removes a store's files (the database and its WAL and shared-memory files).
    static func remove(path: String) throws {
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try FileManager.default.removeItem(atPath: path + suffix)
        }
    }

    /// Closes the database; the store is not used after.
    func close() throws {
        try database.close()
    }

    /// A row as bytes: a version byte (1), then per column its name (length byte, UTF-8), a type
    /// byte (0 null, 1 integer, 2 real, 3 text, 4 blob) and its value (8 bytes big-endian for
    /// numbers, a 4-byte big-endian length and the bytes for text and blobs).
    static func encodeRow(_ row: Row) -> [UInt8] {
        var bytes: [UInt8] = [1]
        for (name, value) in row {
            bytes.append(UInt8(name.utf8.count))
            bytes.append(contentsOf: name.utf8)
            switch value.storage {
            case .null:
                bytes.append(0)
            case .int64(let number):
                bytes.append(1)
                bytes.appendBigEndian(number)
            case .double(let number):
                bytes.append(2)
                bytes.appendBigEndian(number.bitPattern)
            case .string(let text):
                bytes.append(3)
                bytes.appendBigEndian(UInt32(text.utf8.count))
                bytes.append(contentsOf: text.utf8)
            case .blob(let data):
                bytes.append(4)
                bytes.appendBigEndian(UInt32(data.count))
                bytes.append(contentsOf: data)
            }
        }
        return bytes
    }

    /// The columns of an encoded row. Column names must be plain identifiers (they go into SQL).
    static func decodeRow(_ bytes: [UInt8], key: String) throws -> [(name: String, value: DatabaseValue)] {
        var reader = StoredBytesReader(bytes, from: 1)
        func fail() -> ChangelogError { ChangelogError(description: "changelog record \(key): malformed row at byte \(reader.position)") }
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard let run = reader.take(count) else { throw fail() }
            return run
        }
        func integer(_ width: Int) throws -> UInt64 {
            guard let value = reader.integer(width) else { throw fail() }
            return value
        }
        guard bytes.first == 1 else { throw ChangelogError(description: "changelog record \(key): unknown row format \(bytes.first ?? 0)") }
        var columns: [(String, DatabaseValue)] = []
        while !reader.isAtEnd {
            let name = String(decoding: try take(Int(try integer(1))), as: UTF8.self)
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }) else {
                throw ChangelogError(description: "changelog record \(key): column name '\(name)' is not an identifier")
            }
            let value: DatabaseValue
            switch try integer(1) {
            case 0: value = .null
            case 1: value = Int64(bitPattern: try integer(8)).databaseValue
            case 2: value = Double(bitPattern: try integer(8)).databaseValue
            case 3: value = String(decoding: try take(Int(try integer(4))), as: UTF8.self).databaseValue
            case 4: value = Data(try take(Int(try integer(4)))).databaseValue
            default: throw fail()
            }
            columns.append((name, value))
        }
        return columns
    }
}
