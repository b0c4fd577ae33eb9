import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import Logging
import OrderModel
import Pipeline
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
            batching) are counted, not audited.
            """
    )

    @OptionGroup var kafka: KafkaOptions

    @Flag(help: "Also require every client order to have reached a terminal status.")
    var requireTerminal = false

    @Option(help: "Keep auditing every second until it passes or this many seconds passed.")
    var waitSeconds: Int = 0

    @Option(help: "Give up reading the topics after this many seconds.")
    var timeout: Int = 60

    func run() async throws {
        let logger = Logs.bootstrap()
        let topics = PipelineTopics.fromEnvironment(ProcessInfo.processInfo.environment)
        let configuration = try kafka.configuration()
        let deadline = ContinuousClock.now + .seconds(waitSeconds)
        while true {
            let snapshot = try await AuditSnapshot.read(topics: topics, kafka: configuration, timeout: .seconds(timeout), logger: logger)
            let violations = snapshot.violations(requireTerminal: requireTerminal)
            if violations.isEmpty || ContinuousClock.now >= deadline {
                snapshot.printSummary(violations: violations)
                if !violations.isEmpty { throw ExitCode(1) }
                return
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}
