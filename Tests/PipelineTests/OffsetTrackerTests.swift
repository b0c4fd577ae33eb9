import Kafka
import Pipeline
import Testing

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
}
