import Foundation
import GRDB
import OTLPWire

extension TraceStore {
    /// Every stored span of a trace, in the order they were written.
    public func spans(inTrace traceID: TraceID) async throws -> [StoredSpan] {
        let blobs = try await database.read { db in
            try Data.fetchAll(
                db, sql: "SELECT data FROM chunk WHERE trace_hi = ? ORDER BY id",
                arguments: [Int64(bitPattern: traceID.high)])
        }
        var spans: [StoredSpan] = []
        for blob in blobs {
            let batches: [ExportedSpans]
            do {
                batches = try OTLPTraceDecoder.protobuf([UInt8](blob))
            } catch {
                logger.error("a stored chunk cannot be read", metadata: ["trace": "\(traceID.hex)", "error": "\(error)"])
                continue
            }
            for batch in batches {
                let service = batch.origin.serviceName
                for span in batch.spans where span.traceID == traceID {
                    spans.append(StoredSpan(span: span, service: service, resource: batch.origin.resourceAttributes))
                }
            }
        }
        return spans
    }

    /// The traces with a span that links into `traceID` (reverse look-up of links).
    public func traces(linkingTo traceID: TraceID) async throws -> [TraceID] {
        try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT source_hi, source_lo FROM link_target WHERE target_hi = ?",
                arguments: [Int64(bitPattern: traceID.high)]
            ).map { TraceID(high: UInt64(bitPattern: $0[0]), low: UInt64(bitPattern: $0[1])) }
        }
    }

    /// What `id` is: a trace id (32 hex digits), a span id (16 hex digits), or the value of a
    /// business id (``BusinessKey``); every match, with its trace.
    public func resolve(_ id: String) async throws -> [IDMatch] {
        let trimmed = id.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return [] }
        return try await database.read { db in
            var matches: [IDMatch] = []
            if let traceID = TraceID(hex: trimmed) {
                let exists = try Bool.fetchOne(
                    db, sql: "SELECT EXISTS(SELECT 1 FROM chunk WHERE trace_hi = ? AND trace_lo = ?)",
                    arguments: [Int64(bitPattern: traceID.high), Int64(bitPattern: traceID.low)]) ?? false
                if exists { matches.append(IDMatch(key: "trace.id", value: traceID.hex, traceID: traceID)) }
            }
            if let spanID = parseSpanID(trimmed),
                let row = try Row.fetchOne(
                    db, sql: "SELECT trace_hi, trace_lo FROM span_id WHERE span_id = ?", arguments: [Int64(bitPattern: spanID)])
            {
                let traceID = TraceID(high: UInt64(bitPattern: row[0]), low: UInt64(bitPattern: row[1]))
                matches.append(IDMatch(key: "span.id", value: spanIDHex(spanID), traceID: traceID))
            }
            let rows = try Row.fetchAll(
                db, sql: "SELECT key, trace_hi, trace_lo FROM business_id WHERE key IN (1, 2, 3, 4) AND value = ? LIMIT 1000",
                arguments: [trimmed])
            for row in rows {
                guard let key = BusinessKey(rawValue: row[0]) else { continue }
                let traceID = TraceID(high: UInt64(bitPattern: row[1]), low: UInt64(bitPattern: row[2]))
                matches.append(IDMatch(key: key.attribute, value: trimmed, traceID: traceID))
            }
            return matches
        }
    }

    /// Ids that start with `prefix`, for a search box: business ids (user ids included), at
    /// most `limit`.
    public func search(prefix: String, limit: Int = 50) async throws -> [IDMatch] {
        let trimmed = prefix.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return [] }
        return try await database.read { db in
            var matches: [IDMatch] = []
            for key in BusinessKey.allCases where matches.count < limit {
                let rows = try Row.fetchAll(
                    db, sql: "SELECT value, trace_hi, trace_lo FROM business_id WHERE key = ? AND value >= ? AND value < ? ORDER BY value LIMIT ?",
                    arguments: [key.rawValue, trimmed, trimmed + "\u{10FFFF}", limit - matches.count])
                for row in rows {
                    let traceID = TraceID(high: UInt64(bitPattern: row[1]), low: UInt64(bitPattern: row[2]))
                    matches.append(IDMatch(key: key.attribute, value: row[0], traceID: traceID))
                }
            }
            return matches
        }
    }

    /// Client orders, newest first.
    public func recentOrders(filter: OrderFilter = .all, user: String? = nil, limit: Int = 50) async throws -> [OrderSummary] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        switch filter {
        case .all: break
        case .incomplete: conditions.append("completed = 0")
        case .complete: conditions.append("completed = 1")
        }
        if let user, !user.isEmpty {
            conditions.append("user_id = ?")
            _ = arguments.append(contentsOf: [user])
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        _ = arguments.append(contentsOf: [max(1, min(limit, 1000))])
        let sql = """
            SELECT order_id, user_id, trace_hi, trace_lo, received, status, completed, span_count
            FROM client_order \(whereClause) ORDER BY received DESC LIMIT ?
            """
        let finalArguments = arguments
        return try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(Self.order)
        }
    }

    /// One client order's summary, if any span of it is stored.
    public func order(_ clientOrderID: String) async throws -> OrderSummary? {
        try await database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT order_id, user_id, trace_hi, trace_lo, received, status, completed, span_count FROM client_order WHERE order_id = ?",
                arguments: [clientOrderID]
            ).map(Self.order)
        }
    }

    private static func order(_ row: Row) -> OrderSummary {
        OrderSummary(
            clientOrderID: row[0], userID: row[1],
            traceID: TraceID(high: UInt64(bitPattern: row[2]), low: UInt64(bitPattern: row[3])),
            received: row[4], status: row[5], completed: row[6] != 0, spanCount: row[7])
    }

    /// Counts over the whole store.
    public func statistics() async throws -> StoreStatistics {
        let (ingested, pendingSpans) = (counters.withLock { $0.ingestedSpans }, self.pendingSpans)
        return try await database.read { db in
            let chunks = try Row.fetchOne(db, sql: "SELECT coalesce(sum(span_count), 0), count(DISTINCT trace_hi), coalesce(min(received), 0) FROM chunk")!
            let orders = try Int.fetchOne(db, sql: "SELECT count(*) FROM client_order") ?? 0
            return StoreStatistics(
                spans: chunks[0], traces: chunks[1], orders: orders, bytes: try Self.bytesInUse(db), oldest: chunks[2],
                ingestedSpans: ingested, pendingSpans: pendingSpans)
        }
    }

    static func bytesInUse(_ db: Database) throws -> Int64 {
        let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
        let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
        return (pages - free) * pageSize
    }
}

extension ExportOrigin {
    /// The resource's `service.name`, or `"unknown"`.
    public var serviceName: String {
        for attribute in resourceAttributes where attribute.key == "service.name" {
            if case .string(let name) = attribute.value { return name }
        }
        return "unknown"
    }
}

extension TraceStore {
    /// Which of these spans are stored (by the span id index).
    public func storedSpans(_ references: [(traceID: TraceID, spanID: UInt64)]) async throws -> Set<UInt64> {
        guard !references.isEmpty else { return [] }
        let spanIDs = references.map(\.spanID)
        return try await database.read { db in
            var found: Set<UInt64> = []
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM span_id WHERE span_id = ?")
            for spanID in spanIDs where try Bool.fetchOne(statement, arguments: [Int64(bitPattern: spanID)]) != nil {
                found.insert(spanID)
            }
            return found
        }
    }
}
