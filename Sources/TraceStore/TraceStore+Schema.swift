import GRDB

extension TraceStore {
    /// The schema, as migrations: a file written by an older version is brought up to date when
    /// it is opened.
    ///
    /// Spans are kept in chunks: one row per trace per write, holding that trace's spans as an
    /// OTLP `ExportTraceServiceRequest` in protobuf form. The indexes point at traces, not at
    /// spans, except `span_id`: so a write of 20,000 spans touches a few thousand index entries,
    /// in key order. Trace ids are split into two signed 64-bit integers (`_hi`, `_lo`).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE chunk(
                    id INTEGER PRIMARY KEY,
                    trace_hi INTEGER NOT NULL,
                    trace_lo INTEGER NOT NULL,
                    received INTEGER NOT NULL,
                    span_count INTEGER NOT NULL,
                    data BLOB NOT NULL);
                CREATE INDEX chunk_by_trace ON chunk(trace_hi);
                CREATE TABLE span_id(
                    span_id INTEGER PRIMARY KEY,
                    trace_hi INTEGER NOT NULL,
                    trace_lo INTEGER NOT NULL,
                    chunk INTEGER NOT NULL);
                CREATE TABLE business_id(
                    key INTEGER NOT NULL,
                    value TEXT NOT NULL,
                    trace_hi INTEGER NOT NULL,
                    trace_lo INTEGER NOT NULL,
                    chunk INTEGER NOT NULL,
                    PRIMARY KEY(key, value, trace_hi, trace_lo)) WITHOUT ROWID;
                CREATE TABLE link_target(
                    target_hi INTEGER NOT NULL,
                    source_hi INTEGER NOT NULL,
                    source_lo INTEGER NOT NULL,
                    chunk INTEGER NOT NULL,
                    PRIMARY KEY(target_hi, source_hi, source_lo)) WITHOUT ROWID;
                CREATE TABLE client_order(
                    order_id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    trace_hi INTEGER NOT NULL,
                    trace_lo INTEGER NOT NULL,
                    has_root INTEGER NOT NULL,
                    received INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    status_time INTEGER NOT NULL,
                    completed INTEGER NOT NULL,
                    span_count INTEGER NOT NULL,
                    chunk INTEGER NOT NULL);
                CREATE INDEX client_order_by_received ON client_order(received);
                """)
        }
        return migrator
    }
}
