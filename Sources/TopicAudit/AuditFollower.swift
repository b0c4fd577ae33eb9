import Foundation
import Kafka
import Logging
import OrderModel
import Pipeline
import Synchronization

/// Reads the audited topics from where they end when it starts, as they grow, so that the audit
/// of a long run sees every record written during it, also those the broker deletes before the
/// run ends (the embedded broker keeps about 5 MB per partition; see *Capacity of the embedded
/// broker* in the README).
///
/// It reads in a consumer group of its own whose offsets are set to the topics' ends at the start,
/// and decodes each record as it comes (``AuditSnapshot/add(_:topics:)``), so it holds the decoded
/// orders, batches, fills and updates, not the records. A record deleted before it was read is a
/// gap the consumer counts; then the follower cannot vouch for the run and says so.
public final class AuditFollower: Sendable {
    public let startedAt: Date
    private let topics: PipelineTopics
    private let admin: KafkaAdmin
    private let consumer: KafkaConsumer
    private let poller: Task<Void, any Error>
    private let reader: Task<Void, Never>
    private let state: Shared

    private final class Shared: Sendable {
        let mutex: Mutex<State>
        init(_ state: State) { mutex = Mutex(state) }
        func withLock<T: Sendable>(_ body: (inout State) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    private struct State: Sendable {
        var snapshot = AuditSnapshot()
        /// The offset after the last record read, per partition.
        var next: [KafkaTopicPartition: Int64]
    }

    /// Starts following `topics`' client-orders, batches, fills and order-updates at their ends now.
    public static func start(topics: PipelineTopics, kafka: KafkaConfiguration, logger: Logger) async throws -> AuditFollower {
        let names = [topics.clientOrders, topics.batches, topics.fills, topics.orderUpdates]
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        let partitions = try await admin.topics().filter { names.contains($0.name) }.flatMap { topic in
            (0..<Int32(topic.partitionCount)).map { KafkaTopicPartition(topic: topic.name, partition: $0) }
        }
        let startedAt = Date()
        let ends = try await admin.watermarks(of: partitions).mapValues(\.high)
        guard ends.count == partitions.count else {
            throw AuditError(description: "audit: cannot read where \(Set(partitions).subtracting(ends.keys).sorted().map(\.description).joined(separator: ", ")) end")
        }
        let group = "ordertrace-audit-\(UInt32.random(in: 0...UInt32.max))"
        try await admin.commitOffsets(group: group, offsets: ends)
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(kafka: kafka, groupID: group, topics: names), logger: logger)
        let follower = AuditFollower(startedAt: startedAt, topics: topics, admin: admin, consumer: consumer, starts: ends)
        // Reading starts once the group has its partitions (a few seconds on a fresh group):
        // records written before then are read too, but a fast run could pass the broker's
        // retention in that time.
        let deadline = ContinuousClock.now + .seconds(60)
        while consumer.assignment.count < partitions.count {
            guard ContinuousClock.now < deadline else {
                await follower.stop()
                throw AuditError(description: "audit: its consumer group got no partitions within 60 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return follower
    }

    private init(startedAt: Date, topics: PipelineTopics, admin: KafkaAdmin, consumer: KafkaConsumer, starts: [KafkaTopicPartition: Int64]) {
        self.startedAt = startedAt
        self.topics = topics
        self.admin = admin
        self.consumer = consumer
        let state = Shared(State(next: starts))
        self.state = state
        poller = Task { try await consumer.run() }
        reader = Task {
            for await batch in consumer.batches() {
                state.withLock { state in
                    for message in batch {
                        state.snapshot.add(message, topics: topics)
                        let partition = KafkaTopicPartition(topic: message.topic, partition: message.partition)
                        state.next[partition] = max(state.next[partition] ?? 0, message.offset + 1)
                    }
                }
            }
        }
    }

    /// Everything written since the start, read up to the topics' ends now; it keeps following.
    /// - Throws: when the broker deleted records before they were read (the run cannot be
    ///   vouched for), or the ends are not reached within `timeout`.
    public func snapshot(timeout: Duration) async throws -> AuditSnapshot {
        let ends = try await admin.watermarks(of: state.withLock { Array($0.next.keys) }).mapValues(\.high)
        let deadline = ContinuousClock.now + timeout
        while true {
            let lost = consumer.lostMessageCount
            if lost > 0 {
                throw AuditError(description: "audit: the broker deleted \(lost) records before the audit read them (it fell behind the broker's retention), so this run cannot be audited in full")
            }
            let snapshot: AuditSnapshot? = state.withLock { state in
                ends.allSatisfy { state.next[$0.key, default: 0] >= $0.value } ? state.snapshot : nil
            }
            if var snapshot {
                snapshot.followedSince = startedAt
                // Only orders received since the start are read; the horizon drops batches that
                // also hold earlier ones.
                snapshot.horizon = RetentionHorizon(milliseconds: Int64.min)
                return snapshot
            }
            guard ContinuousClock.now < deadline else {
                throw AuditError(description: "audit: could not read the topics to their ends within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Stops reading and leaves the group.
    public func stop() async {
        poller.cancel()
        _ = try? await poller.value
        reader.cancel()
        await reader.value
    }
}
