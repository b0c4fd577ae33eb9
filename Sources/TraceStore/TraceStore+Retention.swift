import Foundation
import GRDB

extension TraceStore {
    /// Applies retention when ``TraceStoreConfiguration/retentionInterval`` has passed since it
    /// last ran.
    func retainIfDue() async throws {
        let due = counters.withLock { counters in
            guard ContinuousClock.now - counters.lastRetention >= configuration.retentionInterval else { return false }
            counters.lastRetention = .now
            return true
        }
        if due {
            try await applyRetention()
        }
    }

    /// Deletes the oldest chunks: those older than ``TraceStoreConfiguration/maxAge``, and then,
    /// while more than ``TraceStoreConfiguration/maxBytes`` are in use, the oldest until 90% of
    /// it is left. Index entries whose newest chunk is gone go with them. Returns the number of
    /// chunks deleted.
    @discardableResult
    public func applyRetention(now: Date = Date()) async throws -> Int {
        let maxAge = configuration.maxAge
        let maxBytes = configuration.maxBytes
        return try await database.write { db in
            var cutoff: Int64 = 0
            if let maxAge {
                let seconds = Double(maxAge.components.seconds) + Double(maxAge.components.attoseconds) / 1e18
                let oldest = Int64((now.timeIntervalSince1970 - seconds) * 1_000_000)
                let firstKept = try Int64.fetchOne(db, sql: "SELECT id FROM chunk WHERE received >= ? ORDER BY id LIMIT 1", arguments: [oldest])
                if let firstKept {
                    cutoff = firstKept
                } else {
                    cutoff = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM chunk") ?? 0) + 1
                }
            }
            var deleted = 0
            if cutoff > 0 {
                deleted += try Self.delete(before: cutoff, db)
            }
            // By size: delete the oldest in steps until 90% of the limit is left.
            if let maxBytes, try Self.bytesInUse(db) > maxBytes {
                var steps = 0
                while try Self.bytesInUse(db) > maxBytes * 9 / 10, steps < 20 {
                    steps += 1
                    let used = try Self.bytesInUse(db)
                    let range = try Row.fetchOne(db, sql: "SELECT min(id), max(id) FROM chunk")!
                    let low: Int64? = range[0]
                    let high: Int64? = range[1]
                    guard let low, let high else { break }
                    let fraction = min(1, max(0.05, (Double(used) - Double(maxBytes) * 0.9) / Double(used)))
                    let sizeCutoff = low + max(1, Int64((Double(high - low + 1) * fraction).rounded(.up)))
                    deleted += try Self.delete(before: sizeCutoff, db)
                }
            }
            return deleted
        }
    }

    /// Deletes the chunks before `cutoff` and the index entries whose newest chunk was one of them.
    private static func delete(before cutoff: Int64, _ db: Database) throws -> Int {
        try db.execute(sql: "DELETE FROM chunk WHERE id < ?", arguments: [cutoff])
        let deleted = db.changesCount
        guard deleted > 0 else { return 0 }
        for table in ["span_id", "business_id", "link_target", "client_order"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE chunk < ?", arguments: [cutoff])
        }
        return deleted
    }
}
