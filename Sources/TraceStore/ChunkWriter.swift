import Foundation
import GRDB
import GRDBSQLite
import OTLPWire

/// One write: the prepared requests waiting, merged per trace into chunks (their encoded spans
/// concatenated), and their index entries, in one transaction. Rows are inserted in key order,
/// which keeps SQLite's B-trees warm, and bound through SQLite's C API (GRDB owns the
/// connection, the transaction and the statement cache).
enum ChunkWriter {
    static func write(_ requests: [PreparedSpans], received: Int64, db: Database) throws {
        // Merge per trace.
        var traces: [TraceID: (data: [UInt8], spanIDs: [UInt64])] = [:]
        for request in requests {
            for chunk in request.chunks {
                if var existing = traces.removeValue(forKey: chunk.traceID) {
                    existing.data += chunk.data
                    existing.spanIDs += chunk.spanIDs
                    traces[chunk.traceID] = existing
                } else {
                    traces[chunk.traceID] = (chunk.data, chunk.spanIDs)
                }
            }
        }
        var chunkOf: [TraceID: Int64] = [:]
        chunkOf.reserveCapacity(traces.count)
        var spanRows: [(spanID: Int64, trace: TraceID, chunk: Int64)] = []
        spanRows.reserveCapacity(requests.reduce(0) { $0 + $1.spanCount })

        let insertChunk = try RawStatement(db, "INSERT INTO chunk(trace_hi, trace_lo, received, span_count, data) VALUES (?, ?, ?, ?, ?)")
        for (traceID, chunk) in traces.sorted(by: { $0.key.high < $1.key.high }) {
            try insertChunk.run { statement in
                statement.bind(1, traceID.high)
                statement.bind(2, traceID.low)
                statement.bind(3, received)
                statement.bind(4, Int64(chunk.spanIDs.count))
                statement.bind(5, blob: chunk.data)
            }
            let id = db.lastInsertedRowID
            chunkOf[traceID] = id
            for spanID in chunk.spanIDs {
                spanRows.append((Int64(bitPattern: spanID), traceID, id))
            }
        }

        let insertSpan = try RawStatement(db, "INSERT OR REPLACE INTO span_id(span_id, trace_hi, trace_lo, chunk) VALUES (?, ?, ?, ?)")
        for row in spanRows.sorted(by: { $0.spanID < $1.spanID }) {
            try insertSpan.run { statement in
                statement.bind(1, row.spanID)
                statement.bind(2, row.trace.high)
                statement.bind(3, row.trace.low)
                statement.bind(4, row.chunk)
            }
        }

        let insertBusiness = try RawStatement(db, """
            INSERT INTO business_id(key, value, trace_hi, trace_lo, chunk) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET chunk = excluded.chunk
            """)
        for row in requests.flatMap(\.businessIDs).sorted(by: { ($0.key, $0.value) < ($1.key, $1.value) }) {
            try insertBusiness.run { statement in
                statement.bind(1, Int64(row.key))
                statement.bind(2, text: row.value)
                statement.bind(3, row.trace.high)
                statement.bind(4, row.trace.low)
                statement.bind(5, chunkOf[row.trace] ?? 0)
            }
        }

        let insertLink = try RawStatement(db, """
            INSERT INTO link_target(target_hi, source_hi, source_lo, chunk) VALUES (?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET chunk = excluded.chunk
            """)
        for row in requests.flatMap(\.links).sorted(by: { $0.target < $1.target }) {
            try insertLink.run { statement in
                statement.bind(1, row.target)
                statement.bind(2, row.source.high)
                statement.bind(3, row.source.low)
                statement.bind(4, chunkOf[row.source] ?? 0)
            }
        }

        var orders: [String: OrderUpdate] = [:]
        for request in requests {
            for (orderID, update) in request.orders {
                orders[orderID, default: OrderUpdate()].merge(update)
            }
        }
        let upsertOrder = try RawStatement(db, """
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
        for (orderID, order) in orders.sorted(by: { $0.key < $1.key }) {
            try upsertOrder.run { statement in
                statement.bind(1, text: orderID)
                statement.bind(2, text: order.userID)
                statement.bind(3, order.trace.high)
                statement.bind(4, order.trace.low)
                statement.bind(5, Int64(order.hasRoot ? 1 : 0))
                statement.bind(6, order.received)
                statement.bind(7, text: order.status)
                statement.bind(8, order.statusTime)
                statement.bind(9, Int64(order.completed ? 1 : 0))
                statement.bind(10, Int64(order.spanCount))
                statement.bind(11, chunkOf[order.trace] ?? 0)
            }
        }
    }
}

/// A cached GRDB statement run with values bound through SQLite's C API, without GRDB's
/// argument boxing: the writer inserts hundreds of thousands of rows a second.
struct RawStatement {
    let statement: Statement
    let db: Database

    init(_ db: Database, _ sql: String) throws {
        self.statement = try db.cachedStatement(sql: sql)
        self.db = db
    }

    struct Binder {
        let raw: OpaquePointer

        func bind(_ index: Int32, _ value: Int64) {
            sqlite3_bind_int64(raw, index, value)
        }

        func bind(_ index: Int32, _ value: UInt64) {
            sqlite3_bind_int64(raw, index, Int64(bitPattern: value))
        }

        func bind(_ index: Int32, text: String) {
            var text = text
            text.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) { characters in
                    if let base = characters.baseAddress {
                        _ = sqlite3_bind_text(raw, index, base, Int32(characters.count), transient)
                    } else {
                        _ = sqlite3_bind_text(raw, index, "", 0, transient)
                    }
                }
            }
        }

        func bind(_ index: Int32, blob: [UInt8]) {
            blob.withUnsafeBytes { bytes in
                _ = sqlite3_bind_blob(raw, index, bytes.baseAddress, Int32(bytes.count), transient)
            }
        }
    }

    func run(_ bind: (Binder) -> Void) throws {
        let raw = statement.sqliteStatement
        sqlite3_reset(raw)
        bind(Binder(raw: raw))
        let code = sqlite3_step(raw)
        sqlite3_reset(raw)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
        }
    }
}

/// SQLite copies the value (`SQLITE_TRANSIENT`).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
