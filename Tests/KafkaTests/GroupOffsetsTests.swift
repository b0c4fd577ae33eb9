import Foundation
import Kafka
import KafkaTestSupport
import Testing

/// The look-ups lag sampling batches, against the embedded broker: many groups' committed
/// offsets through one handle, offsets committed without joining, watermarks of many partitions
/// at once, and many timestamps per partition in one forward read.
@Suite("Group offsets, watermarks and timestamps in batches", .timeLimit(.minutes(3)))
struct GroupOffsetsTests {
    @Test("offsets committed for several groups without joining read back per group, and agree with one group's look-up")
    func commitAndReadManyGroups() async throws {
        let topic = uniqueName("offsets")
        try await withEmbeddedBroker(topics: [KafkaTopicDefinition(name: topic, partitions: 4)]) { broker in
            _ = try await ConsumerLagTests.produce(broker, topic: topic, partitions: 4, perPartition: 10)
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
            let partitions = (0..<Int32(4)).map { KafkaTopicPartition(topic: topic, partition: $0) }
            let groups = (0..<5).map { _ in uniqueName("g") }
            var expected: [String: [KafkaTopicPartition: Int64]] = [:]
            for (index, group) in groups.enumerated() {
                // The last group commits on half the partitions only.
                let committed = index == groups.count - 1 ? Array(partitions.prefix(2)) : partitions
                expected[group] = Dictionary(uniqueKeysWithValues: committed.map { ($0, Int64(index + Int($0.partition))) })
                try await admin.commitOffsets(group: group, offsets: expected[group]!)
            }
            let never = uniqueName("never")
            let read = try await admin.committedOffsets(groups: (groups + [never]).map { ($0, partitions) })
            for group in groups {
                #expect(read[group] == expected[group], "\(group)")
                #expect(try await admin.committedOffsets(group: group, partitions: partitions) == expected[group])
            }
            #expect(read[never] == [:], "a group that never committed has no offsets")
        }
    }

    @Test("watermarks of many partitions at once are each partition's own")
    func watermarksOfManyPartitions() async throws {
        let topic = uniqueName("marks")
        try await withEmbeddedBroker(topics: [KafkaTopicDefinition(name: topic, partitions: 6)]) { broker in
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            var records: [KafkaProducerRecord] = []
            for partition in Int32(0)..<6 {
                for index in 0..<Int(partition) * 3 {
                    records.append(KafkaProducerRecord(topic: topic, partition: partition, key: nil as String?, value: Array("\(index)".utf8)))
                }
            }
            for outcome in try await producer.send(records) { _ = try outcome.get() }
            await producer.close()
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
            let partitions = (Int32(0)..<6).map { KafkaTopicPartition(topic: topic, partition: $0) }
            let marks = try await admin.watermarks(of: partitions + partitions)
            #expect(marks.count == 6)
            for partition in partitions {
                #expect(marks[partition]?.low == 0)
                #expect(marks[partition]?.high == Int64(partition.partition) * 3, "\(partition)")
                let one = try await admin.watermarks(topic: topic, partition: partition.partition)
                #expect(marks[partition]?.low == one.low && marks[partition]?.high == one.high)
            }
        }
    }

    @Test("many offsets of a partition are read in one pass, far-apart ones in another; the end has no timestamp")
    func timestampsOfManyOffsets() async throws {
        let topic = uniqueName("stamps")
        try await withEmbeddedBroker(topics: [KafkaTopicDefinition(name: topic, partitions: 2)]) { broker in
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            // Record i of each partition is stamped base + i seconds.
            let base = Int64(Date().timeIntervalSince1970 * 1_000) - 600_000
            var records: [KafkaProducerRecord] = []
            for partition in Int32(0)..<2 {
                for index in 0..<40 {
                    var record = KafkaProducerRecord(topic: topic, partition: partition, key: nil as String?, value: Array("\(index)".utf8))
                    record.timestampMilliseconds = base + Int64(index) * 1_000
                    records.append(record)
                }
            }
            for outcome in try await producer.send(records) { _ = try outcome.get() }
            await producer.close()
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
            let zero = KafkaTopicPartition(topic: topic, partition: 0)
            let one = KafkaTopicPartition(topic: topic, partition: 1)
            let read = try await admin.timestamps(of: [zero: [3, 7, 8, 39, 40], one: [0, 30]], maxGap: 10)
            #expect(read[zero] == [3: base + 3_000, 7: base + 7_000, 8: base + 8_000, 39: base + 39_000], "offset 40 is the end")
            #expect(read[one] == [0: base, 30: base + 30_000], "30 is more than maxGap past 0: a second pass")
            #expect(try await admin.timestamps(at: [zero: 5, one: 40]) == [zero: base + 5_000])
        }
    }
}
