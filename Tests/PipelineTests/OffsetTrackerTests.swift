import Kafka
import Pipeline
import Testing
import TestSupport

@Suite("OffsetTracker: offsets move only past finished records of the current assignment")
struct OffsetTrackerTests {
    static let partition = KafkaTopicPartition(topic: "t", partition: 0)
    static let other = KafkaTopicPartition(topic: "t", partition: 1)

    static func message(_ offset: Int64, generation: UInt64, partition: KafkaTopicPartition = partition) -> KafkaMessage {
        KafkaMessage(topic: partition.topic, partition: partition.partition, offset: offset, key: nil, value: [], assignmentGeneration: generation)
    }

    @Test("after a revoke and a reassignment, re-read records are new work and old pending work cannot move the offset")
    func reassignmentStartsThePartitionAfresh() {
        var tracker = OffsetTracker()
        // Generation 1 reads 0, 1, 2; 1 is finished, 0 and 2 are pending when the partition is revoked.
        let first = (0...2).map { tracker.add(Self.message($0, generation: 1)) }
        #expect(tracker.finish([first[1]]).isEmpty)
        // Reassigned: the records are read again from the committed offset (0), in generation 2.
        let second = (0...2).map { tracker.add(Self.message($0, generation: 2)) }
        #expect(second.map(\.generation) == [2, 2, 2])
        #expect(tracker.pendingCount == 3, "the re-read records are all pending work")
        // The re-read 0 is done; the re-read 1 is not (its first copy's finish was in generation 1).
        #expect(tracker.finish([second[0]]) == [KafkaRecordID(partition: Self.partition, offset: 0, generation: 2)])
        // Work left pending from generation 1 is finished late: it moves nothing.
        #expect(tracker.finish([first[0], first[2]]).isEmpty)
        #expect(tracker.pendingCount == 2)
        // The re-read records finish: the offset moves over them.
        #expect(tracker.finish([second[2]]).isEmpty, "1 is still pending in generation 2")
        #expect(tracker.finish([second[1]]) == [KafkaRecordID(partition: Self.partition, offset: 2, generation: 2)])
        #expect(tracker.pendingCount == 0)
    }

    @Test("records finish in any order; the offset moves to the last one done with everything before it")
    func outOfOrderFinishes() {
        var tracker = OffsetTracker()
        let ids = (100..<106).map { tracker.add(Self.message($0, generation: 3)) }
        let others = (7..<9).map { tracker.add(Self.message($0, generation: 3, partition: Self.other)) }
        #expect(tracker.finish([ids[4], ids[2], others[1]]).isEmpty)
        #expect(tracker.finish([ids[0], others[0]]) == [ids[0], others[1]])
        #expect(tracker.finish([ids[1]]) == [ids[2]])
        #expect(tracker.finish([ids[5], ids[3]]) == [ids[5]])
        #expect(tracker.pendingCount == 0)
    }

    @Test("a pending record below finished ones holds the offset, also when its offset is finished in another generation")
    func pendingRecordHoldsTheOffset() {
        var tracker = OffsetTracker()
        let old = (0...3).map { tracker.add(Self.message($0, generation: 1)) }
        #expect(tracker.finish([old[1], old[2], old[3]]).isEmpty, "0 is pending")
        // Revoked and reassigned: 0...3 are read again; only 1...3 are finished this time.
        let new = (0...3).map { tracker.add(Self.message($0, generation: 2)) }
        #expect(tracker.finish([new[1], new[2], new[3]]).isEmpty, "0 is pending in generation 2")
        // The old copy of 0 finishes: it must not release the new copy of 0.
        #expect(tracker.finish([old[0]]).isEmpty)
        #expect(tracker.pendingCount == 1)
        #expect(tracker.finish([new[0]]) == [new[3]])
    }

    @Test("a finish for a record of an older generation than the partition's is ignored, a duplicate finish changes nothing")
    func staleAndRepeatedFinishes() {
        var tracker = OffsetTracker()
        let a = tracker.add(Self.message(5, generation: 4))
        #expect(tracker.finish([a]) == [a])
        #expect(tracker.finish([a]).isEmpty)
        let b = tracker.add(Self.message(6, generation: 4))
        #expect(tracker.finish([KafkaRecordID(partition: Self.partition, offset: 6, generation: 3)]).isEmpty)
        #expect(tracker.pendingCount == 1)
        #expect(tracker.finish([b]) == [b])
    }

