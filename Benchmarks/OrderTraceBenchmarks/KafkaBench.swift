import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import Logging

/// Our client against kcat, on one embedded broker and the same data.
///
/// Produce: N records (key, ~150-byte value, a traceparent header) sent and all delivery reports
/// received, timed from the client's start to its close for both (kcat's process start and exit,
/// our producer's creation and `close()`). Consume: the same N read back in a new consumer group, timed from the first record
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

    @Option(help: "Rounds; each runs both clients on fresh topics, and the medians are compared.")
    var rounds = 3

    func run() async throws {
        var logger = Logs.bootstrap()
        logger.logLevel = .warning
        guard messages > 0, rounds > 0 else { throw ValidationError("--messages and --rounds must be positive") }
        let broker = try await EmbeddedBroker.start(.init(port: nil), logger: logger)
        let data = BenchData(count: messages)
        // About 250 bytes a record on the broker: keep each partition under ~3 MB.
        let partitions = self.partitions ?? max(4, (messages + 11_999) / 12_000)
        let producerSettings = KafkaProducerConfiguration(kafka: KafkaConfiguration(brokers: [broker.bootstrapServers]))
        let consumerSettings = KafkaConsumerConfiguration(kafka: producerSettings.kafka, groupID: "", topics: [])

        say("bench-kafka: \(messages) records of \(data.valueSize) bytes, key and traceparent header, \(partitions) partitions, embedded broker, \(rounds) round(s)")
        var ours: [Timing] = []
        var theirs: [Timing] = []
        for round in 1...rounds {
            let ourTopic = "bench-ordertrace-\(round)"
            let kcatTopic = "bench-kcat-\(round)"
            try broker.createTopic(ourTopic, partitions: partitions)
            try broker.createTopic(kcatTopic, partitions: partitions)
            let mine = try await measureOrderTrace(
                data: data, topic: ourTopic, partitions: partitions, broker: broker, producerSettings: producerSettings,
                consumerSettings: consumerSettings, logger: logger)
            say(mine.line("ordertrace", round: round))
            let other = try measureKcat(
                data: data, topic: kcatTopic, broker: broker, producerSettings: producerSettings, consumerSettings: consumerSettings)
            say(other.line("kcat", round: round))
            ours.append(mine)
            theirs.append(other)
        }
        let ourMedian = Timing.median(ours)
        let theirMedian = Timing.median(theirs)
        say(ourMedian.line("ordertrace", round: nil))
        say(theirMedian.line("kcat", round: nil))
        say(String(format: "bench-kafka: ordertrace=%.0f kcat=%.0f ratio=%.2f", ourMedian.combinedRate, theirMedian.combinedRate, ourMedian.combinedRate / theirMedian.combinedRate))
        await broker.stop()
    }

    struct Timing {
        var count: Int
        var produceSeconds: Double
        var consumeSeconds: Double
        /// The longest wait between two batches while consuming (ours only: kcat's is not visible).
        var longestConsumeGap: Double?
        var produceRate: Double { Double(count) / produceSeconds }
        var consumeRate: Double { Double(count) / consumeSeconds }
        var combinedRate: Double { Double(count) / (produceSeconds + consumeSeconds) }

        /// The round whose combined rate is the median.
        static func median(_ timings: [Timing]) -> Timing {
            timings.sorted { $0.combinedRate < $1.combinedRate }[timings.count / 2]
        }

        func line(_ name: String, round: Int?) -> String {
            let label = (round.map { "round \($0)" } ?? "median").padding(toLength: 8, withPad: " ", startingAt: 0)
            var text = "  \(label) \(name.padding(toLength: 10, withPad: " ", startingAt: 0))"
            text += String(format: " produce %9.0f msgs/s  consume %9.0f msgs/s  combined %9.0f msgs/s", produceRate, consumeRate, combinedRate)
            if let longestConsumeGap, longestConsumeGap >= 0.1 {
                text += String(format: "  (longest wait for a batch %.2f s)", longestConsumeGap)
            }
            return text
        }
    }

    private func measureOrderTrace(
        data: BenchData, topic: String, partitions: Int, broker: EmbeddedBroker, producerSettings: KafkaProducerConfiguration,
        consumerSettings: KafkaConsumerConfiguration, logger: Logger
    ) async throws -> Timing {
        let records = data.rows.map { row in
            var headers = KafkaHeaders()
            headers.set("traceparent", bytes: data.traceparent)
            return KafkaProducerRecord(topic: topic, key: row.key, value: row.value, headers: headers)
        }
        // Timed like `kcat -P`, which starts, connects, sends, flushes and exits: from making the
        // producer (it connects in the background) to its close.
        let produceStart = ContinuousClock.now
        let producer = try KafkaProducer(configuration: producerSettings, logger: logger)
        let outcomes = try await producer.send(records)
        await producer.close()
        let produceSeconds = (ContinuousClock.now - produceStart).seconds
        let failed = outcomes.filter { (try? $0.get()) == nil }.count
        guard failed == 0 else { throw ValidationError("ordertrace: \(failed) records were not delivered") }
        try await checkNothingDeleted(topic: topic, partitions: partitions, broker: broker)

        var settings = consumerSettings
        settings.groupID = "bench-ordertrace-\(UInt32.random(in: 0...UInt32.max))"
        settings.topics = [topic]
        var checksum = 0
        let consumed = try await consumeTimed(settings, count: data.count, logger: logger) { batch in
            for message in batch { checksum &+= message.value.count }
        }
        guard consumed.received == data.count, checksum == data.count * data.valueSize else {
            throw ValidationError("ordertrace: consumed \(consumed.received) of \(data.count) records")
        }
        let consumeSeconds = consumed.seconds
        let longestGap = consumed.longestGap
        return Timing(count: data.count, produceSeconds: produceSeconds, consumeSeconds: consumeSeconds, longestConsumeGap: longestGap.seconds)
    }

    private func measureKcat(
        data: BenchData, topic: String, broker: EmbeddedBroker, producerSettings: KafkaProducerConfiguration,
        consumerSettings: KafkaConsumerConfiguration
    ) throws -> Timing {
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
            // The same consumer settings as ours: the fetch wait, and the prefetch bound (librdkafka
            // 2.0 stops fetching for up to 1 s when 100,000 records are queued).
            "-X", "queued.min.messages=10000000",
            "-X", "fetch.wait.max.ms=\(Int(consumerSettings.fetchMaxWait.seconds * 1000))",
            // Key, headers and value, as our consumer hands each record over.
            "-c", String(data.count), "-q", "-f", "%k\t%h\t%s\n", topic,
        ]
        let pipe = Pipe()
        consume.standardOutput = pipe
        try consume.run()
        // Read into one reused buffer: the reading competes with kcat for the CPU, so it should
        // cost as little as our own handler's checksum.
        let descriptor = pipe.fileHandleForReading.fileDescriptor
        var first: ContinuousClock.Instant?
        var bytes = 0
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = read(descriptor, chunk, 1 << 20)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            if first == nil { first = .now }
            bytes += count
        }
        consume.waitUntilExit()
        let consumeSeconds = (ContinuousClock.now - (first ?? .now)).seconds
        let lineSize = data.rows[0].key.utf8.count + 1 + "traceparent=".utf8.count + data.traceparent.count + 1 + data.valueSize + 1
        guard consume.terminationStatus == 0, bytes == data.count * lineSize else {
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
            "-X", "linger.ms=\(Int(settings.linger.seconds * 1000))",
            "-X", "queue.buffering.max.messages=\(settings.maxQueuedMessages)",
            "-X", "compression.codec=\(settings.compression)",
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
