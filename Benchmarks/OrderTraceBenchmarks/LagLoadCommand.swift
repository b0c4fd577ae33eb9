import ArgumentParser
import CommandLineSupport
import Kafka
import Logging

/// `bench lag-load` (started by `bench lag`, in its own process so its CPU does not count):
/// every interval, writes records to every partition of the topics and moves every group's
/// committed offsets forward by as many, so the groups stay behind by what they were and every
/// lag round sees new offsets and new records, as it would with live consumers.
struct LagLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag-load",
        abstract: "The moving groups of bench lag (run by it).",
        shouldDisplay: false
    )

    @Option(help: "Bootstrap servers.")
    var brokers: String

    @Option(help: "Groups bench-lag-group-0 ... N-1.")
    var groups: Int

    @Option(help: "The topics, comma-separated.")
    var topics: String

    @Option(help: "Seconds between steps.")
    var interval: Double

    @Option(help: "Records written to each partition per step.")
    var step = 5

    func run() async throws {
        var logger = Logs.bootstrap()
        logger.logLevel = .error
        let kafka = KafkaConfiguration(brokers: [brokers])
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        let names = Set(topics.split(separator: ",").map(String.init))
        let partitions = try await admin.topics().filter { names.contains($0.name) }.flatMap { topic in
            (0..<Int32(topic.partitionCount)).map { KafkaTopicPartition(topic: topic.name, partition: $0) }
        }
        let groupNames = (0..<groups).map { "bench-lag-group-\($0)" }
        var offsets = try await admin.committedOffsets(groups: groupNames.map { ($0, partitions) })
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        let value = Array(repeating: UInt8(ascii: "x"), count: 100)
        while !Task.isCancelled {
            try await Task.sleep(for: .milliseconds(Int(interval * 1_000)))
            let records = partitions.flatMap { partition in
                (0..<step).map { _ in KafkaProducerRecord(topic: partition.topic, partition: partition.partition, key: nil as String?, value: value) }
            }
            _ = try await producer.send(records)
            for group in groupNames {
                var moved = offsets[group] ?? [:]
                for partition in partitions { moved[partition, default: 0] += Int64(step) }
                try await admin.commitOffsets(group: group, offsets: moved)
                offsets[group] = moved
            }
        }
        await producer.close()
    }
}
