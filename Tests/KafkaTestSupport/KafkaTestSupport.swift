/// Helpers shared by the test targets: embedded brokers, consumers, waiting.
import Kafka
import Foundation
import Logging

/// A name no other test uses, so tests can share nothing and run in parallel.
public func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
}

public let testLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
    return logger
}()

/// Starts an embedded broker for one test (no fixed port, so tests run side by side): the native
/// one, or librdkafka's mock for tests of several brokers or of injected faults.
public func withEmbeddedBroker<T>(
    brokers: Int = 1, topics: [KafkaTopicDefinition] = [], engine: EmbeddedBrokerEngine = .native,
    retainedBytesPerPartition: Int? = nil,
    _ body: (EmbeddedBroker) async throws -> T
) async throws -> T {
    var configuration = EmbeddedBrokerConfiguration(brokerCount: brokers, port: nil, topics: topics, engine: engine)
    if let retainedBytesPerPartition { configuration.retainedBytesPerPartition = retainedBytesPerPartition }
    let broker = try await EmbeddedBroker.start(configuration, logger: testLogger)
    do {
        let result = try await body(broker)
        await broker.stop()
        return result
    } catch {
        await broker.stop()
        throw error
    }
}

public func producerConfiguration(_ broker: EmbeddedBroker) -> KafkaProducerConfiguration {
    KafkaProducerConfiguration(kafka: KafkaConfiguration(brokers: [broker.bootstrapServers]))
}

public func consumerConfiguration(_ broker: EmbeddedBroker, group: String, topics: [String]) -> KafkaConsumerConfiguration {
    var configuration = KafkaConsumerConfiguration(kafka: KafkaConfiguration(brokers: [broker.bootstrapServers]), groupID: group, topics: topics)
    configuration.sessionTimeout = .seconds(6)
    configuration.heartbeatInterval = .milliseconds(500)
    configuration.commitInterval = .milliseconds(200)
    return configuration
}

/// Runs a consumer's poll loop in the background for the duration of `body`.
public func withRunningConsumer<T>(_ consumer: KafkaConsumer, _ body: () async throws -> T) async throws -> T {
    let task = Task { try await consumer.run() }
    do {
        let result = try await body()
        task.cancel()
        try await task.value
        return result
    } catch {
        task.cancel()
        try? await task.value
        throw error
    }
}

/// Reads batches until `count` messages arrived or `timeout` passed; returns what arrived.
public func collect(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(20), storeOffsets: Bool = true) async -> [KafkaMessage] {
    let reader = Task {
        var received: [KafkaMessage] = []
        for await batch in consumer.batches(storeOffsetsAutomatically: storeOffsets) {
            received += batch
            if received.count >= count {
                if storeOffsets { consumer.storeOffsets(batch) }
                break
            }
        }
        return received
    }
    let timer = Task {
        try await Task.sleep(for: timeout)
        reader.cancel()
    }
    let received = await reader.value
    timer.cancel()
    return received
}

/// Polls `condition` until it holds or `timeout` passes.
public func eventually(timeout: Duration = .seconds(60), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await condition()
}
