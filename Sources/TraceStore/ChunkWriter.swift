import Foundation
import GRDB
import GRDBSQLite
import OTLPWire

/// One write: the spans waiting, grouped by trace into chunks, and their index entries, in one
/// transaction. Index entries are inserted in key order, which keeps SQLite's B-trees warm.
enum ChunkWriter {
    static func write(_ batches: [ExportedSpans], received: Int64, db: Database) throws {
        // Group by trace, keeping each span's origin.
        var traces: [TraceID: [(origin: Int, span: SpanData)]] = [:]
        for (index, batch) in batches.enumerated() {
            for span in batch.spans {
                traces[span.traceID, default: []].append((index, span))
            }
        }
        var spanRows: [(spanID: Int64, trace: TraceID, chunk: Int64)] = []
        var businessRows: [BusinessRow: Int64] = [:]
        var linkRows: [LinkRow: Int64] = [:]
        var orders: [String: OrderUpdate] = [:]
        spanRows.reserveCapacity(batches.reduce(0) { $0 + $1.spans.count })

        let insertChunk = try db.cachedStatement(
            sql: "INSERT INTO chunk(trace_hi, trace_lo, received, span_count, data) VALUES (?, ?, ?, ?, ?)")
        for (traceID, members) in traces.sorted(by: { $0.key.high < $1.key.high }) {
            let data = encode(members, batches: batches)
            try insertChunk.execute(arguments: [
                Int64(bitPattern: traceID.high), Int64(bitPattern: traceID.low), received, members.count, Data(data),
            ])
            let chunk = db.lastInsertedRowID
            for (_, span) in members {
                spanRows.append((Int64(bitPattern: span.spanID), traceID, chunk))
                for link in span.links where link.traceID != traceID {
                    linkRows[LinkRow(target: link.traceID.high, source: traceID)] = chunk
                }
                var orderID: String?
                var userID: String?
                var status: String?
                for attribute in span.attributes {
                    guard let key = BusinessKey(attribute: attribute.key), case .string(let value) = attribute.value, !value.isEmpty else {
                        if attribute.key == "order.status", case .string(let value) = attribute.value { status = value }
                        continue
                    }
                    businessRows[BusinessRow(key: key.rawValue, value: value, trace: traceID)] = chunk
                    if key == .clientOrderID { orderID = value }
                    if key == .userID { userID = value }
                }
                if let orderID {
                    orders[orderID, default: OrderUpdate()].add(span, userID: userID, status: status, chunk: chunk)
                }
            }
        }
        try insertSpanIDs(spanRows, db: db)
        let insertBusiness = try db.cachedStatement(sql: """
            INSERT INTO business_id(key, value, trace_hi, trace_lo, chunk) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET chunk = excluded.chunk
            """)
        for (row, chunk) in businessRows.sorted(by: { ($0.key.key, $0.key.value) < ($1.key.key, $1.key.value) }) {
            try insertBusiness.execute(arguments: [
                row.key, row.value, Int64(bitPattern: row.trace.high), Int64(bitPattern: row.trace.low), chunk,
            ])
        }
        let insertLink = try db.cachedStatement(sql: """
            INSERT INTO link_target(target_hi, source_hi, source_lo, chunk) VALUES (?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET chunk = excluded.chunk
            """)
        for (row, chunk) in linkRows.sorted(by: { $0.key.target < $1.key.target }) {
            try insertLink.execute(arguments: [
                Int64(bitPattern: row.target), Int64(bitPattern: row.source.high), Int64(bitPattern: row.source.low), chunk,
            ])
        }
        let upsertOrder = try db.cachedStatement(sql: """
            INSERT INTO client_order(order_id, user_id, trace_hi, trace_lo, has_root, received, status, status_time, completed, span_count, chunk)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(order_id) DO UPDATE SET
                user_id = CASE WHEN excluded.user_id <> '' THEN excluded.user_id ELSE user_id END,
                trace_hi = CASE WHEN excluded.has_root > has_root THEN excluded.trace_hi ELSE trace_hi END,
                trace_lo = CASE WHEN excluded.has_root > has_root THEN excluded.trace_lo ELSE trace_lo END,
                has_root = max(has_root, excluded.has_root),
                received = min(received, excluded.received),
                status = CASE WHEN excluded.status <> '' AND excluded.status_time >= status_time THEN excluded.status ELSE status END,
                status_time = CASE WHEN excluded.status <> '' AND excluded.status_time >= status_time THEN excluded.status_time ELSE status_time END,
                completed = max(completed, excluded.completed),
                span_count = span_count + excluded.span_count,
                chunk = max(chunk, excluded.chunk)
            """)
        for (orderID, order) in orders {
            try upsertOrder.execute(arguments: [
                orderID, order.userID, Int64(bitPattern: order.trace.high), Int64(bitPattern: order.trace.low), order.hasRoot ? 1 : 0,
                order.received, order.status, order.statusTime, order.completed ? 1 : 0, order.spanCount, order.chunk,
            ])
        }
    }

