import KafkaTestSupport
import Synchronization
import Testing

@testable import Kafka

/// A producer's close ends its polling thread's poll at once instead of waiting out its timeout.
@Suite("Waking a producer's poll", .timeLimit(.minutes(1)))
struct PollWakeTests {
    @Test("a poll that would wait forever returns when another thread wakes it")
    func wakeEndsAPollWithoutTimeout() async throws {
        try await withEmbeddedBroker { broker in
            let client = try RDKafkaClient(
                kind: .producer, properties: producerConfiguration(broker).librdkafkaProperties, callbacks: .init(logger: testLogger))
            let stop = Flag()
            // Polls without a timeout until told to stop: only a wake-up can end a poll with
            // nothing to serve, so without one this thread never finishes and the test times out.
            let started = Flag()
            let thread = BlockingThread(name: "poll-wake-test") {
                started.value.store(true, ordering: .releasing)
                while !stop.value.load(ordering: .acquiring) { client.poll(timeoutMilliseconds: -1) }
            }
            // A wake-up that comes before the poll starts ends the next poll: librdkafka keeps it.
            while !started.value.load(ordering: .acquiring) { await Task.yield() }
            stop.value.store(true, ordering: .releasing)
            client.wakePoll()
            await thread.join()
        }
    }
}

private final class Flag: Sendable {
    let value = Atomic(false)
}
