import Testing

@testable import Kafka

/// The hand-over between the polling thread and the handler.
@Suite("ConsumerBuffer")
struct ConsumerBufferTests {
    static func batch(_ partition: Int32, _ offsets: Range<Int64>) -> [KafkaMessage] {
        offsets.map { KafkaMessage(topic: "t", partition: partition, offset: $0, key: nil, value: []) }
    }

    @Test("a handler that fell behind takes what waits in one batch, up to the largest batch, in order")
    func joinsWaitingBatches() async {
        let buffer = ConsumerBuffer(highWatermark: 10_000, lowWatermark: 100, maxBatchSize: 10)
        // Small polls, as a lightly loaded producer makes them.
        for start in stride(from: Int64(0), to: 12, by: 3) { _ = buffer.push(Self.batch(0, start..<start + 3)) }
        _ = buffer.push(Self.batch(1, 0..<2))
        let first = await buffer.next {}
        #expect(first?.map(\.offset) == [0, 1, 2, 3, 4, 5, 6, 7, 8])
        let second = await buffer.next {}
        #expect(second?.map(\.offset) == [9, 10, 11, 0, 1])
        #expect(second?.map(\.partition) == [0, 0, 0, 1, 1])
    }

    @Test("a batch larger than the largest batch is handed out whole, not split")
    func keepsALargePollWhole() async {
        let buffer = ConsumerBuffer(highWatermark: 10_000, lowWatermark: 100, maxBatchSize: 4)
        _ = buffer.push(Self.batch(0, 0..<6))
        _ = buffer.push(Self.batch(0, 6..<7))
        #expect(await buffer.next {}?.count == 6)
        #expect(await buffer.next {}?.count == 1)
    }

    /// What one `nextEvent` returned, as text.
    static func describe(_ event: KafkaConsumerEvent?) -> String {
        switch event {
        case .records(let batch): "records \(batch.map { "\($0.partition):\($0.offset)" }.joined(separator: ","))"
        case .assigned(let partitions): "assigned \(partitions.map(\.partition))"
        case .revoked(let revocation): "revoked \(revocation.partitions.map(\.partition))"
        case .tick: "tick"
        case nil: "end"
        }
    }

    @Test("records, rebalances and ticks come out in the order they went in; records join only up to the next event, and one tick waits at most")
    func eventsKeepTheirOrder() async {
        let buffer = ConsumerBuffer(highWatermark: 10_000, lowWatermark: 100, maxBatchSize: 100)
        let partition = KafkaTopicPartition(topic: "t", partition: 0)
        buffer.enqueue(.assigned([partition]))
        _ = buffer.push(Self.batch(0, 0..<2))
        _ = buffer.push(Self.batch(0, 2..<3))
        #expect(buffer.enqueue(.tick))
        #expect(buffer.enqueue(.tick), "a second tick while one waits is taken, and dropped")
        _ = buffer.push(Self.batch(0, 3..<4))
        buffer.enqueue(.revoked(KafkaRevocation(partitions: [partition], acknowledgement: .init())))
        buffer.enqueue(.tick)
        var seen: [String] = []
        for _ in 0..<5 { seen.append(Self.describe(await buffer.nextEvent {})) }
        #expect(seen == ["assigned [0]", "records 0:0,0:1,0:2", "tick", "records 0:3", "revoked [0]"], "the ticks pushed while one waited were dropped")
        // The waiting tick was taken: the next one is queued again.
        buffer.enqueue(.tick)
        buffer.finish()
        #expect(!buffer.enqueue(.tick), "nothing is taken once finished")
        #expect(Self.describe(await buffer.nextEvent {}) == "tick")
        #expect(Self.describe(await buffer.nextEvent {}) == "end")
    }

    @Test("the records-only reader skips other events")
    func batchesSkipEvents() async {
        let buffer = ConsumerBuffer(highWatermark: 10_000, lowWatermark: 100, maxBatchSize: 100)
        buffer.enqueue(.tick)
        _ = buffer.push(Self.batch(1, 0..<2))
        buffer.finish()
        #expect(await buffer.next {}?.map(\.offset) == [0, 1])
        #expect(await buffer.next {} == nil)
    }
}
