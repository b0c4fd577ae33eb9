import Kafka
import Synchronization
import KafkaTestSupport
import Testing

@Suite("Producer and consumer against the embedded broker", .timeLimit(.minutes(2)))
struct ProducerConsumerTests {
    @Test("records round-trip with key, value and headers; a repeated header key keeps its last value")
    func roundTripWithHeaders() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("roundtrip")
            try broker.createTopic(topic, partitions: 2)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            var headers = KafkaHeaders([("traceparent", Array("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".utf8)), ("dup", Array("first".utf8))])
            headers.set("binary", bytes: [0, 255, 1, 128])
            headers.set("empty", bytes: [])
            headers.set("novalue", bytes: nil)
            headers.set("dup", "second")
            let records = [
                KafkaProducerRecord(topic: topic, key: "AAPL", value: Array(#"{"n":1}"#.utf8), headers: headers),
                KafkaProducerRecord(topic: topic, key: nil as String?, value: [], headers: KafkaHeaders()),
                KafkaProducerRecord(topic: topic, key: "MSFT", value: [0, 1, 2, 255]),
            ]
            let reports = try await producer.send(records).map { try $0.get() }
            #expect(reports.count == 3)
            #expect(reports.allSatisfy { $0.topic == topic && $0.offset != nil })
            await producer.close()

            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [topic]), logger: testLogger)
            let received = try await withRunningConsumer(consumer) { await collect(consumer, count: 3) }
            #expect(received.count == 3)
            let first = try #require(received.first { $0.keyString == "AAPL" })
            #expect(first.value == Array(#"{"n":1}"#.utf8))
            #expect(first.headers.string("traceparent") == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            #expect(first.headers["binary"] == [0, 255, 1, 128])
            #expect(first.headers["empty"] == [])
            #expect(first.headers.contains("novalue"))
            #expect(first.headers["novalue"] == nil)
            #expect(first.headers.filter { $0.key == "dup" }.count == 1)
            #expect(first.headers.string("dup") == "second")
            let unkeyed = try #require(received.first { $0.key == nil })
            #expect(unkeyed.value.isEmpty)
            #expect(unkeyed.headers.isEmpty)
            #expect(received.contains { $0.keyString == "MSFT" && $0.value == [0, 1, 2, 255] })
        }
    }

    @Test("a consumer that does not read headers gets every record's key and value and no headers; another group reads them")
    func consumerWithoutHeaders() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("noheaders")
            try broker.createTopic(topic, partitions: 2)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            var headers = KafkaHeaders()
            headers.set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            headers.set("baggage", "user.id=alice")
            let records = (0..<20).map { KafkaProducerRecord(topic: topic, key: "k\($0 % 4)", value: Array("v\($0)".utf8), headers: headers) }
            _ = try await producer.send(records).map { try $0.get() }
            await producer.close()

            var settings = consumerConfiguration(broker, group: uniqueName("g"), topics: [topic])
            settings.readsHeaders = false
            let bare = try KafkaConsumer(configuration: settings, logger: testLogger)
            let received = try await withRunningConsumer(bare) { await collect(bare, count: 20) }
            #expect(Set(received.map { String(decoding: $0.value, as: UTF8.self) }) == Set((0..<20).map { "v\($0)" }))
            #expect(received.allSatisfy { $0.keyString?.hasPrefix("k") == true && $0.headers.isEmpty })

            let reading = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [topic]), logger: testLogger)
            let withHeaders = try await withRunningConsumer(reading) { await collect(reading, count: 20) }
            #expect(withHeaders.count == 20)
            #expect(withHeaders.allSatisfy { $0.headers.string("baggage") == "user.id=alice" && $0.headers.contains("traceparent") })
        }
    }

    @Test("every record comes back with its own key, value and headers, in order, whatever names and values they have")
    func manyDifferentHeaders() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("headers")
            try broker.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            // Names of one length, prefixes of each other, non-ASCII, more distinct ones than the
            // consumer keeps decoded; values empty, absent, binary and long; keys present and absent.
            let names = ["traceparent", "tracestate", "tracepaREnt", "trace", "traceparentx", "é-name", "e-name"] + (0..<12).map { "n\($0)" }
            let records = (0..<300).map { index -> KafkaProducerRecord in
                var headers = KafkaHeaders()
                for offset in 0..<(index % 4) {
                    let name = names[(index + offset * 5) % names.count]
                    let value: [UInt8]? =
                        switch (index + offset) % 4 {
                        case 0: nil
                        case 1: []
                        case 2: [0, 255, UInt8(index % 256)]
                        default: Array(repeating: UInt8(index % 251), count: 300 + index)
                        }
                    headers.set(name, bytes: value)
                }
                let key: String? = index % 5 == 0 ? nil : "key-\(index)"
                return KafkaProducerRecord(topic: topic, key: key, value: Array("value \(index)".utf8), headers: headers)
            }
            let reports = try await producer.send(records).map { try $0.get() }
            #expect(reports.map(\.offset) == (0..<300).map { Int64($0) })
            await producer.close()

            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [topic]), logger: testLogger)
            let received = try await withRunningConsumer(consumer) { await collect(consumer, count: 300) }
            #expect(received.count == 300)
            for (sent, got) in zip(records, received) {
                #expect(got.key == sent.key)
                #expect(got.value == sent.value)
                #expect(Array(got.headers) == Array(sent.headers))
            }
        }
    }

    @Test("sends larger than librdkafka's queue, from two tasks at once, deliver every record and report each one once, in order")
    func sendsLargerThanTheQueue() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("bigsend")
            try broker.createTopic(topic, partitions: 3)
            var configuration = producerConfiguration(broker)
            configuration.maxQueuedMessages = 500
            let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
            let perSend = 3_000
            let reported = DeliveryCounts(count: 2 * perSend)
            @Sendable func send(_ first: Int) async throws -> [KafkaDeliveryReport] {
                let records = (first..<first + perSend).map { index in
                    KafkaProducerRecord(topic: topic, key: "k\(index % 7)", value: Array(String(index).utf8), headers: ["n": Array(String(index).utf8)])
                }
                return try await producer.send(records) { index, outcome in
                    if case .success = outcome { reported.counts.withLock { $0[first + index] += 1 } }
                }.map { try $0.get() }
            }
            async let firstHalf = send(0)
            async let secondHalf = send(perSend)
            let reports = try await firstHalf + secondHalf
            #expect(reports.count == 2 * perSend)
            #expect(reports.allSatisfy { $0.topic == topic && $0.offset != nil })
            #expect(reported.counts.withLock { $0 }.allSatisfy { $0 == 1 })
            // Per partition, the offsets are distinct: nothing was written twice.
            var offsets: [Int32: Set<Int64>] = [:]
            for report in reports { offsets[report.partition, default: []].insert(report.offset!) }
            #expect(offsets.values.reduce(0) { $0 + $1.count } == 2 * perSend)
            await producer.close()

            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [topic]), logger: testLogger)
            let received = try await withRunningConsumer(consumer) { await collect(consumer, count: 2 * perSend) }
            #expect(Set(received.map { String(decoding: $0.value, as: UTF8.self) }) == Set((0..<2 * perSend).map(String.init)))
            #expect(received.allSatisfy { $0.headers["n"] == $0.value })
            // Each result is its own record's: the record stored where report i says is record i.
            var stored: [KafkaRecordPlace: String] = [:]
            for message in received { stored[KafkaRecordPlace(partition: message.partition, offset: message.offset)] = String(decoding: message.value, as: UTF8.self) }
            let misplaced = reports.indices.filter { stored[KafkaRecordPlace(partition: reports[$0].partition, offset: reports[$0].offset ?? -1)] != String($0) }
            #expect(misplaced.isEmpty)
        }
    }
}

