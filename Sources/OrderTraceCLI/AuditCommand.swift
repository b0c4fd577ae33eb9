import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import Logging
import OrderModel
import Pipeline

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

/// What the topics held when an audit read them.
struct AuditSnapshot {
    var clientOrders: [ClientOrder] = []
    /// Each client order's record timestamp, by order.
    var receivedAt: [OrderKey: Int64] = [:]
    /// Set when a partition no longer holds its first records: only orders received after it
    /// are audited (``RetentionHorizon``).
    var horizon: RetentionHorizon?
    var batches: [Batch] = []
    var fills: [Fill] = []
    var updates: [OrderUpdate] = []
    var unreadable: [String: Int] = [:]
    var conflictingDuplicates = 0

    static func read(topics: PipelineTopics, kafka: KafkaConfiguration, timeout: Duration, logger: Logger) async throws -> AuditSnapshot {
        let names = [topics.clientOrders, topics.batches, topics.fills, topics.orderUpdates]
        let (messages, truncated) = try await readToEnd(names, kafka: kafka, timeout: timeout, logger: logger)
        var snapshot = AuditSnapshot()
        // The horizon: the latest first-retained record among the partitions that lost records.
        var firstRead: [KafkaTopicPartition: (offset: Int64, timestamp: Int64?)] = [:]
        for message in messages {
            let partition = KafkaTopicPartition(topic: message.topic, partition: message.partition)
            guard truncated.contains(partition) else { continue }
            if let known = firstRead[partition], known.offset <= message.offset { continue }
            firstRead[partition] = (message.offset, message.timestampMilliseconds)
        }
        if !truncated.isEmpty {
            // A partition that lost records without a timestamp on what is left: nothing is safe.
            let horizons = truncated.map { firstRead[$0]?.timestamp ?? Int64.max }
            snapshot.horizon = RetentionHorizon(milliseconds: horizons.max() ?? Int64.max)
        }
        var seenOrders: [OrderKey: ClientOrder] = [:]
        for message in messages {
            switch message.topic {
            case topics.clientOrders:
                // The order manager keeps the first of two orders with one key; so does the audit.
                guard case .success(let order) = ClientOrder.decode(json: message.value) else {
                    snapshot.unreadable[message.topic, default: 0] += 1
                    continue
                }
                if let known = seenOrders[order.orderKey] {
                    if known != order { snapshot.conflictingDuplicates += 1 }
                    continue
                }
                seenOrders[order.orderKey] = order
                snapshot.clientOrders.append(order)
                if let timestamp = message.timestampMilliseconds { snapshot.receivedAt[order.orderKey] = timestamp }
            case topics.batches:
                if case .success(let batch) = Batch.decode(json: message.value) { snapshot.batches.append(batch) } else { snapshot.unreadable[message.topic, default: 0] += 1 }
            case topics.fills:
                if case .success(let fill) = Fill.decode(json: message.value) { snapshot.fills.append(fill) } else { snapshot.unreadable[message.topic, default: 0] += 1 }
            default:
                if case .success(let update) = OrderUpdate.decode(json: message.value) { snapshot.updates.append(update) } else { snapshot.unreadable[message.topic, default: 0] += 1 }
            }
        }
        return snapshot
    }

    /// Reads `topics` from the start to the end offsets they have now; also says which partitions
    /// no longer start at offset 0 (the broker deleted their first records).
    static func readToEnd(
        _ topics: [String], kafka: KafkaConfiguration, timeout: Duration, logger: Logger
    ) async throws -> (messages: [KafkaMessage], truncated: Set<KafkaTopicPartition>) {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        let metadata = try await admin.topics()
        var remaining: [KafkaTopicPartition: Int64] = [:]
        var truncated: Set<KafkaTopicPartition> = []
        for topic in metadata where topics.contains(topic.name) {
            for partition in 0..<Int32(topic.partitionCount) {
                let marks = try await admin.watermarks(topic: topic.name, partition: partition)
                let key = KafkaTopicPartition(topic: topic.name, partition: partition)
                if marks.high > marks.low { remaining[key] = marks.high - 1 }
                if marks.low > 0 { truncated.insert(key) }
            }
        }
        guard !remaining.isEmpty else { return ([], truncated) }
        var configuration = KafkaConsumerConfiguration(kafka: kafka, groupID: "ordertrace-audit-\(UInt32.random(in: 0...UInt32.max))", topics: topics)
        configuration.initialOffset = .beginning
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let poller = Task { try await consumer.run() }
        let reader = Task { [remaining] in
            var remaining = remaining
            var messages: [KafkaMessage] = []
            for await batch in consumer.batches() {
                for message in batch {
                    let partition = KafkaTopicPartition(topic: message.topic, partition: message.partition)
                    guard let last = remaining[partition] else { continue }
                    if message.offset <= last { messages.append(message) }
                    if message.offset >= last { remaining[partition] = nil }
                }
                if remaining.isEmpty { break }
            }
            return (messages, remaining)
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            reader.cancel()
        }
        let (messages, missing) = await reader.value
        timer.cancel()
        poller.cancel()
        try? await poller.value
        if !missing.isEmpty {
            throw CommandError(description: "audit: could not read \(missing.keys.sorted().map(\.description).joined(separator: ", ")) to the end within \(timeout)")
        }
        return (messages, truncated)
    }

