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
            if let maxBytes {
                let used = try Self.bytesInUse(db)
                if used > maxBytes {
                    let target = Double(used) - Double(maxBytes) * 0.9
                    let range = try Row.fetchOne(db, sql: "SELECT min(id), max(id) FROM chunk")!
                    let low: Int64? = range[0]
                    let high: Int64? = range[1]
                    if let low, let high {
                        let fraction = min(1, target / Double(used))
                        cutoff = max(cutoff, low + Int64((Double(high - low + 1) * fraction).rounded(.up)))
                    }
                }
            }
            guard cutoff > 0 else { return 0 }
            try db.execute(sql: "DELETE FROM chunk WHERE id < ?", arguments: [cutoff])
            let deleted = db.changesCount
            guard deleted > 0 else { return 0 }
            for table in ["span_id", "business_id", "link_target", "client_order"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE chunk < ?", arguments: [cutoff])
            }
            return deleted
        }
    }
}
