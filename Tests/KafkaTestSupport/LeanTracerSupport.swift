import LeanTracing
import Logging
import OTLPWire
import ServiceLifecycle
import Synchronization

/// Runs `body` with a lean tracer whose service exports only when it shuts down (after `body`),
/// and returns every span it exported (decoded again when the tracer `encodesSpans`).
public func withLeanTracer(
    sampler: Sampler = .parentBased(root: .alwaysOn), limits: SpanLimits = SpanLimits(), capacity: Int = 10_000,
    propagatesBaggage: Bool = true, encodesSpans: Bool = false, _ body: (LeanTracer) async throws -> Void
) async throws -> [SpanData] {
    let tracer = LeanTracer(sampler: sampler, limits: limits, bufferCapacity: capacity, propagatesBaggage: propagatesBaggage, encodesSpans: encodesSpans)
    let exported = Mutex<[SpanData]>([])
    var configuration = LeanTracingService.Configuration()
    configuration.scheduleDelay = .seconds(60)  // only the flush at shutdown exports
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let service = LeanTracingService(tracer: tracer, configuration: configuration, logger: quiet) { batch in
        exported.withLock { $0 += batch.spanData }
        return true
    }
    let group = ServiceGroup(services: [service], logger: quiet)
    try await withThrowingTaskGroup { tasks in
        tasks.addTask { try await group.run() }
        try await body(tracer)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
    return exported.withLock { $0 }
}