@Suite("Consumer groups, redelivery and faults", .timeLimit(.minutes(3)))
struct ConsumerGroupTests {
    @Test("two consumers of one group share the partitions, and one takes over when the other leaves")
    func twoConsumersShareAndTakeOver() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("shared")
            try broker.createTopic(topic, partitions: 4)
            let group = uniqueName("g")
            let first = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
            let second = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
            let firstTask = Task { try await first.run() }
            let secondTask = Task { try await second.run() }
            defer { firstTask.cancel() }
            let shared = await eventually {
                let a = Set(first.assignment)
                let b = Set(second.assignment)
                return a.count + b.count == 4 && !a.isEmpty && !b.isEmpty && a.isDisjoint(with: b)
            }
            #expect(shared, "assignments: \(first.assignment) and \(second.assignment)")

            secondTask.cancel()
            try await secondTask.value
            let tookOver = await eventually { first.assignment.count == 4 }
            #expect(tookOver, "after the second left, the first holds \(first.assignment)")

            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let records = (0..<40).map { KafkaProducerRecord(topic: topic, key: "k\($0)", value: Array("v\($0)".utf8)) }
            for outcome in try await producer.send(records) { _ = try outcome.get() }
            let received = await collect(first, count: 40)
            #expect(Set(received.map(\.value)) == Set(records.map(\.value)))
            #expect(Set(received.map(\.partition)).count > 1, "keys spread over several partitions")
            firstTask.cancel()
            try await firstTask.value
        }
    }

    @Test("records a consumer did not finish are delivered again to the next member; finished ones are not")
    func unfinishedRecordsAreRedelivered() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("redeliver")
            try broker.createTopic(topic, partitions: 1)
            let group = uniqueName("g")
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let records = (0..<10).map { KafkaProducerRecord(topic: topic, key: "k", value: Array("v\($0)".utf8)) }
            for outcome in try await producer.send(records) { _ = try outcome.get() }

            // Dies before its handler finishes: reads everything, marks nothing done.
            let crashing = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
            let unfinished = try await withRunningConsumer(crashing) { await collect(crashing, count: 10, storeOffsets: false) }
            #expect(unfinished.count == 10)

            // The next member gets all of them again, and finishes them.
            let next = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
            let again = try await withRunningConsumer(next) { await collect(next, count: 10) }
            #expect(again.map(\.offset) == unfinished.map(\.offset))
            #expect(again.map(\.value) == records.map(\.value))

            // Finished records are not delivered again: the next member starts at the new one
            // (one partition, so anything not committed would come first).
            _ = try await producer.send(KafkaProducerRecord(topic: topic, key: "k", value: Array("new".utf8)))
            let third = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
            let afterCommit = try await withRunningConsumer(third) { await collect(third, count: 1) }
            #expect(afterCommit.map(\.value) == [Array("new".utf8)])
            #expect(afterCommit.first?.offset == 10)
            await producer.close()
        }
    }

    @Test("a broker that goes down and comes back loses nothing")
    func brokerDownThenUp() async throws {
        try await withEmbeddedBroker(engine: .mock) { broker in
            let topic = uniqueName("outage")
            try broker.createTopic(topic, partitions: 2)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let before = (0..<100).map { KafkaProducerRecord(topic: topic, key: "k\($0)", value: Array("before-\($0)".utf8)) }
            for outcome in try await producer.send(before) { _ = try outcome.get() }

            try broker.setBroker(1, up: false)
            let during = (0..<100).map { KafkaProducerRecord(topic: topic, key: "k\($0)", value: Array("during-\($0)".utf8)) }
            let sending = Task { try await producer.send(during) }
            try await Task.sleep(for: .seconds(1))
            try broker.setBroker(1, up: true)
            let outcomes = try await sending.value
            #expect(outcomes.allSatisfy { (try? $0.get()) != nil }, "every record sent during the outage is delivered")

            let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: uniqueName("g"), topics: [topic]), logger: testLogger)
            let received = try await withRunningConsumer(consumer) { await collect(consumer, count: 200) }
            #expect(Set(received.map(\.value)) == Set((before + during).map(\.value)))
            await producer.close()
        }
    }

    @Test("a record that cannot be delivered fails its sender with a delivery error")
    func deliveryFailureSurfaces() async throws {
        try await withEmbeddedBroker(engine: .mock) { broker in
            let topic = uniqueName("fail")
            try broker.createTopic(topic, partitions: 1)
            var configuration = producerConfiguration(broker)
            configuration.messageTimeout = .milliseconds(800)
            let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
            try broker.setBroker(1, up: false)
            let error = await #expect(throws: KafkaError.self) {
                try await producer.send(KafkaProducerRecord(topic: topic, key: "k", value: [1]))
            }
            #expect(error?.code == .delivery)
            #expect(error?.isRetriable == true)
            #expect(error?.message.contains(topic) == true)
            try broker.setBroker(1, up: true)
            await producer.close()
            await #expect(throws: KafkaError.self) {
                try await producer.send(KafkaProducerRecord(topic: topic, key: "k", value: [2]))
            }
        }
    }

    @Test("a broker error that retrying cannot fix fails that record with the broker's code; the next one goes through")
    func permanentBrokerErrorFailsTheRecord() async throws {
        try await withEmbeddedBroker(engine: .mock) { broker in
            let topic = uniqueName("reject")
            try broker.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            _ = try await producer.send(KafkaProducerRecord(topic: topic, key: "k", value: [0]))  // connected, metadata known
            try broker.failNextProduceRequests(1, brokerErrorCode: 10)  // MESSAGE_TOO_LARGE
            let error = await #expect(throws: KafkaError.self) {
                try await producer.send(KafkaProducerRecord(topic: topic, key: "k", value: [1]))
            }
            #expect(error?.code == .delivery)
            #expect(error?.brokerCode == 10)
            #expect(error?.isRetriable == false)
            let report = try await producer.send(KafkaProducerRecord(topic: topic, key: "k", value: [2]))
            #expect(report.offset != nil)
            await producer.close()
        }
    }

    @Test("records the broker deleted before they were read are reported as lost, and reading goes on")
    func gapIsReportedAsDataLoss() async throws {
        try await withEmbeddedBroker(retainedBytesPerPartition: 4 * 1024 * 1024) { broker in
            let topic = uniqueName("gap")
            try broker.createTopic(topic, partitions: 1)
            let group = uniqueName("g")
            // Uncompressed: these repeated bytes would shrink a hundredfold and never fill it.
            var configuration = producerConfiguration(broker)
            configuration.compression = "none"
            let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
            let payload = [UInt8](repeating: 120, count: 150)
            _ = try await producer.send((0..<20).map { _ in KafkaProducerRecord(topic: topic, key: "k", value: payload) })

            let early = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
            let firstRead = try await withRunningConsumer(early) { await collect(early, count: 20) }
            #expect(firstRead.count == 20)

            // The broker keeps 4 MB of this partition: 8 MB more pushes offset 20 out.
            for _ in 0..<6 {
                _ = try await producer.send((0..<10_000).map { _ in KafkaProducerRecord(topic: topic, key: "k", value: payload) })
            }
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
            let marks = try await admin.watermarks(topic: topic, partition: 0)
            try #require(marks.low > 20, "the broker deleted old records (low watermark \(marks.low))")

            let late = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group, topics: [topic]), logger: testLogger)
            let rest = try await withRunningConsumer(late) { await collect(late, count: Int(marks.high - marks.low)) }
            #expect(late.lostMessageCount == Int(marks.low - 20))
            #expect(rest.first?.offset == marks.low)
            #expect(rest.count == Int(marks.high - marks.low))
            await producer.close()
        }
    }

    @Test("a full buffer pauses fetching and resumes it, losing and repeating nothing")
    func backpressurePausesAndResumes() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("backpressure")
            try broker.createTopic(topic, partitions: 2)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let records = (0..<3_000).map { KafkaProducerRecord(topic: topic, key: "k\($0 % 7)", value: Array("\($0)".utf8)) }
            _ = try await producer.send(records)
            var configuration = consumerConfiguration(broker, group: uniqueName("g"), topics: [topic])
            configuration.maxBatchSize = 100
            configuration.bufferHighWatermark = 500
            configuration.bufferLowWatermark = 100
            let consumer = try KafkaConsumer(configuration: configuration, logger: testLogger)
            let received: [KafkaMessage] = try await withRunningConsumer(consumer) {
                var received: [KafkaMessage] = []
                for await batch in consumer.batches() {
                    #expect(batch.count <= 100)
                    received += batch
                    try? await Task.sleep(for: .milliseconds(5))  // a slow handler
                    if received.count >= 3_000 { break }
                }
                return received
            }
            #expect(received.count == 3_000)
            #expect(Set(received.map(\.value)) == Set(records.map(\.value)))
            for partition in Set(received.map(\.partition)) {
                let offsets = received.filter { $0.partition == partition }.map(\.offset)
                #expect(offsets == Array(offsets.indices.map { Int64($0) }), "partition \(partition) in order, no gap or repeat")
            }
            await producer.close()
        }
    }
}

private struct KafkaRecordPlace: Hashable {
    var partition: Int32
    var offset: Int64
}

/// How many delivery reports each record got.
private final class DeliveryCounts: Sendable {
    let counts: Mutex<[Int]>
    init(count: Int) { counts = Mutex([Int](repeating: 0, count: count)) }
}
