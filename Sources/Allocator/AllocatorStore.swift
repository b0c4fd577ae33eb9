import Baggage
import Foundation
import GRDB
import Kafka
import OrderModel
import Pipeline
import Tracing
import TraceContext

/// The allocator's state, kept in SQLite through GRDB so that it survives a restart: the open
/// batches, the fills applied to each (in order), fills that arrived before their batch, the ids
/// of finished batches. Files of earlier versions also kept an outbox of order updates not yet
/// delivered (each step's updates, written in its transaction and deleted once Kafka had them);
/// the allocator sends what one holds when it opens the file.
///
/// An open batch's allocation is rebuilt by applying its stored fills again in their order:
/// allocation is deterministic (the same inputs give the same allocations), so the rebuilt state
/// equals the lost one exactly. A fill and the updates it causes are stored in one transaction,
/// so after a crash either both are there (and the fill counts as a duplicate when Kafka
/// delivers it again) or neither is (and the redelivered fill is applied for the first time).
/// Finished batches leave their state behind: only their id is kept, for `doneRetention`, so a
/// late duplicate fill is still recognized. Memory holds the open batches only.
final class AllocatorStore {
    struct OpenBatch {
        var allocation: BatchAllocation
        /// Each member's position in the batch (the first, for a key given twice).
        var memberIndex: [OrderKey: Int]
        /// Each member's order context (span, `tracestate`, baggage), parsed once for all the
        /// batch's fills, as the parent of the member's spans and updates; its baggage is the
        /// order's with the ids every update of the order carries (user, client order, batch)
        /// set once, so that an update sets only its fill's.
        var memberParents: [MessagingParent]
    }

    /// A fill that was applied, with what the spans and updates need.
    struct AppliedFill {
        var fill: Fill
        var members: [Batch.Member]
        var allocation: FillAllocation
        /// Each member's position in `members`, by its key.
        var memberIndex: [OrderKey: Int]
        /// Each member's order context, in the order of `members` (see `OpenBatch`).
        var memberParents: [MessagingParent]
        /// The trace context of the fill's processing (for fills applied later, when their batch came).
        var fillTraceparent: String?
    }

    enum FillResult {
        case applied(AppliedFill)
        case duplicate
        /// Its batch has not arrived yet; it is kept until it does.
        case pending
        case rejected(String)
    }

    /// A record whose content the store cannot take (it contradicts what is stored, such as a fill
    /// id already applied to another batch): its changes were undone and it should be
    /// dead-lettered. Any other error thrown by the store is about the store itself (disk full, I/O
    /// error), not about the record, and must stop the component.
    struct InputRefused: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    /// A record kept until Kafka has it, with the trace context it is sent in.
    struct OutboxRecord: Equatable {
        /// nil: the order-updates topic.
        var topic: String?
        var key: String
        var value: [UInt8]
        var headers = KafkaHeaders()
        var traceparent: String?
        var baggage: String?
    }

    /// One record of the outbox: the row that keeps it, and its place among the row's records (a
    /// handled input's updates share one row).
    struct OutboxRow {
        var sequence: Int64
        var part = 0
        var record: OutboxRecord

        var topic: String? { record.topic }
        var key: String { record.key }
        var value: [UInt8] { record.value }
        var headers: KafkaHeaders { record.headers }
        var traceparent: String? { record.traceparent }
        var baggage: String? { record.baggage }
    }

    /// One connection, in WAL mode with `synchronous=NORMAL` (GRDB sets it with WAL): a committed
    /// transaction survives a process crash; a power loss may lose the last ones.
    let database: DatabaseQueue
    private(set) var open: [String: OpenBatch] = [:]

    /// WAL pages written before a commit checkpoints them into the database file.
    static let walCheckpointPages = 10_000

