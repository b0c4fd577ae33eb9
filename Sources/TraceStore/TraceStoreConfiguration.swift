/// Where the store keeps its file, how much it keeps, and how it batches writes.
public struct TraceStoreConfiguration: Sendable {
    /// The SQLite file (created with its folder if absent).
    public var path: String
    /// Chunks older than this are deleted, oldest first; `nil` keeps them regardless of age.
    public var maxAge: Duration? = .seconds(24 * 3600)
    /// Past this many bytes in use, the oldest chunks are deleted until 90% of it is left;
    /// `nil` sets no limit. The file keeps its largest size: freed pages are reused.
    public var maxBytes: Int64? = 2 << 30
    /// Spans are written at least this often.
    public var flushInterval: Duration = .milliseconds(250)
    /// A write starts as soon as this many spans wait.
    public var flushSpans = 20_000
    /// At most this many spans wait to be written; past it, ``TraceStore/ingest(_:)`` refuses
    /// (the receiver answers 503 with `Retry-After`). This bounds the store's memory.
    public var maxPendingSpans = 200_000
    /// Past this size the write-ahead log is checkpointed in full and truncated before the next
    /// write (the writer waits meanwhile, and the receiver's buffer answers 503 if it fills):
    /// under steady ingest the background checkpoints never catch up with the writer, and the
    /// log grew without end (40 GB in a 1,000,000-order run).
    public var maxWALBytes: Int64 = 256 << 20
    /// How often retention runs.
    public var retentionInterval: Duration = .seconds(10)
    /// SQLite's page cache of the writing connection, in bytes (each reading connection has an
    /// eighth of it). The indexes a write inserts into should fit: about 50 bytes per stored span.
    public var cacheBytes = 256 << 20

    public init(path: String) {
        self.path = path
    }
}