    /// The span id index takes one row per span: bound through SQLite's C API, without
    /// GRDB's argument boxing.
    private static func insertSpanIDs(_ rows: [(spanID: Int64, trace: TraceID, chunk: Int64)], db: Database) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO span_id(span_id, trace_hi, trace_lo, chunk) VALUES (?, ?, ?, ?)")
        let raw = statement.sqliteStatement
        for row in rows.sorted(by: { $0.spanID < $1.spanID }) {
            sqlite3_reset(raw)
            sqlite3_bind_int64(raw, 1, row.spanID)
            sqlite3_bind_int64(raw, 2, Int64(bitPattern: row.trace.high))
            sqlite3_bind_int64(raw, 3, Int64(bitPattern: row.trace.low))
            sqlite3_bind_int64(raw, 4, row.chunk)
            let code = sqlite3_step(raw)
            guard code == SQLITE_DONE else {
                sqlite3_reset(raw)
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
            }
        }
        sqlite3_reset(raw)
    }

    /// A chunk's data: one `ExportTraceServiceRequest` per origin, concatenated, which is itself
    /// one valid request (protobuf appends repeated fields).
    static func encode(_ members: [(origin: Int, span: SpanData)], batches: [ExportedSpans]) -> [UInt8] {
        var byOrigin: [Int: [SpanData]] = [:]
        for (origin, span) in members {
            byOrigin[origin, default: []].append(span)
        }
        if byOrigin.count == 1, let (origin, spans) = byOrigin.first {
            return OTLPTraceEncoder.protobuf(spans, origin: batches[origin].origin)
        }
        var data: [UInt8] = []
        for (origin, spans) in byOrigin.sorted(by: { $0.key < $1.key }) {
            data += OTLPTraceEncoder.protobuf(spans, origin: batches[origin].origin)
        }
        return data
    }
}

struct BusinessRow: Hashable {
    var key: Int
    var value: String
    var trace: TraceID
}

struct LinkRow: Hashable {
    var target: UInt64
    var source: TraceID
}

/// What one write learns of one client order.
struct OrderUpdate {
    var userID = ""
    var trace = TraceID(high: 0, low: 0)
    var hasRoot = false
    var received = Int64.max
    var status = ""
    var statusTime: Int64 = 0
    var completed = false
    var spanCount = 0
    var chunk: Int64 = 0

    mutating func add(_ span: SpanData, userID: String?, status: String?, chunk: Int64) {
        if let userID { self.userID = userID }
        let isRoot = span.name == "client_order_received"
        if isRoot || (!hasRoot && !trace.isValid) {
            trace = span.traceID
        }
        hasRoot = hasRoot || isRoot
        let start = Int64(span.startTimeUnixNano / 1000)
        received = min(received, start)
        let end = Int64(span.endTimeUnixNano / 1000)
        if let status, end >= statusTime {
            self.status = status
            statusTime = end
        }
        completed = completed || span.name == "order_completed"
        spanCount += 1
        self.chunk = max(self.chunk, chunk)
    }
}
