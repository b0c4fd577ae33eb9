import Foundation
import GRDB
import Logging
import OTLPWire
import ServiceLifecycle
import Synchronization

/// The explorer's span store: SQLite through GRDB, one file that survives restarts.
///
/// ``ingest(_:)`` takes decoded spans without waiting and without blocking: they wait in a
/// bounded buffer, and ``run()`` writes them every ``TraceStoreConfiguration/flushInterval`` (or
/// as soon as ``TraceStoreConfiguration/flushSpans`` wait) in one transaction, grouped by trace
/// (see ``migrator``). When the buffer is full, `ingest` refuses and says so; nothing is dropped
/// without the sender knowing. Reads run on their own connections, beside the writes (WAL).
///
/// Spans acknowledged by `ingest` but not yet written are lost if the process is killed
/// (SIGKILL, power loss): at most one flush interval's worth. A graceful stop writes them.
public final class TraceStore: Service, Sendable {
    let database: DatabasePool
    /// Checkpoints the WAL, so that the writer never waits for a copy and its sync.
    let checkpointer: DatabaseQueue
    private let checkpointing = Mutex(false)
    let configuration: TraceStoreConfiguration
    let logger: Logger
    private let pending: Mutex<Pending>
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    let counters = Mutex(Counters())

    struct Pending {
        var requests: [PreparedSpans] = []
        var spans = 0
        /// Spans taken by a write that has not finished: they still count against the limit.
        var writing = 0
    }

    struct Counters {
        var ingestedSpans = 0
        var lastRetention = ContinuousClock.now
    }

    /// Opens (or creates) the store at ``TraceStoreConfiguration/path``.
    /// - Throws: `DatabaseError` when the file cannot be opened or is not a store.
    public init(configuration: TraceStoreConfiguration, logger: Logger = Logger(label: "ordertrace.trace-store")) throws {
        let folder = (configuration.path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var options = Configuration()
        options.maximumReaderCount = 4
        options.busyMode = .timeout(5)
        // Readers look up a few pages each; the writer keeps the indexes it inserts into warm.
        let readerCacheKiB = max(configuration.cacheBytes / 8 / 1024, 1024)
        options.prepareDatabase { db in
            try db.execute(sql: "PRAGMA cache_size = -\(readerCacheKiB)")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        let database = try DatabasePool(path: configuration.path, configuration: options)
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -\(max(configuration.cacheBytes / 1024, 1024))")
            // The writer does not checkpoint (copy the WAL into the database and sync it): a
            // connection of its own does, beside the writes (``checkpointIfDue()``).
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            // A WAL that grew under a burst is cut back to 64 MB once a checkpoint caught up.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        try Self.migrator.migrate(database)
        var checkpointOptions = Configuration()
        checkpointOptions.busyMode = .timeout(5)
        self.checkpointer = try DatabaseQueue(path: configuration.path, configuration: checkpointOptions)
        self.database = database
        self.configuration = configuration
        self.logger = logger
        self.pending = Mutex(Pending())
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Hands spans over to be written. Returns `false`, taking nothing, when the buffer is
    /// full: the caller should ask the sender to retry later.
    public func ingest(_ batches: [ExportedSpans]) -> Bool {
        let count = batches.reduce(0) { $0 + $1.spans.count }
        guard count > 0 else { return true }
        // Refuse before preparing when the buffer is full already.
        guard pending.withLock({ $0.spans + $0.writing == 0 || $0.spans + $0.writing + count <= configuration.maxPendingSpans }) else {
            wake.yield()
            return false
        }
        let prepared = PreparedSpans(batches)
        let accepted: Bool
        let full: Bool
        (accepted, full) = pending.withLock { pending in
            let held = pending.spans + pending.writing
            if held > 0 && held + count > configuration.maxPendingSpans {
                return (false, true)
            }
            pending.requests.append(prepared)
            pending.spans += count
            return (true, pending.spans >= configuration.flushSpans)
        }
        if accepted {
            counters.withLock { $0.ingestedSpans += count }
        }
        if full {
            wake.yield()
        }
        return accepted
    }

    /// Spans accepted but not written yet.
    public var pendingSpans: Int { pending.withLock { $0.spans + $0.writing } }

    /// Writes every span accepted so far, then returns.
    public func flush() async throws {
        let (requests, count) = pending.withLock { pending in
            defer {
                pending.writing += pending.spans
                pending.requests = []
                pending.spans = 0
            }
            return (pending.requests, pending.spans)
        }
        guard !requests.isEmpty else { return }
        let received = Int64(Date().timeIntervalSince1970 * 1_000_000)
        do {
            try await database.write { db in
                try ChunkWriter.write(requests, received: received, db: db)
            }
            pending.withLock { $0.writing -= count }
        } catch {
            // Nothing was written (the transaction rolled back): keep the spans for the next
            // write, ahead of those that came since. Until then, ingest refuses past the limit.
            pending.withLock { pending in
                pending.requests = requests + pending.requests
                pending.spans += count
                pending.writing -= count
            }
            throw error
        }
    }

    /// Writes spans as they come and applies retention, until graceful shutdown; then writes
    /// what is left.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await writeLoop()
        } onGracefulShutdown: {
            self.stopWriting()
        }
    }

    /// Writes spans as they come and applies retention until ``stopWriting()``; then writes what
    /// is left. For an owner that orders its own shutdown (the explorer stops its servers first).
    public func writeLoop() async throws {
        let wake = self.wake
        let interval = configuration.flushInterval
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                wake.yield()
            }
        }
        defer { ticker.cancel() }
        for await _ in wakes {
            do {
                try await flush()
                try await truncateWALIfTooLarge()
                checkpointIfDue()
                try await retainIfDue()
            } catch {
                logger.error("could not write spans", metadata: ["error": "\(error)"])
            }
        }
        try await flush()
    }

    /// Starts a checkpoint on its own connection unless one is running: it copies what the WAL
    /// holds into the database without blocking the writer (`PASSIVE`), and truncates the WAL
    /// when it caught up.
    func checkpointIfDue() {
        guard checkpointing.withLock({ running in
            defer { running = true }
            return !running
        }) else { return }
        Task.detached { [self] in
            do {
                try await checkpointer.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
                }
            } catch {
                logger.debug("checkpoint did not finish", metadata: ["error": "\(error)"])
            }
            checkpointing.withLock { $0 = false }
        }
    }

    /// When the write-ahead log is past ``TraceStoreConfiguration/maxWALBytes``: a checkpoint
    /// that copies all of it and truncates it, on the writer's connection, so no write adds to
    /// it meanwhile (readers finish first; the busy timeout bounds the wait).
    func truncateWALIfTooLarge() async throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: configuration.path + "-wal")[.size] as? NSNumber)?.int64Value ?? 0
        guard size > configuration.maxWALBytes else { return }
        let started = ContinuousClock.now
        try await database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        logger.info("write-ahead log of \(size >> 20) MB checkpointed and truncated in \(started.duration(to: .now))")
    }

    /// Ends ``writeLoop()`` after one last write.
    public func stopWriting() {
        wake.finish()
    }

    /// Closes the database. Call after ``run()`` returned (or without it, after ``flush()``).
    public func close() throws {
        try checkpointer.close()
        try database.close()
    }
}
