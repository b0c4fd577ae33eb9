import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import Logging
import OrderModel
import Pipeline
import Synchronization
import TopicAudit

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the invariants of the allocation rules over what the topics hold.",
        discussion: """
            Reads client-orders, batches, fills and order-updates from their start to their end
            as they are when the audit starts, checks the invariants of pipeline.md (fills fully
            allocated, quantities consistent, batch totals, exact average prices, idempotent
            fills, one terminal status, replay gives the same allocations), prints a summary and
            exits 1 on a violation. Orders refused at intake (dead-lettered or rejected before
            batching) are counted, not audited. When the broker no longer holds the oldest records
            (retention, or the embedded broker's 5 MB per partition), only the orders whose whole
            life it still holds are audited. With --follow it reads from now on instead, every
            record as it is written, until Ctrl-C or SIGTERM, then audits all of it: the way to
            audit a run longer than the broker keeps.
            """
    )

    @OptionGroup var kafka: KafkaOptions

    @Flag(help: "Also require every client order to have reached a terminal status.")
    var requireTerminal = false

    @Option(help: "Keep auditing every second until it passes or this many seconds passed.")
    var waitSeconds: Int = 0

    @Option(help: "Give up reading the topics after this many seconds.")
    var timeout: Int = 60

    @Flag(help: "Read every record written from now on, as it is written, until Ctrl-C or SIGTERM; then audit them.")
    var follow = false

    func run() async throws {
        let logger = Logs.bootstrap()
        let topics = PipelineTopics.fromEnvironment(ProcessInfo.processInfo.environment)
        let configuration = try kafka.configuration()
        var follower: AuditFollower?
        if follow {
            follower = try await AuditFollower.start(topics: topics, kafka: configuration, logger: logger)
            say("audit: reading every record of \(topics.clientOrders), \(topics.batches), \(topics.fills) and \(topics.orderUpdates) from now on; Ctrl-C (or SIGTERM) ends it and audits them")
            await Self.untilInterrupted()
        }
        let deadline = ContinuousClock.now + .seconds(waitSeconds)
        while true {
            let snapshot: AuditSnapshot
            if let follower {
                snapshot = try await follower.snapshot(timeout: .seconds(timeout))
            } else {
                snapshot = try await AuditSnapshot.read(topics: topics, kafka: configuration, timeout: .seconds(timeout), logger: logger)
            }
            let violations = snapshot.violations(requireTerminal: requireTerminal)
            if violations.isEmpty || ContinuousClock.now >= deadline {
                await follower?.stop()
                snapshot.printSummary(violations: violations)
                if !violations.isEmpty { throw ExitCode(1) }
                return
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Returns at the first SIGINT or SIGTERM (which then no longer end the process).
    static func untilInterrupted() async {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let fired = Mutex(false)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let sources = [SIGINT, SIGTERM].map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
            for source in sources {
                // Each handler keeps the sources alive until one fires.
                source.setEventHandler {
                    let first = fired.withLock { fired in
                        defer { fired = true }
                        return !fired
                    }
                    guard first else { return }
                    for source in sources { source.cancel() }
                    continuation.resume()
                }
                source.resume()
            }
        }
    }
}
