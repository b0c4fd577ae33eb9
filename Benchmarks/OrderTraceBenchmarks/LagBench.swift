import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import LagMonitor
import Logging
import MetricsEndpoint

/// `bench lag`: what the lag monitor costs the process it runs in, at its production interval.
///
/// The embedded broker runs as its own process (`ordertrace broker`), so its CPU does not count.
/// Setup (not measured): topics with `--partitions` partitions in all, records in every
/// partition, and `--groups` consumer groups that committed offsets on every partition (each
/// group at other offsets, all behind). Unless `--static-offsets`, another process
/// (`bench lag-load`) then produces to every partition and moves every group's offsets each
/// interval, as live consumers would, so every round reads moved offsets and new records.
///
/// Measured: a `LagMonitor` over the named groups, as `up` and `lag --serve` configure it
/// (listing groups, 5 s interval, swift-metrics on a Prometheus registry), for `--seconds`; the
/// process's CPU time (getrusage, user + system) over that period, per sample round and as a
/// share of one core; with a scrape per round of what `/metrics` serves (the registry's text and
/// the monitor's series), unless `--no-scrape`.
struct LagBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag",
        abstract: "The lag monitor's CPU cost: 50 groups x 100 partitions sampled every 5 s, against a budget of 2% of one core."
    )

    @Option(help: "Consumer groups monitored.")
    var groups = 50

    @Option(help: "Partitions each group committed offsets on, over all topics.")
    var partitions = 100

    @Option(help: "Topics the partitions are spread over.")
    var topics = 1

    @Option(help: "Records written to each partition before measuring.")
    var records = 100

    @Option(help: "Seconds measured.")
    var seconds = 60.0

    @Option(help: "Seconds between sample rounds (the monitor's production interval is 5).")
    var interval = 5.0

    @Option(help: "Budget: percent of one core.")
    var budget = 2.0

    @Flag(help: "Leave the groups' offsets where setup put them (no second process producing and committing).")
    var staticOffsets = false

    @Flag(inversion: .prefixedNo, help: "Render the metrics registry once per round, as a Prometheus scrape would, and count it.")
    var scrape = true

    func validate() throws {
        guard groups > 0, partitions > 0, topics > 0, topics <= partitions, records > 1, seconds > 0, interval > 0 else {
            throw ValidationError("every count and time must be positive, with no more topics than partitions and at least 2 records")
        }
    }

    func run() async throws {
        var logger = Logs.bootstrap()
        logger.logLevel = .error
        let registry = PrometheusMetrics.bootstrap()

        // The topics, as a topics folder for the broker process.
        let folder = NSTemporaryDirectory() + "ordertrace-bench-lag-\(getpid())"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var definitions: [KafkaTopicDefinition] = []
        for index in 0..<topics {
            let count = partitions / topics + (index < partitions % topics ? 1 : 0)
            definitions.append(KafkaTopicDefinition(name: "bench-lag-\(index)", partitions: count))
        }
        let encoder = JSONEncoder()
        for definition in definitions {
            try encoder.encode(definition).write(to: URL(fileURLWithPath: "\(folder)/\(definition.name).json"))
        }
        let topicPartitions = definitions.flatMap { definition in
            (0..<Int32(definition.partitions)).map { KafkaTopicPartition(topic: definition.name, partition: $0) }
        }
        let groupNames = (0..<groups).map { "bench-lag-group-\($0)" }

        let port = try freeTCPPort()
        let broker = try startProcess(
            CommandLine.executablePath, ["broker", "--port", String(port), "--topics-dir", folder], environment: ["LOG_LEVEL": "error"])
        defer { stop(broker) }
        try await waitForPort(port)
        let brokers = "127.0.0.1:\(port)"
        say("bench lag: \(groups) groups x \(partitions) partitions (\(topics) topic(s)), broker in its own process at \(brokers)")

        // Setup: records everywhere, and every group behind at offsets of its own.
        let kafka = KafkaConfiguration(brokers: [brokers])
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
        let value = Array(repeating: UInt8(ascii: "x"), count: 100)
        let setupRecords = topicPartitions.flatMap { partition in
            (0..<records).map { _ in KafkaProducerRecord(topic: partition.topic, partition: partition.partition, key: nil as String?, value: value) }
        }
        for outcome in try await producer.send(setupRecords) {
            _ = try outcome.get()
        }
        await producer.close()
        let setupAdmin = try KafkaAdmin(configuration: kafka, logger: logger)
        for (index, group) in groupNames.enumerated() {
            var offsets: [KafkaTopicPartition: Int64] = [:]
            for (position, partition) in topicPartitions.enumerated() {
                offsets[partition] = Int64((index * 7 + position) % (records / 2))
            }
            try await setupAdmin.commitOffsets(group: group, offsets: offsets)
        }
        let check = try await setupAdmin.committedOffsets(groups: groupNames.map { ($0, topicPartitions) })
        let committedPartitions = check.values.reduce(0) { $0 + $1.count }
        guard committedPartitions == groups * partitions else {
            throw CommandError(description: "setup: \(committedPartitions) committed partitions, expected \(groups * partitions)")
        }
        say("  setup: \(records) records per partition, \(groups * partitions) committed offsets, lag \(records - records / 2 + 1)...\(records) per partition")

        var load: Process?
        if !staticOffsets {
            load = try startProcess(
                CommandLine.executablePath,
                [
                    "bench", "lag-load", "--brokers", brokers, "--groups", String(groups), "--topics", definitions.map(\.name).joined(separator: ","),
                    "--interval", String(interval),
                ],
                environment: ["LOG_LEVEL": "error"])
            say("  a second process (bench lag-load) produces to every partition and moves every group's offsets every \(interval) s")
        }
        defer { if let load { stop(load) } }

        // Measured: the monitor as up and lag --serve run it.
        var configuration = LagMonitor.Configuration()
        configuration.groups = groupNames
        configuration.interval = .milliseconds(Int(interval * 1_000))
        let monitor = LagMonitor(admin: try KafkaAdmin(configuration: kafka, logger: logger), configuration: configuration, logger: logger)
        // One round before measuring: it connects the handles and registers every series.
        let firstCPU = processCPUSeconds()
        let firstStart = ContinuousClock.now
        try await monitor.sample()
        say("  first round (connections): CPU \(format((processCPUSeconds() - firstCPU) * 1_000)) ms, wall \(format((ContinuousClock.now - firstStart).seconds * 1_000)) ms")

        var rounds: [(cpu: Double, wall: Double)] = []
        var scrapes: [(cpu: Double, bytes: Int)] = []
        var buffer: [UInt8] = []
        let startCPU = processCPUSeconds()
        let start = ContinuousClock.now
        let end = start + .milliseconds(Int(seconds * 1_000))
        var next = start
        while next < end {
            try await Task.sleep(until: next)
            let cpuBefore = processCPUSeconds()
            let before = ContinuousClock.now
            let snapshot = try await monitor.sample()
            let wall = (ContinuousClock.now - before).seconds
            rounds.append((processCPUSeconds() - cpuBefore, wall))
            let sampled = snapshot.report.groups.reduce(0) { $0 + $1.partitions.count }
            guard sampled == groups * partitions else {
                throw CommandError(description: "round \(rounds.count) saw \(sampled) group partitions, expected \(groups * partitions)")
            }
            if scrape {
                let scrapeBefore = processCPUSeconds()
                buffer.removeAll(keepingCapacity: true)
                registry.emit(into: &buffer)
                buffer += monitor.prometheusText().utf8
                scrapes.append((processCPUSeconds() - scrapeBefore, buffer.count))
            }
            next = next + .milliseconds(Int(interval * 1_000))
        }
        // The whole period: the rounds, the metrics, the handles' own librdkafka threads while idle.
        let elapsed = (ContinuousClock.now - start).seconds
        let totalCPU = processCPUSeconds() - startCPU

        let roundCPU = rounds.map(\.cpu).sorted()
        let roundWall = rounds.map(\.wall).sorted()
        let percent = totalCPU / elapsed * 100
        say("  \(rounds.count) rounds in \(format(elapsed)) s, \(groups * partitions) group partitions each")
        say("  per round: CPU median \(format(roundCPU[roundCPU.count / 2] * 1_000)) ms, worst \(format(roundCPU.last! * 1_000)) ms; wall median \(format(roundWall[roundWall.count / 2] * 1_000)) ms, worst \(format(roundWall.last! * 1_000)) ms")
        if !scrapes.isEmpty {
            let scrapeCPU = scrapes.map(\.cpu).sorted()
            say("  a scrape of /metrics (\(groups * partitions * 3 + groups * 9) lag series): \(scrapes.last!.bytes / 1_024) KiB, CPU median \(format(scrapeCPU[scrapeCPU.count / 2] * 1_000)) ms")
        }
        say("  process CPU over the period (rounds, scrapes, librdkafka threads): \(format(totalCPU)) s = \(format(percent))% of one core at a \(format(interval)) s interval")
        let figures = String(
            format: "cpu_per_round_ms=%.2f wall_per_round_ms=%.1f cpu_percent=%.3f budget_percent=%.1f ratio=%.2f",
            roundCPU[roundCPU.count / 2] * 1_000, roundWall[roundWall.count / 2] * 1_000, percent, budget, percent / budget)
        say("bench-lag: \(figures) \(percent <= budget ? "PASS" : "FAIL")")
        if percent > budget { throw ExitCode(1) }
    }
}

/// This process's CPU time so far, user plus system, in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

private func format(_ value: Double) -> String {
    String(format: value < 10 ? "%.2f" : "%.1f", value)
}
