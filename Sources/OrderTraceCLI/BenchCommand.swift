import ArgumentParser
import Foundation
import Kafka
import Logging

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure hot paths; each benchmark prints ratios measured in one run.",
        subcommands: [KafkaBench.self]
    )
}

/// Our client against kcat, on one embedded broker and the same data.
///
/// Produce: N records (key, ~150-byte value, a traceparent header) sent and all delivery reports
/// received. Consume: the same N read back in a new consumer group, timed from the first record
/// received to the last (so the group join, a fixed 3 s in the embedded broker, counts for
/// neither). The combined rate is N / (produce seconds + consume seconds).
struct KafkaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce and consume N records with ordertrace's client, then with kcat; print both rates and their ratio."
    )

    @Option(help: "Records to produce and consume with each client.")
    var messages = 200_000

    @Option(help: "Partitions of each benchmark topic (default: enough that the embedded broker, which keeps about 5 MB per partition, deletes nothing).")
    var partitions: Int?

    @Option(help: "kcat executable.")
    var kcat = "kcat"

    func run() async throws {
        var logger = Logs.bootstrap()
        logger.logLevel = .warning
        let broker = try await EmbeddedBroker.start(.init(port: nil), logger: logger)
        defer { Task { await broker.stop() } }
        let data = BenchData(count: messages)
        // About 250 bytes a record on the broker: keep each partition under ~3 MB.
        let partitions = self.partitions ?? max(4, (messages + 11_999) / 12_000)
        let producerSettings = KafkaProducerConfiguration(kafka: KafkaConfiguration(brokers: [broker.bootstrapServers]))

        try broker.createTopic("bench-ordertrace", partitions: partitions)
        try broker.createTopic("bench-kcat", partitions: partitions)

        say("bench-kafka: \(messages) records of \(data.valueSize) bytes, key and traceparent header, \(partitions) partitions, embedded broker")
        let ours = try await measureOrderTrace(data: data, partitions: partitions, broker: broker, producerSettings: producerSettings, logger: logger)
        say(String(format: "  ordertrace  produce %9.0f msgs/s  consume %9.0f msgs/s  combined %9.0f msgs/s", ours.produceRate, ours.consumeRate, ours.combinedRate))
        let theirs = try measureKcat(data: data, broker: broker, producerSettings: producerSettings)
        say(String(format: "  kcat        produce %9.0f msgs/s  consume %9.0f msgs/s  combined %9.0f msgs/s", theirs.produceRate, theirs.consumeRate, theirs.combinedRate))
        say(String(format: "bench-kafka: ordertrace=%.0f kcat=%.0f ratio=%.2f", ours.combinedRate, theirs.combinedRate, ours.combinedRate / theirs.combinedRate))
        await broker.stop()
    }

    struct Timing {
        var count: Int
        var produceSeconds: Double
        var consumeSeconds: Double
        var produceRate: Double { Double(count) / produceSeconds }
        var consumeRate: Double { Double(count) / consumeSeconds }
        var combinedRate: Double { Double(count) / (produceSeconds + consumeSeconds) }
    }

    private func measureOrderTrace(data: BenchData, partitions: Int, broker: EmbeddedBroker, producerSettings: KafkaProducerConfiguration, logger: Logger) async throws -> Timing {
        let topic = "bench-ordertrace"
        let producer = try KafkaProducer(configuration: producerSettings, logger: logger)
        let records = data.rows.map { row in
            var headers = KafkaHeaders()
            headers.set("traceparent", bytes: data.traceparent)
            return KafkaProducerRecord(topic: topic, key: row.key, value: row.value, headers: headers)
        }
        let produceStart = ContinuousClock.now
        let outcomes = try await producer.send(records)
        let produceSeconds = (ContinuousClock.now - produceStart).seconds
        let failed = outcomes.filter { (try? $0.get()) == nil }.count
        guard failed == 0 else { throw ValidationError("ordertrace: \(failed) records were not delivered") }
        await producer.close()
        try await checkNothingDeleted(topic: topic, partitions: partitions, broker: broker)

        var consumerSettings = KafkaConsumerConfiguration(kafka: producerSettings.kafka, groupID: "bench-ordertrace-\(UInt32.random(in: 0...UInt32.max))", topics: [topic])
        consumerSettings.sessionTimeout = .seconds(6)
        let consumer = try KafkaConsumer(configuration: consumerSettings, logger: logger)
        let polling = Task { try await consumer.run() }
        var received = 0
        var first: ContinuousClock.Instant?
        var checksum = 0
        for await batch in consumer.batches() {
            if first == nil { first = .now }
            received += batch.count
            for message in batch { checksum &+= message.value.count }
            if received >= data.count { break }
        }
        let consumeSeconds = (ContinuousClock.now - first!).seconds
        polling.cancel()
        try await polling.value
        guard received == data.count, checksum == data.count * data.valueSize else {
            throw ValidationError("ordertrace: consumed \(received) of \(data.count) records")
        }
        return Timing(count: data.count, produceSeconds: produceSeconds, consumeSeconds: consumeSeconds)
    }

    private func measureKcat(data: BenchData, broker: EmbeddedBroker, producerSettings: KafkaProducerConfiguration) throws -> Timing {
        let topic = "bench-kcat"
        // The same producer settings as ours (idempotence, linger, timeouts).
        let settings = producerSettingsAsKcatFlags(producerSettings)
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("ordertrace-bench-\(UInt32.random(in: 0...UInt32.max)).txt")
        defer { try? FileManager.default.removeItem(at: input) }
        var lines = [UInt8]()
        lines.reserveCapacity(data.count * (data.valueSize + 8))
        for row in data.rows {
            lines += Array(row.key.utf8)
            lines.append(9)  // tab: kcat's key delimiter below
            lines += row.value
            lines.append(10)
        }
        try Data(lines).write(to: input)

        let produce = Process()
        produce.executableURL = try executable(kcat)
        produce.arguments = ["-P", "-b", broker.bootstrapServers, "-t", topic, "-K", "\t", "-H", "traceparent=\(String(decoding: data.traceparent, as: UTF8.self))", "-l"] + settings + [input.path]
        let produceStart = ContinuousClock.now
        try produce.run()
        produce.waitUntilExit()
        let produceSeconds = (ContinuousClock.now - produceStart).seconds
        guard produce.terminationStatus == 0 else { throw ValidationError("kcat -P failed with status \(produce.terminationStatus)") }

        let consume = Process()
        consume.executableURL = try executable(kcat)
        consume.arguments = [
            "-C", "-b", broker.bootstrapServers, "-G", "bench-kcat-\(UInt32.random(in: 0...UInt32.max))", "-X", "auto.offset.reset=earliest",
            "-c", String(data.count), "-q", "-f", "%s\n", topic,
        ]
        let pipe = Pipe()
        consume.standardOutput = pipe
        try consume.run()
        let reading = pipe.fileHandleForReading
        var first: ContinuousClock.Instant?
        var bytes = 0
        while true {
            let chunk = reading.availableData
            if chunk.isEmpty { break }
            if first == nil { first = .now }
            bytes += chunk.count
        }
        consume.waitUntilExit()
        let consumeSeconds = (ContinuousClock.now - (first ?? .now)).seconds
        guard consume.terminationStatus == 0, bytes == data.count * (data.valueSize + 1) else {
            throw ValidationError("kcat -C failed (status \(consume.terminationStatus), \(bytes) bytes read)")
        }
        return Timing(count: data.count, produceSeconds: produceSeconds, consumeSeconds: consumeSeconds)
    }

    /// The embedded broker deletes the oldest records of a partition past about 5 MB; a run whose
    /// records were deleted would wait forever for them.
    private func checkNothingDeleted(topic: String, partitions: Int, broker: EmbeddedBroker) async throws {
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: [broker.bootstrapServers]))
        for partition in 0..<Int32(partitions) {
            let marks = try await admin.watermarks(topic: topic, partition: partition)
            if marks.low > 0 {
                throw ValidationError("the embedded broker deleted \(marks.low) records of \(topic)[\(partition)]: use more --partitions or fewer --messages")
            }
        }
    }

    private func producerSettingsAsKcatFlags(_ settings: KafkaProducerConfiguration) -> [String] {
        [
            "-X", "enable.idempotence=\(settings.isIdempotent)",
            "-X", "linger.ms=\(settings.linger.components.seconds * 1000 + settings.linger.components.attoseconds / 1_000_000_000_000_000)",
            "-X", "queue.buffering.max.messages=\(settings.maxQueuedMessages)",
        ]
    }

    private func executable(_ name: String) throws -> URL {
        if name.contains("/") { return URL(fileURLWithPath: name) }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw ValidationError("\(name) not found on PATH: install it (apt-get install kcat) or pass --kcat")
    }
}

/// The records both clients send: keys over a few symbols, ~150-byte client-order values.
struct BenchData {
    struct Row {
        var key: String
        var value: [UInt8]
    }

    let rows: [Row]
    let valueSize: Int
    let traceparent = Array("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".utf8)
    var count: Int { rows.count }

    init(count: Int) {
        var rows: [Row] = []
        rows.reserveCapacity(count)
        for index in 0..<count {
            // 1,000 keys of one length, so records spread evenly and are all the same size.
            let keyNumber = String(index % 1_000)
            let symbol = "S" + String(repeating: "0", count: 3 - keyNumber.count) + keyNumber
            let id = String(index)
            let padded = String(repeating: "0", count: max(0, 10 - id.count)) + id
            let text = #"{"clientOrderId":"c-\#(padded)","userId":"alice","symbol":"\#(symbol)","side":"buy","quantity":300,"orderType":"limit","limitPrice":189.25,"tif":"day"}"#
            rows.append(Row(key: symbol, value: Array(text.utf8)))
        }
        self.rows = rows
        self.valueSize = rows.first?.value.count ?? 0
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Prints a line at once, even when stdout is a pipe.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
