import Logging
import Metrics
import OTLPWire
import ServiceLifecycle

/// Drains the lean tracer's buffer every `scheduleDelay` and hands the spans, in batches of at
/// most `maxExportBatchSize` (as values, or encoded when the tracer encodes), to `export`
/// (OTLP/HTTP in production). Runs as a Service, first
/// in the process's group so that it stops last: on graceful shutdown it exports what is left
/// and returns.
///
/// When the backend is slow or down, spans wait in the bounded buffer; past its capacity they
/// are dropped and counted (`ordertrace_tracer_spans_dropped_total`, and a warning at most every
/// 10 s). The pipeline is never blocked.
public struct LeanTracingService: Service {
    public struct Configuration: Sendable, Hashable {
        public var scheduleDelay: Duration = .milliseconds(100)
        public var maxExportBatchSize = 8_192

        public init() {}

        /// Reads `OTEL_BSP_SCHEDULE_DELAY` (ms) and `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
        public static func fromEnvironment(_ environment: [String: String]) -> Configuration {
            var configuration = Configuration()
            if let value = environment["OTEL_BSP_SCHEDULE_DELAY"].flatMap(Int64.init), value >= 0 {
                configuration.scheduleDelay = .milliseconds(value)
            }
            if let value = environment["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"].flatMap(Int.init), value > 0 {
                configuration.maxExportBatchSize = value
            }
            return configuration
        }
    }

    public typealias Export = @Sendable (_ batch: SpanBatch) async -> Bool

    let tracer: LeanTracer
    let configuration: Configuration
    let export: Export
    let logger: Logger

    public init(tracer: LeanTracer, configuration: Configuration = Configuration(), logger: Logger, export: @escaping Export) {
        self.tracer = tracer
        self.configuration = configuration
        self.export = export
        self.logger = logger
    }

    public func run() async throws {
        // Ended spans, counted as the drain takes them from the buffer or as they are dropped:
        // ended = exported + failed + dropped.
        let ended = Counter(label: "ordertrace_tracer_spans_ended_total")
        let exported = Counter(label: "ordertrace_tracer_spans_exported_total")
        let failed = Counter(label: "ordertrace_tracer_spans_failed_total")
        let dropped = Counter(label: "ordertrace_tracer_spans_dropped_total")
        var reportedDrops = 0
        var lastWarning = ContinuousClock.now - .seconds(60)
        var lastLostWarning = ContinuousClock.now - .seconds(60)
        var lostSinceWarning = 0
        func exportBuffered() async {
            // Once an export failed (after the exporter's own retries), the rest of this drain is
            // counted as lost rather than retried batch by batch: a backend that is down must not
            // stretch a drain (or a shutdown) to minutes. The next drain tries again.
            var backendFailed = false
            var lost = 0
            func send(_ batch: SpanBatch) async {
                guard !batch.isEmpty else { return }
                if backendFailed {
                    lost += batch.count
                } else if await export(batch) {
                    exported.increment(by: batch.count)
                } else {
                    backendFailed = true
                    lost += batch.count
                }
            }
            // Each shard is sent as it is (a shard that fits is not copied), or in runs of at
            // most `maxExportBatchSize`.
            for shard in tracer.buffer.drainShards() {
                ended.increment(by: shard.count)
                for batch in shard.split(maxCount: configuration.maxExportBatchSize) { await send(batch) }
            }
            if lost > 0 {
                failed.increment(by: lost)
                lostSinceWarning += lost
                if ContinuousClock.now - lastLostWarning >= .seconds(10) {
                    logger.warning("could not export \(lostSinceWarning) spans (the OTLP backend failed); they are lost")
                    lastLostWarning = .now
                    lostSinceWarning = 0
                }
            }
            let drops = tracer.buffer.dropped
            if drops > reportedDrops {
                ended.increment(by: drops - reportedDrops)
                dropped.increment(by: drops - reportedDrops)
                if ContinuousClock.now - lastWarning >= .seconds(10) {
                    logger.warning("\(drops - reportedDrops) spans dropped: the tracing buffer (\(tracer.buffer.capacity) spans) was full; \(drops) since the start")
                    lastWarning = .now
                }
                reportedDrops = drops
            }
        }
        // A drain every `scheduleDelay`, counted from the start of the previous one, so that a
        // slow export does not stretch the period (and the buffer fills no further than that).
        var next = ContinuousClock.now + configuration.scheduleDelay
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let deadline = next
            if deadline > .now {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(until: deadline) }
            }
            next = max(next + configuration.scheduleDelay, .now)
            await exportBuffered()
        }
        // Shutting down: what is left goes out (each export attempt has its own timeout).
        await exportBuffered()
    }
}