    /// How many changed pages a transaction may hold in memory before SQLite starts writing them
    /// to the WAL (32 MiB of 4 KiB pages). At SQLite's default, its page cache's size (2 MiB),
    /// a step's transaction at full speed did not fit (a fill's outbox row alone was tens of KB):
    /// SQLite wrote changed pages to the WAL one at a time before the commit
    /// (`sqlite3PcacheFetchStress`, 7.5% of the untraced allocator's samples), and wrote again
    /// those that changed again. The cache itself keeps its default size: what a large
    /// transaction held beyond it is let go after the commit, so the store's memory does not
    /// grow with its file.
    static let spillPages = 8_192

    init(path: String) throws {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(5)
        // A step's transaction stays open while its updates are delivered (`begin()`, then
        // `commit()` or `rollBack()`): one connection, used by the allocator's loop alone.
        configuration.allowsUnsafeTransactions = true
        // Every record is handled in a savepoint of its own (`isolated`), so SQLite copies each
        // page it changes into a sub-journal first. By default that journal is a temporary file
        // once a step has spilled it past 64 KiB, and then stays one: four of five writes the
        // allocator made were 4 KiB pages into it. In memory it costs a copy, not a system call;
        // it only serves rolling a savepoint back, so nothing durable depends on it.
        //
        // A checkpoint (copying the WAL's pages into the database file, then two fdatasyncs)
        // runs inside the commit that pushes the WAL past `wal_autocheckpoint` pages. At SQLite's
        // default of 1,000 pages (4 MB) that was two to three a second at 5,000 orders/s, 3.4%
        // of the allocator's CPU and a stall of its step each time. A page changed many times
        // between two checkpoints is copied once, so fewer, larger checkpoints copy fewer pages
        // per order; the WAL may grow to about 40 MB.
        //
        // Debian builds SQLite with secure_delete on: deleting a row overwrites its content with
        // zeros, so each delivered outbox row (a fill's updates, tens of KB) went back through the
        // WAL as zeroed pages, as large as it came in. FAST overwrites only the pages a delete
        // writes anyway: over one traced `up` of the pipeline benchmark the allocator wrote half
        // as many bytes to disk and made 45% fewer write calls (BENCHMARKS.md). Freed pages keep
        // their old bytes until reused; nothing in the file is secret (the same updates are in
        // Kafka).
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = FAST")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.walCheckpointPages)")
            try db.execute(sql: "PRAGMA cache_spill = \(Self.spillPages)")
        }
        database = try DatabaseQueue(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
        try load()
    }

    /// The schema. Files written before the store used GRDB have the tables of "v1" and no
    /// migration table: "v1" creates only what is missing, so they open as they are.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS open_batches (batch_id TEXT PRIMARY KEY, batch BLOB NOT NULL);
                    CREATE TABLE IF NOT EXISTS applied_fills (sequence INTEGER PRIMARY KEY AUTOINCREMENT, fill_id TEXT NOT NULL UNIQUE, batch_id TEXT NOT NULL, fill BLOB NOT NULL);
                    CREATE INDEX IF NOT EXISTS applied_fills_batch ON applied_fills (batch_id, sequence);
                    CREATE TABLE IF NOT EXISTS pending_fills (fill_id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, fill BLOB NOT NULL, traceparent TEXT, arrived_at INTEGER NOT NULL);
                    CREATE INDEX IF NOT EXISTS pending_fills_batch ON pending_fills (batch_id);
                    CREATE TABLE IF NOT EXISTS done_batches (batch_id TEXT PRIMARY KEY, done_at INTEGER NOT NULL);
                    CREATE TABLE IF NOT EXISTS outbox (sequence INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value BLOB NOT NULL, traceparent TEXT, baggage TEXT);
                    """)
        }
        // Dead letters made from stored state (a waiting fill refused or given up) go through
        // the outbox too, with their topic and headers; and the fill ids of finished batches
        // are remembered, so an id reused for another batch is refused after its batch is done.
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    ALTER TABLE outbox ADD COLUMN topic TEXT;
                    ALTER TABLE outbox ADD COLUMN headers BLOB;
                    CREATE TABLE done_fills (fill_id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, done_at INTEGER NOT NULL);
                    CREATE INDEX done_fills_age ON done_fills (done_at);
                    """)
        }
        // The changelog (see AllocatorStore+Changelog): the rows changed since the changelog last
        // took them (`fresh`: the row did not exist when it last did), the outbox rows it has,
        // and the changelog offset this file is current up to.
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE changelog_pending (tbl TEXT NOT NULL, row INTEGER NOT NULL, fresh INTEGER NOT NULL, PRIMARY KEY (tbl, row)) WITHOUT ROWID;
                    CREATE TABLE changelog_position (id INTEGER PRIMARY KEY CHECK (id = 0), next_offset INTEGER NOT NULL);
                    CREATE TABLE changelog_outbox (sequence INTEGER PRIMARY KEY);
                    """)
        }
        // An outbox row may keep several records (`records`, see `encode(_:)`): all the updates
        // of one handled fill or batch, one insert instead of one per update.
        migrator.registerMigration("v4") { db in
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN records BLOB")
        }
        return migrator
    }

    /// Rebuilds the open batches from their stored fills.
    private func load() throws {
        try access { db in
            let batches = try Row.fetchCursor(db.cachedStatement(sql: "SELECT batch FROM open_batches"))
            while let row = try batches.next() {
                let batch = try Self.decode(Batch.self, row, 0)
                open[batch.batchId] = try Self.makeOpenBatch(batch)
            }
            let fills = try Row.fetchCursor(db.cachedStatement(sql: "SELECT batch_id, fill FROM applied_fills ORDER BY sequence"))
            while let row = try fills.next() {
                guard let batchID: String = row[0] else { continue }
                let fill = try Self.decode(Fill.self, row, 1)
                _ = open[batchID]?.allocation.apply(fill)
            }
        }
    }

    /// A message from a blob column, decoded in place.
    private static func decode<Message: JSONMessage>(_ type: Message.Type, _ row: Row, _ column: Int) throws -> Message {
        try row.withUnsafeData(atIndex: column) { data in
            try (data ?? Data()).withUnsafeBytes { Message.decode(json: $0) }.get()
        }
    }

    /// The bytes of a blob column.
    private static func bytes(_ row: Row, _ column: Int) throws -> [UInt8] {
        try row.withUnsafeData(atIndex: column) { data in data.map { Array($0) } ?? [] }
    }

    /// Runs `body` with the connection. Inside `transaction` it joins that transaction; outside,
    /// each statement commits on its own. The store is used by one task at a time.
    func access<T>(_ body: (Database) throws -> T) throws -> T {
        try database.unsafeReentrantWrite(body)
    }

    static func makeOpenBatch(_ batch: Batch) throws -> OpenBatch {
        let allocation = try BatchAllocation(batch: batch)
        var index: [OrderKey: Int] = [:]
        for (position, member) in batch.members.enumerated() where index[member.orderKey] == nil { index[member.orderKey] = position }
        let tracer = MessagingTracing.current
        let parents = batch.members.map { member in
            let parent = tracer.parent(stored: StoredContext(traceparent: member.traceparent, tracestate: member.tracestate, baggage: member.baggage))
            return parent.replacingBaggage(
                (parent.baggage ?? Baggage()).setting([
                    BusinessAttribute.userID: member.userId, BusinessAttribute.clientOrderID: member.clientOrderId, BusinessAttribute.batchID: batch.batchId,
                ]))
        }
        return OpenBatch(allocation: allocation, memberIndex: index, memberParents: parents)
    }

    /// Runs `body` in one transaction (`BEGIN IMMEDIATE`): all of it is stored, or none of it.
    /// The store's methods called in `body` take part in it.
    ///
    /// Its statements (and the savepoint's of `isolated`) are prepared once: GRDB's
    /// `inTransaction` and `inSavepoint` compile them again for every use, which was 10% of the
    /// allocator's profile at 200 orders/s, where a step holds one or two records.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try access { db in
            try Self.bracketed(db, begin: "BEGIN IMMEDIATE TRANSACTION", end: "COMMIT TRANSACTION", body) {
                if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
            }
        }
    }

    /// Begins a transaction that stays open after this call: the store's methods called until
    /// `commit()` or `rollBack()` take part in it. For a step that is stored only once Kafka has
    /// its updates: the step's records are read again after a crash before its commit, and make
    /// the same updates.
    func begin() throws {
        try access { db in try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute() }
    }

    /// Stores the transaction `begin()` opened.
    func commit() throws {
        try access { db in try db.cachedStatement(sql: "COMMIT TRANSACTION").execute() }
    }

    /// Undoes the transaction `begin()` opened, if one is open, and rebuilds the open batches in
    /// memory from what is stored.
    func rollBack() throws {
        try access { db in
            if db.isInsideTransaction { try db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
        }
        try reload()
    }

    /// Runs `body` between the prepared statements `begin` and `end`; when either of the last two
    /// throws, runs `undo` and rethrows.
    private static func bracketed<T>(_ db: Database, begin: String, end: String, _ body: () throws -> T, undo: () throws -> Void) throws -> T {
        try db.cachedStatement(sql: begin).execute()
        do {
            let result = try body()
            try db.cachedStatement(sql: end).execute()
            return result
        } catch {
            try undo()
            throw error
        }
    }

    /// Runs the handling of one record in a savepoint of the current transaction. When the store
    /// refuses the record's content (a constraint fails, or a stored batch would not validate),
    /// its changes are rolled back, the open batches are rebuilt from the database, and
    /// `InputRefused` is thrown: the caller dead-letters the record and goes on. Other errors are
    /// rethrown as they are.
    func isolated<T>(_ body: () throws -> T) throws -> T {
        do {
            return try access { db in
                try Self.bracketed(db, begin: "SAVEPOINT record", end: "RELEASE SAVEPOINT record", body) {
                    // Undoes the record's changes and leaves the savepoint; the transaction goes on.
                    try db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT record").execute()
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT record").execute()
                }
            }
        } catch let error as DatabaseError where Self.isAboutInput(error) {
            try reload()
            throw InputRefused(reason: "the allocator's store refused it: \(error.message ?? error.description)")
        } catch let error as ValidationErrors {
            try reload()
            throw InputRefused(reason: error.description)
        }
    }

    /// Whether a database error comes from what a record contains rather than from the store.
    static func isAboutInput(_ error: DatabaseError) -> Bool {
        switch error.resultCode {
        case .SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_TOOBIG, .SQLITE_RANGE: true
        default: false
        }
    }

    /// Forgets the open batches in memory and rebuilds them from the database.
    func reload() throws {
        open = [:]
        try load()
    }

    /// The batch a fill id was applied to (open, or finished within the done retention), if any.
    func appliedBatch(ofFill fillID: String) throws -> String? {
        try access { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT batch_id FROM applied_fills WHERE fill_id = ?"), arguments: [fillID])
                ?? String.fetchOne(db.cachedStatement(sql: "SELECT batch_id FROM done_fills WHERE fill_id = ?"), arguments: [fillID])
        }
    }

    func isDone(_ batchID: String) throws -> Bool {
        try access { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM done_batches WHERE batch_id = ?"), arguments: [batchID]) != nil
        }
    }

    /// What opening a batch did with the fills that waited for it.
    struct OpenedBatch {
        /// Applied in their arrival order.
        var applied: [AppliedFill] = []
        /// Fills the batch could not take, with the reason: they are no longer kept.
        var refused: [(fill: Fill, reason: String)] = []
        /// Each member's order context, in the batch's order.
        var memberParents: [MessagingParent] = []
    }

    /// Opens a batch. Returns nil when it is known already (a duplicate), else what became of the
    /// fills that were waiting for it.
    func addBatch(_ batch: Batch, now: Int64) throws -> OpenedBatch? {
        if try open[batch.batchId] != nil || isDone(batch.batchId) { return nil }
        let opened = try Self.makeOpenBatch(batch)
        let waiting: [(Fill, String?)] = try access { db in
            try db.cachedStatement(sql: "INSERT INTO open_batches (batch_id, batch) VALUES (?, ?)")
                .execute(arguments: [batch.batchId, Data(batch.encodeJSON())])
            var waiting: [(Fill, String?)] = []
            let pending = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT fill, traceparent FROM pending_fills WHERE batch_id = ? ORDER BY arrived_at, rowid"),
                arguments: [batch.batchId])
            while let row = try pending.next() {
                waiting.append((try Self.decode(Fill.self, row, 0), row[1]))
            }
            try db.cachedStatement(sql: "DELETE FROM pending_fills WHERE batch_id = ?").execute(arguments: [batch.batchId])
            return waiting
        }
        open[batch.batchId] = opened
        var result = OpenedBatch(memberParents: opened.memberParents)
        for (fill, traceparent) in waiting {
            switch try apply(fill, fillTraceparent: traceparent, now: now) {
            case .applied(var applied):
                applied.fillTraceparent = traceparent
                result.applied.append(applied)
            case .rejected(let reason):
                result.refused.append((fill, reason))
            case .duplicate, .pending:
                break
            }
        }
        return result
    }

    /// Applies a fill to its batch, or keeps it until its batch arrives.
    func apply(_ fill: Fill, fillTraceparent: String?, now: Int64) throws -> FillResult {
        if let other = try appliedBatch(ofFill: fill.fillId), other != fill.batchId {
            return .rejected("fill id \(fill.fillId) was already applied to batch \(other), not \(fill.batchId)")
        }
        guard var batch = open[fill.batchId] else {
            if try isDone(fill.batchId) { return .duplicate }
            return try access { db in
                let waitingFor = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT batch_id FROM pending_fills WHERE fill_id = ?"), arguments: [fill.fillId])
                if let waitingFor {
                    if waitingFor == fill.batchId { return .duplicate }
                    return .rejected("fill id \(fill.fillId) already waits for batch \(waitingFor), not \(fill.batchId)")
                }
                try db.cachedStatement(sql: "INSERT INTO pending_fills (fill_id, batch_id, fill, traceparent, arrived_at) VALUES (?, ?, ?, ?, ?)")
                    .execute(arguments: [fill.fillId, fill.batchId, Data(fill.encodeJSON()), fillTraceparent, now])
                return .pending
            }
        }
        let outcome = batch.allocation.apply(fill)
        switch outcome {
        case .duplicate:
            return .duplicate
        case .rejected(let rejection):
            return .rejected(rejection.description)
        case .applied(let allocation):
            // The database first: when it throws, memory still matches it.
            if batch.allocation.isComplete {
                try access { db in
                    try db.cachedStatement(sql: "DELETE FROM open_batches WHERE batch_id = ?").execute(arguments: [fill.batchId])
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO done_fills (fill_id, batch_id, done_at) SELECT fill_id, batch_id, ? FROM applied_fills WHERE batch_id = ?")
                        .execute(arguments: [now, fill.batchId])
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO done_fills (fill_id, batch_id, done_at) VALUES (?, ?, ?)")
                        .execute(arguments: [fill.fillId, fill.batchId, now])
                    try db.cachedStatement(sql: "DELETE FROM applied_fills WHERE batch_id = ?").execute(arguments: [fill.batchId])
                    try db.cachedStatement(sql: "INSERT OR REPLACE INTO done_batches (batch_id, done_at) VALUES (?, ?)").execute(arguments: [fill.batchId, now])
                }
                open[fill.batchId] = nil
            } else {
                try access { db in
                    try db.cachedStatement(sql: "INSERT INTO applied_fills (fill_id, batch_id, fill) VALUES (?, ?, ?)")
                        .execute(arguments: [fill.fillId, fill.batchId, Data(fill.encodeJSON())])
                }
                open[fill.batchId] = batch
            }
            return .applied(
                AppliedFill(
                    fill: fill, members: batch.allocation.batchMembers, allocation: allocation, memberIndex: batch.memberIndex,
                    memberParents: batch.memberParents,
                    fillTraceparent: fillTraceparent))
        }
    }

    /// Records as bytes: their count, then per record its topic, key, value, headers (as
    /// `encode(_ headers:)` writes them), traceparent and baggage, each a length (4 bytes,
    /// big-endian; -1 for none) and its bytes.
    static func encode(_ records: [OutboxRecord]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.reduce(4) { $0 + 24 + $1.key.utf8.count + $1.value.count + 96 + ($1.baggage?.utf8.count ?? 0) })
        bytes.appendBigEndian(Int32(records.count))
        for record in records {
            bytes.appendField(record.topic?.utf8)
            bytes.appendField(record.key.utf8)
            bytes.appendField(record.value)
            bytes.appendField(record.headers.isEmpty ? nil : Self.encode(record.headers))
            bytes.appendField(record.traceparent?.utf8)
            bytes.appendField(record.baggage?.utf8)
        }
        return bytes
    }

    /// The records that `encode(_ records:)` wrote.
    /// - Throws: `ChangelogError` when the bytes are not such records (a damaged file).
    static func decodeRecords(_ bytes: [UInt8]) throws -> [OutboxRecord] {
        var reader = StoredBytesReader(bytes)
        func early() -> ChangelogError { ChangelogError(description: "an outbox row's records end early (at byte \(reader.position) of \(bytes.count))") }
        func length() throws -> Int {
            guard let length = reader.length() else { throw early() }
            return Int(length)
        }
        func field() throws -> ArraySlice<UInt8>? {
            let count = try length()
            if count < 0 { return nil }
            guard let run = reader.take(count) else { throw early() }
            return run
        }
        func string() throws -> String? { try field().map { String(decoding: $0, as: UTF8.self) } }
        let count = try length()
        var records: [OutboxRecord] = []
        records.reserveCapacity(max(0, count))
        for _ in 0..<max(0, count) {
            let topic = try string()
            let key = try string() ?? ""
            let value = Array(try field() ?? [])
            let headers = try field().map { Self.decodeHeaders(Array($0)) } ?? KafkaHeaders()
            records.append(OutboxRecord(topic: topic, key: key, value: value, headers: headers, traceparent: try string(), baggage: try string()))
        }
        return records
    }

    /// Headers as bytes: per header, the key's length (4 bytes, big-endian) and bytes, then the
    /// value's length (-1 for none) and bytes.
    static func encode(_ headers: KafkaHeaders) -> [UInt8] {
        var bytes: [UInt8] = []
        for header in headers {
            bytes.appendField(header.key.utf8)
            bytes.appendField(header.value)
        }
        return bytes
    }

    static func decodeHeaders(_ bytes: [UInt8]) -> KafkaHeaders {
        // Reads what is whole and stops at the first header cut short.
        var headers = KafkaHeaders()
        var reader = StoredBytesReader(bytes)
        while let keyLength = reader.length(), let key = reader.take(Int(keyLength)), let valueLength = reader.length() {
            if valueLength < 0 {
                headers.set(String(decoding: key, as: UTF8.self), bytes: nil)
            } else {
                guard let value = reader.take(Int(valueLength)) else { break }
                headers.set(String(decoding: key, as: UTF8.self), bytes: Array(value))
            }
        }
        return headers
    }

    /// Records stored and not yet delivered, oldest first (those of one row when `sequence` is given).
    func outbox(sequence: Int64? = nil) throws -> [OutboxRow] {
        try access { db in
            var rows: [OutboxRow] = []
            let columns = "SELECT sequence, key, value, traceparent, baggage, topic, headers, records FROM outbox"
            let cursor =
                if let sequence {
                    try Row.fetchCursor(db.cachedStatement(sql: "\(columns) WHERE sequence = ?"), arguments: [sequence])
                } else {
                    try Row.fetchCursor(db.cachedStatement(sql: "\(columns) ORDER BY sequence"))
                }
            while let row = try cursor.next() {
                let sequence: Int64 = row[0]
                if !row.hasNull(atIndex: 7) {
                    for (part, record) in try Self.decodeRecords(try Self.bytes(row, 7)).enumerated() {
                        rows.append(OutboxRow(sequence: sequence, part: part, record: record))
                    }
                    continue
                }
                rows.append(
                    OutboxRow(
                        sequence: sequence,
                        record: OutboxRecord(
                            topic: row[5], key: row[1] ?? "", value: try Self.bytes(row, 2), headers: Self.decodeHeaders(try Self.bytes(row, 6)),
                            traceparent: row[3], baggage: row[4])))
            }
            return rows
        }
    }

    /// Forgets delivered rows (every record of each).
    func delivered(_ sequences: [Int64]) throws {
        guard !sequences.isEmpty else { return }
        try transaction {
            try access { db in
                // A step's rows are one run of sequence numbers: one range delete instead of one
                // statement a row (sequences are unique, so a run of count numbers holds no other).
                if let first = sequences.min(), let last = sequences.max(), last - first + 1 == Int64(sequences.count) {
                    try db.cachedStatement(sql: "DELETE FROM outbox WHERE sequence BETWEEN ? AND ?").execute(arguments: [first, last])
                    return
                }
                let statement = try db.cachedStatement(sql: "DELETE FROM outbox WHERE sequence = ?")
                for sequence in sequences {
                    try statement.execute(arguments: [sequence])
                }
            }
        }
    }

    /// Keeps only `parts` of a row whose other records were delivered (nothing changes when
    /// `parts` holds them all, or the row is gone); forgets the row when `parts` is empty.
    func keepUndelivered(_ parts: Set<Int>, of sequence: Int64) throws {
        guard !parts.isEmpty else { return try delivered([sequence]) }
        try transaction {
            try access { db in
                let rows = try outbox(sequence: sequence)
                let kept = rows.filter { parts.contains($0.part) }.map(\.record)
                guard !kept.isEmpty, kept.count < rows.count else { return }
                try db.cachedStatement(sql: "UPDATE outbox SET key = '', value = x'', topic = NULL, headers = NULL, traceparent = NULL, baggage = NULL, records = ? WHERE sequence = ?")
                    .execute(arguments: [Data(Self.encode(kept)), sequence])
            }
        }
    }

    /// Forgets finished batches older than `cutoff` (milliseconds since 1970).
    func pruneDone(before cutoff: Int64) throws {
        try access { db in
            try db.cachedStatement(sql: "DELETE FROM done_batches WHERE done_at < ?").execute(arguments: [cutoff])
            try db.cachedStatement(sql: "DELETE FROM done_fills WHERE done_at < ?").execute(arguments: [cutoff])
        }
    }

    /// Fills that waited for their batch since before `cutoff`; they are removed.
    func takeStalePending(before cutoff: Int64) throws -> [[UInt8]] {
        try access { db in
            var fills: [[UInt8]] = []
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: "SELECT fill FROM pending_fills WHERE arrived_at < ?"), arguments: [cutoff])
            while let row = try cursor.next() { fills.append(try Self.bytes(row, 0)) }
            if !fills.isEmpty {
                try db.cachedStatement(sql: "DELETE FROM pending_fills WHERE arrived_at < ?").execute(arguments: [cutoff])
            }
            return fills
        }
    }

    var pendingFillCount: Int {
        get throws {
            try access { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM pending_fills")) ?? 0 }
        }
    }
}