    /// Orders refused before batching: a `rejected` update without a batch, for an order that
    /// is not a valid client order (the order manager answers those, then forgets them).
    var intakeRejections: Set<OrderKey> {
        let valid = Set(clientOrders.map(\.orderKey))
        return Set(updates.filter { $0.status == .rejected && $0.batchId == nil && !valid.contains($0.orderKey) }.map(\.orderKey))
    }

    /// The records the audit checks: all of them, or those after the horizon.
    var audited: AuditSnapshot {
        guard let horizon else { return self }
        let window = horizon.window(
            clientOrders: clientOrders.map { ($0, receivedAt[$0.orderKey]) }, batches: batches, fills: fills, updates: updates)
        var audited = self
        audited.clientOrders = window.clientOrders
        audited.batches = window.batches
        audited.fills = window.fills
        audited.updates = window.updates
        return audited
    }

    func violations(requireTerminal: Bool) -> [InvariantViolation] {
        let audited = self.audited
        let refused = audited.intakeRejections
        return OrderAudit.violations(
            clientOrders: audited.clientOrders, batches: audited.batches, fills: audited.fills,
            updates: audited.updates.filter { !refused.contains($0.orderKey) }, requireTerminal: requireTerminal)
    }

    func printSummary(violations: [InvariantViolation]) {
        if let horizon {
            let audited = self.audited
            let time = Date(timeIntervalSince1970: Double(horizon.milliseconds) / 1000)
            say("audit: the broker no longer holds the oldest records of some partitions (retention): auditing the \(audited.clientOrders.count) orders received after \(horizon.milliseconds == Int64.max ? "the end" : time.formatted(.iso8601)) whose whole life it holds; \(clientOrders.count - audited.clientOrders.count) earlier ones (or in a batch with one) left out")
            if audited.clientOrders.isEmpty && !clientOrders.isEmpty {
                say("audit: WARNING: the broker holds the whole life of none of its orders, so nothing was checked; on the embedded broker keep runs shorter (it keeps about 5 MB per partition), or use a real Kafka (the compose stack)")
            }
            audited.printCounts(violations: violations)
            return
        }
        printCounts(violations: violations)
    }

    private func printCounts(violations: [InvariantViolation]) {
        var terminal: [OrderStatus: Int] = [:]
        var last: [OrderKey: OrderStatus] = [:]
        for update in updates { last[update.orderKey] = update.status }
        for (_, status) in last { terminal[status, default: 0] += 1 }
        let open = clientOrders.filter { !(last[$0.orderKey]?.isTerminal ?? false) }.count
        say("audit: \(clientOrders.count) client orders, \(batches.count) batches, \(fills.count) fills, \(updates.count) order updates")
        say("  orders by last status: " + terminal.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))
        say("  not yet terminal: \(open); refused at intake: \(intakeRejections.count)")
        if !unreadable.isEmpty {
            say("  unreadable records (dead-lettered by the pipeline): " + unreadable.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if conflictingDuplicates > 0 { say("  client orders repeating a key with other content (ignored, as the order manager does): \(conflictingDuplicates)") }
        if violations.isEmpty {
            say("audit: OK, every invariant holds")
        } else {
            say("audit: \(violations.count) VIOLATIONS")
            for violation in violations.prefix(50) { say("  \(violation)") }
            if violations.count > 50 { say("  ... and \(violations.count - 50) more") }
        }
    }
}
