import Foundation
import Kafka
import Logging
import OrderModel
import Pipeline

/// What the topics held when an audit read them.
public struct AuditSnapshot: Sendable {
    public var clientOrders: [ClientOrder] = []
    /// Each client order's record timestamp, by order.
    public var receivedAt: [OrderKey: Int64] = [:]
    /// Set when a partition no longer holds its first records: only orders received after it
    /// are audited (``RetentionHorizon``).
    public var horizon: RetentionHorizon?
    public var batches: [Batch] = []
    public var fills: [Fill] = []
    public var updates: [OrderUpdate] = []
    public var unreadable: [String: Int] = [:]
    public var conflictingDuplicates = 0

    /// Since when the audit read every record written, when it followed the topics as a run went
    /// on (``AuditFollower``) instead of reading what they hold at the end.
    public var followedSince: Date?
    /// The first order read for each key (the order manager keeps the first of two orders with
    /// one key; so does the audit).
    private var seenOrders: [OrderKey: ClientOrder] = [:]

    public static func read(topics: PipelineTopics, kafka: KafkaConfiguration, timeout: Duration, logger: Logger) async throws -> AuditSnapshot {
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
        for message in messages { snapshot.add(message, topics: topics) }
        return snapshot
    }

    /// Decodes one record of the audited topics into the snapshot.
    public mutating func add(_ message: KafkaMessage, topics: PipelineTopics) {
        switch message.topic {
        case topics.clientOrders:
            guard case .success(let order) = ClientOrder.decode(json: message.value) else {
                unreadable[message.topic, default: 0] += 1
                return
            }
            if let known = seenOrders[order.orderKey] {
                if known != order { conflictingDuplicates += 1 }
                return
            }
            seenOrders[order.orderKey] = order
            clientOrders.append(order)
            if let timestamp = message.timestampMilliseconds { receivedAt[order.orderKey] = timestamp }
        case topics.batches:
            if case .success(let batch) = Batch.decode(json: message.value) { batches.append(batch) } else { unreadable[message.topic, default: 0] += 1 }
        case topics.fills:
            if case .success(let fill) = Fill.decode(json: message.value) { fills.append(fill) } else { unreadable[message.topic, default: 0] += 1 }
        case topics.orderUpdates:
            if case .success(let update) = OrderUpdate.decode(json: message.value) { updates.append(update) } else { unreadable[message.topic, default: 0] += 1 }
        default:
            break
        }
    }

    /// Reads `topics` from the start to the end offsets they have now; also says which partitions
    /// no longer start at offset 0 (the broker deleted their first records).
    public static func readToEnd(
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
            throw AuditError(description: "audit: could not read \(missing.keys.sorted().map(\.description).joined(separator: ", ")) to the end within \(timeout)")
        }
        return (messages, truncated)
    }

    /// Orders refused before batching: a `rejected` update without a batch, for an order that
    /// is not a valid client order (the order manager answers those, then forgets them).
    public var intakeRejections: Set<OrderKey> {
        let valid = Set(clientOrders.map(\.orderKey))
        return Set(updates.filter { $0.status == .rejected && $0.batchId == nil && !valid.contains($0.orderKey) }.map(\.orderKey))
    }

    /// The records the audit checks: all of them, or those after the horizon.
    public var audited: AuditSnapshot {
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

    public func violations(requireTerminal: Bool) -> [InvariantViolation] {
        let audited = self.audited
        let refused = audited.intakeRejections
        return OrderAudit.violations(
            clientOrders: audited.clientOrders, batches: audited.batches, fills: audited.fills,
            updates: audited.updates.filter { !refused.contains($0.orderKey) }, requireTerminal: requireTerminal)
    }

    public init() {}
}

/// Why an audit could not read what it needs.
public struct AuditError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}
