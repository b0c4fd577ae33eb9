import OrderModel

/// The allocator's state, kept in SQLite so that it survives a restart: the open batches, the
/// fills applied to each (in order), fills that arrived before their batch, the ids of finished
/// batches, and an outbox of order updates not yet delivered.
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
        var memberIndex: [OrderKey: Int]
    }

    /// A fill that was applied, with what the spans and updates need.
    struct AppliedFill {
        var fill: Fill
        var members: [Batch.Member]
        var allocation: FillAllocation
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

    struct OutboxRow {
        var sequence: Int64
        var key: String
        var value: [UInt8]
        var traceparent: String?
        var baggage: String?
    }

    let database: SQLiteDatabase
    private(set) var open: [String: OpenBatch] = [:]

    init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS open_batches (batch_id TEXT PRIMARY KEY, batch BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS applied_fills (sequence INTEGER PRIMARY KEY AUTOINCREMENT, fill_id TEXT NOT NULL UNIQUE, batch_id TEXT NOT NULL, fill BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS applied_fills_batch ON applied_fills (batch_id, sequence);
            CREATE TABLE IF NOT EXISTS pending_fills (fill_id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, fill BLOB NOT NULL, traceparent TEXT, arrived_at INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS pending_fills_batch ON pending_fills (batch_id);
            CREATE TABLE IF NOT EXISTS done_batches (batch_id TEXT PRIMARY KEY, done_at INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS outbox (sequence INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value BLOB NOT NULL, traceparent TEXT, baggage TEXT);
            """)
        try load()
    }

    /// Rebuilds the open batches from their stored fills.
    private func load() throws {
        let batches = try database.statement("SELECT batch FROM open_batches")
        while try batches.step() {
            let batch = try Batch(json: batches.blob(0))
            open[batch.batchId] = try Self.makeOpenBatch(batch)
        }
        let fills = try database.statement("SELECT batch_id, fill FROM applied_fills ORDER BY sequence")
        while try fills.step() {
            guard let batchID = fills.text(0) else { continue }
            let fill = try Fill(json: fills.blob(1))
            _ = open[batchID]?.allocation.apply(fill)
        }
    }

    static func makeOpenBatch(_ batch: Batch) throws -> OpenBatch {
        let allocation = try BatchAllocation(batch: batch)
        var index: [OrderKey: Int] = [:]
        for (position, member) in batch.members.enumerated() { index[member.orderKey] = position }
        return OpenBatch(allocation: allocation, memberIndex: index)
    }

    func transaction<T>(_ body: () throws -> T) throws -> T {
        try database.transaction(body)
    }

    func isDone(_ batchID: String) throws -> Bool {
        try database.statement("SELECT 1 FROM done_batches WHERE batch_id = ?").bind(.text(batchID)).step()
    }

    /// Opens a batch. Returns nil when it is known already (a duplicate), else the fills that
    /// were waiting for it, applied in their arrival order.
    func addBatch(_ batch: Batch, now: Int64) throws -> [AppliedFill]? {
        if try open[batch.batchId] != nil || isDone(batch.batchId) { return nil }
        open[batch.batchId] = try Self.makeOpenBatch(batch)
        try database.statement("INSERT INTO open_batches (batch_id, batch) VALUES (?, ?)").bind(.text(batch.batchId), .blob(batch.encodeJSON())).run()
        var waiting: [(Fill, String?)] = []
        let pending = try database.statement("SELECT fill, traceparent FROM pending_fills WHERE batch_id = ? ORDER BY arrived_at, rowid").bind(.text(batch.batchId))
        while try pending.step() {
            waiting.append((try Fill(json: pending.blob(0)), pending.text(1)))
        }
        try database.statement("DELETE FROM pending_fills WHERE batch_id = ?").bind(.text(batch.batchId)).run()
        var applied: [AppliedFill] = []
        for (fill, traceparent) in waiting {
            if case .applied(var result) = try apply(fill, fillTraceparent: traceparent, now: now) {
                result.fillTraceparent = traceparent
                applied.append(result)
            }
        }
        return applied
    }

    /// Applies a fill to its batch, or keeps it until its batch arrives.
    func apply(_ fill: Fill, fillTraceparent: String?, now: Int64) throws -> FillResult {
        guard var batch = open[fill.batchId] else {
            if try isDone(fill.batchId) { return .duplicate }
            let known = try database.statement("SELECT 1 FROM pending_fills WHERE fill_id = ?").bind(.text(fill.fillId)).step()
            if known { return .duplicate }
            try database.statement("INSERT INTO pending_fills (fill_id, batch_id, fill, traceparent, arrived_at) VALUES (?, ?, ?, ?, ?)")
                .bind(.text(fill.fillId), .text(fill.batchId), .blob(fill.encodeJSON()), .optional(fillTraceparent), .integer(now)).run()
            return .pending
        }
        let outcome = batch.allocation.apply(fill)
        switch outcome {
        case .duplicate:
            return .duplicate
        case .rejected(let rejection):
            return .rejected(rejection.description)
        case .applied(let allocation):
            if batch.allocation.isComplete {
                open[fill.batchId] = nil
                try database.statement("DELETE FROM open_batches WHERE batch_id = ?").bind(.text(fill.batchId)).run()
                try database.statement("DELETE FROM applied_fills WHERE batch_id = ?").bind(.text(fill.batchId)).run()
                try database.statement("INSERT OR REPLACE INTO done_batches (batch_id, done_at) VALUES (?, ?)").bind(.text(fill.batchId), .integer(now)).run()
            } else {
                open[fill.batchId] = batch
                try database.statement("INSERT INTO applied_fills (fill_id, batch_id, fill) VALUES (?, ?, ?)")
                    .bind(.text(fill.fillId), .text(fill.batchId), .blob(fill.encodeJSON())).run()
            }
            return .applied(AppliedFill(fill: fill, members: batch.allocation.batchMembers, allocation: allocation, fillTraceparent: fillTraceparent))
        }
    }

    /// Keeps an update until it is delivered; returns its sequence number.
    func enqueue(key: String, value: [UInt8], traceparent: String?, baggage: String?) throws -> Int64 {
        try database.statement("INSERT INTO outbox (key, value, traceparent, baggage) VALUES (?, ?, ?, ?)")
            .bind(.text(key), .blob(value), .optional(traceparent), .optional(baggage)).run()
        return database.lastInsertRowID
    }

    /// Updates stored and not yet delivered, oldest first.
    func outbox() throws -> [OutboxRow] {
        var rows: [OutboxRow] = []
        let statement = try database.statement("SELECT sequence, key, value, traceparent, baggage FROM outbox ORDER BY sequence")
        while try statement.step() {
            rows.append(OutboxRow(sequence: statement.integer(0), key: statement.text(1) ?? "", value: statement.blob(2), traceparent: statement.text(3), baggage: statement.text(4)))
        }
        return rows
    }

    /// Forgets delivered updates.
    func delivered(_ sequences: [Int64]) throws {
        guard !sequences.isEmpty else { return }
        try transaction {
            let statement = try database.statement("DELETE FROM outbox WHERE sequence = ?")
            for sequence in sequences {
                statement.reset()
                try statement.bind(.integer(sequence)).run()
            }
        }
    }

    /// Forgets finished batches older than `cutoff` (milliseconds since 1970).
    func pruneDone(before cutoff: Int64) throws {
        try database.statement("DELETE FROM done_batches WHERE done_at < ?").bind(.integer(cutoff)).run()
    }

    /// Fills that waited for their batch since before `cutoff`; they are removed.
    func takeStalePending(before cutoff: Int64) throws -> [[UInt8]] {
        var fills: [[UInt8]] = []
        let statement = try database.statement("SELECT fill FROM pending_fills WHERE arrived_at < ?").bind(.integer(cutoff))
        while try statement.step() { fills.append(statement.blob(0)) }
        if !fills.isEmpty {
            try database.statement("DELETE FROM pending_fills WHERE arrived_at < ?").bind(.integer(cutoff)).run()
        }
        return fills
    }

    var pendingFillCount: Int {
        get throws {
            let statement = try database.statement("SELECT COUNT(*) FROM pending_fills")
            return try statement.step() ? Int(statement.integer(0)) : 0
        }
    }
}
