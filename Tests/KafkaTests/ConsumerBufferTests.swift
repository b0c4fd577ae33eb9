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
}
