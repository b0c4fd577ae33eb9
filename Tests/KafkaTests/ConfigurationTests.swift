import Foundation
import Kafka
import KafkaTestSupport
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test("the environment sets brokers, client id and pass-through properties")
    func environment() throws {
        let configuration = try KafkaConfiguration.fromEnvironment([
            "KAFKA_BROKERS": "kafka-1:9092, kafka-2:9092",
            "KAFKA_CLIENT_ID": "gateway-7",
            "KAFKA_PROPERTIES": "security.protocol=SASL_SSL; sasl.mechanisms=PLAIN\nsasl.username = alice",
        ])
        #expect(configuration.brokers == ["kafka-1:9092", "kafka-2:9092"])
        #expect(configuration.clientID == "gateway-7")
        #expect(configuration.properties == ["security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN", "sasl.username": "alice"])
    }

    @Test("defaults point at the local broker")
    func defaults() throws {
        let configuration = try KafkaConfiguration.fromEnvironment([:])
        #expect(configuration.brokers == ["127.0.0.1:9092"])
        #expect(configuration.properties.isEmpty)
    }

    @Test("KAFKA_FETCH_MAX_WAIT_MS sets the consumers' fetch wait; anything but milliseconds is refused")
    func fetchWait() throws {
        let configuration = try KafkaConfiguration.fromEnvironment(["KAFKA_FETCH_MAX_WAIT_MS": "5"])
        let consumer = KafkaConsumerConfiguration(kafka: configuration, groupID: "g", topics: ["t"])
        #expect(consumer.fetchMaxWait == .milliseconds(5))
        #expect(KafkaConsumerConfiguration(kafka: try KafkaConfiguration.fromEnvironment([:]), groupID: "g", topics: ["t"]).fetchMaxWait == .milliseconds(50))
        for bad in ["soon", "-1", "5ms"] {
            #expect(throws: KafkaError.self, "\(bad)") { try KafkaConfiguration.fromEnvironment(["KAFKA_FETCH_MAX_WAIT_MS": bad]) }
        }
    }

    @Test("a property line that is not name=value is rejected with its text")
    func malformedPropertyLine() {
        let error = #expect(throws: KafkaError.self) {
            try KafkaConfiguration.fromEnvironment(["KAFKA_PROPERTIES": "linger.ms"])
        }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("linger.ms") == true)
    }

    @Test("an unknown or invalid librdkafka property is an error naming it, not a crash", arguments: [
        ["no.such.property": "1"],
        ["linger.ms": "soon"],
        ["security.protocol": "carrier-pigeon"],
    ])
    func invalidProperty(properties: [String: String]) throws {
        let name = try #require(properties.keys.first)
        var producerConfiguration = KafkaProducerConfiguration()
        producerConfiguration.kafka.properties = properties
        let producerError = #expect(throws: KafkaError.self) { try KafkaProducer(configuration: producerConfiguration, logger: testLogger) }
        #expect(producerError?.code == .configuration)
        #expect(producerError?.message.contains(name) == true)

        let consumerConfiguration = KafkaConsumerConfiguration(kafka: KafkaConfiguration(properties: properties), groupID: "g", topics: ["t"])
        let consumerError = #expect(throws: KafkaError.self) { try KafkaConsumer(configuration: consumerConfiguration, logger: testLogger) }
        #expect(consumerError?.message.contains(name) == true)
    }

    @Test("headers keep one value per key; setting again replaces in place")
    func headerSetSemantics() {
        let pairs: [(String, [UInt8]?)] = [("a", [1]), ("b", [2]), ("a", [3])]
        var headers = KafkaHeaders(pairs)
        #expect(headers.count == 2)
        #expect(headers["a"] == [3])
        headers.set("b", "x")
        headers.set("c", bytes: nil)
        #expect(headers.map { $0.key } == ["a", "b", "c"])
        #expect(headers.string("b") == "x")
        #expect(headers.contains("c") && headers["c"] == nil)
        headers["a"] = nil
        #expect(headers.map { $0.key } == ["b", "c"])
    }

    @Test("a key repeated on the wire reads as its last value")
    func repeatedReceivedHeader() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("repeated")
            try broker.createTopic(topic, partitions: 1)
            // kcat appends every -H it is given, as other clients may.
            let kcat = Process()
            kcat.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
            kcat.arguments = ["-b", broker.bootstrapServers, "-P", "-t", topic, "-H", "traceparent=first", "-H", "traceparent=second"]
            let input = Pipe()
            kcat.standardInput = input
            try kcat.run()
            input.fileHandleForWriting.write(Data("value\n".utf8))
            try input.fileHandleForWriting.close()
            kcat.waitUntilExit()
            #expect(kcat.terminationStatus == 0)
            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [topic]), logger: testLogger)
            let message = try #require(try await withRunningConsumer(consumer) { await collect(consumer, count: 1) }.first)
            #expect(message.headers.filter { $0.key == "traceparent" }.count == 2, "received headers are kept as sent")
            #expect(message.headers.string("traceparent") == "second")
        }
    }
}
