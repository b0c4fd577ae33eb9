import Kafka
import Logging

/// Reads `count` records in a new consumer group and times it from the first record received to
/// the last (the group join counts for nothing); `onBatch` sees every batch.
func consumeTimed(
    _ settings: KafkaConsumerConfiguration, count: Int, logger: Logger, onBatch: ([KafkaMessage]) -> Void
) async throws -> (received: Int, seconds: Double, longestGap: Duration) {
    let consumer = try KafkaConsumer(configuration: settings, logger: logger)
    let polling = Task { try await consumer.run() }
    var received = 0
    var first: ContinuousClock.Instant?
    var last: ContinuousClock.Instant?
    var longestGap = Duration.zero
    for await batch in consumer.batches() {
        let now = ContinuousClock.now
        if first == nil { first = now }
        if let last { longestGap = max(longestGap, now - last) }
        last = now
        onBatch(batch)
        received += batch.count
        if received >= count { break }
    }
    let seconds = ((ContinuousClock.now) - (first ?? .now)).seconds
    polling.cancel()
    try await polling.value
    return (received, seconds, longestGap)
}