    @Test("against a plain model over 30,000 random steps: records added one by one or in runs, finished in order, out of order, twice, or from an older generation, partitions reassigned")
    func matchesAPlainModel() {
        var random = SplitMix64(seed: 0x0FF5_E7)
        var tracker = OffsetTracker()
        var model = OffsetModel()
        let partitions = [Self.partition, Self.other, KafkaTopicPartition(topic: "u", partition: 0)]
        var next: [KafkaTopicPartition: Int64] = [:]
        var generation: [KafkaTopicPartition: UInt64] = [:]
        var outstanding: [KafkaRecordID] = []
        var compared = 0
        for step in 0..<30_000 {
            // No rebalance in the first half: partitions grow past the point where the tracker
            // drops the records it has stored.
            let choice = Int.random(in: 0..<100, using: &random)
            switch step < 15_000 ? choice % 90 : choice {
            case 0..<45:
                // A poll: a few records of each of some partitions, in partition order, added as a run or one by one.
                var messages: [KafkaMessage] = []
                for partition in partitions where Bool.random(using: &random) {
                    for _ in 0..<Int.random(in: 1...8, using: &random) {
                        let offset = next[partition, default: 0]
                        next[partition] = offset + Int64.random(in: 1...2, using: &random)
                        messages.append(Self.message(offset, generation: generation[partition, default: 1], partition: partition))
                    }
                }
                let ids = Bool.random(using: &random) ? tracker.add(contentsOf: messages) : messages.map { tracker.add($0) }
                guard ids == messages.map(KafkaRecordID.init) else {
                    Issue.record("step \(step): ids \(ids)")
                    return
                }
                for message in messages { model.add(message) }
                outstanding += ids
            case 45..<90:
                // A step finishes some records: mostly the oldest in order, sometimes shuffled, repeated or stale.
                guard !outstanding.isEmpty else { continue }
                let count = Int.random(in: 1...min(40, outstanding.count), using: &random)
                var records = Array(outstanding.prefix(count))
                outstanding.removeFirst(count)
                if Int.random(in: 0..<4, using: &random) == 0 { records.shuffle(using: &random) }
                if Int.random(in: 0..<8, using: &random) == 0, let again = records.first { records.append(again) }
                if Int.random(in: 0..<10, using: &random) == 0 {
                    // Kept back, finished in a later step (a held record).
                    let held = records.removeLast()
                    outstanding.insert(held, at: min(outstanding.count, Int.random(in: 0...20, using: &random)))
                }
                let (safe, expected) = (tracker.finish(records), model.finish(records))
                guard safe == expected else {
                    Issue.record("step \(step): finishing \(records) stored \(safe), not \(expected)")
                    return
                }
                compared += 1
            case 90..<95:
                // A reassignment: the partition is read again from an earlier offset, in a newer generation.
                let partition = partitions.randomElement(using: &random)!
                generation[partition, default: 1] += 1
                next[partition] = max(0, next[partition, default: 0] - Int64.random(in: 0...30, using: &random))
            default:
                // A revoke: the partition is forgotten; its records' finishes are ignored from now on.
                let partition = partitions.randomElement(using: &random)!
                tracker.forget([partition])
                model.forget(partition)
                generation[partition, default: 1] += 1
            }
            let pending = partitions.map { tracker.pendingCount(of: $0) }
            guard tracker.pendingCount == model.pendingCount, pending == partitions.map({ model.pendingCount(of: $0) }) else {
                Issue.record("step \(step): \(pending) pending, not \(partitions.map { model.pendingCount(of: $0) })")
                return
            }
        }
        #expect(compared > 10_000)
    }
}

/// What `OffsetTracker` must do, written plainly: per partition, the generation, the offsets
/// tracked past the last one stored, the ones of those done, and the last offset tracked.
private struct OffsetModel {
    struct Partition {
        var generation: UInt64
        var offsets: [Int64] = []
        var done: Set<Int64> = []
        var lastTracked: Int64
    }

    var partitions: [KafkaTopicPartition: Partition] = [:]

    mutating func add(_ message: KafkaMessage) {
        let id = KafkaRecordID(message)
        if let existing = partitions[id.partition], existing.generation >= id.generation {
            guard existing.generation == id.generation, id.offset > existing.lastTracked else { return }
            partitions[id.partition]!.offsets.append(id.offset)
            partitions[id.partition]!.lastTracked = id.offset
        } else {
            partitions[id.partition] = Partition(generation: id.generation, offsets: [id.offset], lastTracked: id.offset)
        }
    }

    mutating func finish(_ records: [KafkaRecordID]) -> [KafkaRecordID] {
        var touched: Set<KafkaTopicPartition> = []
        for record in records {
            guard var partition = partitions[record.partition], partition.generation == record.generation,
                partition.offsets.contains(record.offset), !partition.done.contains(record.offset)
            else { continue }
            partition.done.insert(record.offset)
            partitions[record.partition] = partition
            touched.insert(record.partition)
        }
        var safe: [KafkaRecordID] = []
        for key in touched.sorted() {
            var partition = partitions[key]!
            var stored = 0
            while stored < partition.offsets.count, partition.done.contains(partition.offsets[stored]) { stored += 1 }
            guard stored > 0 else { continue }
            safe.append(KafkaRecordID(partition: key, offset: partition.offsets[stored - 1], generation: partition.generation))
            for offset in partition.offsets.prefix(stored) { partition.done.remove(offset) }
            partition.offsets.removeFirst(stored)
            partitions[key] = partition
        }
        return safe
    }

    mutating func forget(_ partition: KafkaTopicPartition) {
        partitions[partition] = nil
    }

    func pendingCount(of key: KafkaTopicPartition) -> Int {
        guard let partition = partitions[key] else { return 0 }
        return partition.offsets.count - partition.done.count
    }

    var pendingCount: Int { partitions.keys.reduce(0) { $0 + pendingCount(of: $1) } }
}
