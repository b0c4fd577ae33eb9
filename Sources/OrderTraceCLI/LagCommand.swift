import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import LagMonitor
import Logging
import MetricsEndpoint
import Pipeline
import ServiceLifecycle

struct LagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lag",
        abstract: "Show how far consumer groups are behind: per partition, topic and group, in records and seconds.",
        discussion: """
            Covers the groups the cluster lists plus those named with --group. When the cluster lists \
            none (librdkafka's mock cannot), it covers the pipeline's own groups (order-manager, algo, \
            exchange-gateway, allocator) plus those named. A group's topics are --topic when given, \
            otherwise those its members hold and those it committed offsets for. Lag is log-end minus \
            committed; a partition never committed counts from its oldest record (marked "from low"). \
            Lag in seconds is the age of the oldest unconsumed record.
            """
    )

    @OptionGroup var kafka: KafkaOptions

    @Option(name: .customLong("group"), help: "A consumer group to cover besides the listed ones (repeatable).")
    var groups: [String] = []

    @Option(name: .customLong("topic"), help: "Only these topics (repeatable).")
    var topics: [String] = []

    @Option(defaultAsFlag: 5.0, parsing: .next, help: ArgumentHelp("Print again every N seconds (default 5) until Ctrl-C.", valueName: "seconds"))
    var watch: Double? = nil

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @Option(help: "Run the lag monitor instead: sample every 5 s, log each status change, and serve the lag metrics at http://$METRICS_HOST:PORT/metrics (127.0.0.1 unless METRICS_HOST says, as for the components; 0.0.0.0 in a container) until Ctrl-C.")
    var serve: Int?

    func validate() throws {
        if let watch, !(watch > 0) { throw ValidationError("--watch needs a positive number of seconds") }
    }

    func run() async throws {
        let logger = Logs.bootstrap()
        let admin: KafkaAdmin
        do {
            admin = try KafkaAdmin(configuration: kafka.configuration())
        } catch let error as KafkaError {
            throw error.validationError
        }
        if let serve {
            try await runMonitor(admin, port: serve, logger: logger)
            return
        }
        while true {
            do {
                let report = try await Self.read(admin, named: groups, topics: topics)
                say(json ? Self.json(report.report, fallback: report.usedPipelineGroups) : Self.text(report.report, fallback: report.usedPipelineGroups))
            } catch let error as KafkaError {
                if watch == nil { throw error.validationError }
                say("error: \(error.message)")
            }
            guard let watch else { return }
            try await Task.sleep(for: .milliseconds(Int(watch * 1_000)))
            if !json { say("") }
        }
    }

    /// `--serve`: the lag monitor and its metrics, until SIGTERM or SIGINT.
    private func runMonitor(_ admin: KafkaAdmin, port: Int, logger: Logger) async throws {
        let registry = PrometheusMetrics.bootstrap()
        var configuration = LagMonitor.Configuration()
        configuration.groups = PipelineConsumerGroups.all().map(\.group) + groups
        configuration.topics = topics
        let monitor = LagMonitor(admin: admin, configuration: configuration, logger: logger)
        // The components' variable: a container sets METRICS_HOST=0.0.0.0 so Prometheus reaches it.
        let host = ProcessInfo.processInfo.environment["METRICS_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let server = MetricsServer(
            registry: registry, host: host, port: port, logger: logger, appending: { monitor.prometheusText() },
            onListening: { port in say("lag: monitoring; metrics at http://\(host):\(port)/metrics") })
        let group = ServiceGroup(configuration: .init(services: [monitor, server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Reads the report: the listed groups, or the pipeline's own when the cluster lists none,
    /// plus those named.
    static func read(_ admin: KafkaAdmin, named: [String], topics: [String]) async throws -> (report: ConsumerLagReport, usedPipelineGroups: Bool) {
        var listed: [String] = []
        var listError: String?
        do {
            listed = try await admin.consumerGroups()
        } catch let error as KafkaError {
            listError = error.message
        }
        let fallback = listed.isEmpty
        var seen = Set<String>()
        let groups = ((fallback ? PipelineConsumerGroups.all().map(\.group) : listed) + named).filter { seen.insert($0).inserted }
        var report: ConsumerLagReport
        if fallback && topics.isEmpty {
            // The pipeline's groups read known topics: report those even before a first commit.
            let known = Dictionary(PipelineConsumerGroups.all().map { ($0.group, $0.topics) }, uniquingKeysWith: { $1 })
            report = try await admin.lag(groups: groups.filter { known[$0] == nil }, topics: [], includeListedGroups: false)
            var byGroup = Dictionary(report.groups.map { ($0.group, $0) }, uniquingKeysWith: { $1 })
            for group in groups {
                guard let groupTopics = known[group] else { continue }
                byGroup[group] = try await admin.lag(groups: [group], topics: groupTopics, includeListedGroups: false).groups.first
            }
            report.groups = groups.compactMap { byGroup[$0] }
        } else {
            report = try await admin.lag(groups: groups, topics: topics, includeListedGroups: false)
        }
        report.listedGroups = listed
        report.listError = listError
        return (report, fallback)
    }

    static func text(_ report: ConsumerLagReport, fallback: Bool) -> String {
        var lines: [String] = []
        if fallback {
            let reason = report.listError.map { "the cluster cannot list consumer groups (\($0))" } ?? "the cluster lists no consumer groups"
            lines.append("\(reason): covering the pipeline's groups (on their topics) and those named.")
        }
        for group in report.groups {
            var heading = "group \(group.group)"
            if let state = group.state { heading += "  state \(state)" } else if group.describeError != nil { heading += "  state unknown (cannot describe)" }
            if let members = group.members { heading += "  members \(members.count)" }
            heading += "  topics: \(group.topicSource.rawValue)"
            lines.append("")
            lines.append(heading)
            guard !group.topics.isEmpty else {
                lines.append("  no committed offsets and no members: nothing to report")
                continue
            }
            let header = ["TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG", "LAG-SECONDS", "OWNER", "MEMBER-ID"]
            var rows: [[String]] = []
            for partition in group.partitions {
                rows.append([
                    partition.topic, "\(partition.partition)",
                    partition.committed.map(String.init) ?? "-",
                    "\(partition.high)",
                    partition.isCountedFromLowWatermark ? "\(partition.lag) (from low \(partition.low))" : "\(partition.lag)",
                    seconds(partition.lagSeconds),
                    // Unknown when the broker cannot describe the group; "-" when no member holds it.
                    partition.owner?.description ?? (group.members == nil ? "unknown" : "-"),
                    partition.owner?.memberID ?? (group.members == nil ? "unknown" : "-"),
                ])
            }
            lines += table(header: header, rows: rows).map { "  " + $0 }
            for topic in group.topics {
                lines.append("  total \(topic.topic): lag \(topic.lag), \(seconds(topic.lagSeconds)) s")
            }
            lines.append("  total group \(group.group): lag \(group.lag), \(seconds(group.lagSeconds)) s")
        }
        if report.groups.count > 1 {
            lines.append("")
            for (topic, lag) in report.lagByTopic { lines.append("total \(topic) over all groups: lag \(lag)") }
        }
        return lines.joined(separator: "\n")
    }

    static func seconds(_ value: Double?) -> String {
        guard let value else { return "?" }
        return String(format: "%.1f", value)
    }

    static func table(header: [String], rows: [[String]]) -> [String] {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return [line(header)] + rows.map(line)
    }

    static func json(_ report: ConsumerLagReport, fallback: Bool) -> String {
        func number(_ value: Double?) -> Any { value.map { $0 as Any } ?? NSNull() }
        let groups: [[String: Any]] = report.groups.map { group in
            [
                "group": group.group,
                "state": group.state as Any? ?? NSNull(),
                "describeError": group.describeError as Any? ?? NSNull(),
                "members": group.members.map { $0.count as Any } ?? NSNull(),
                "topicSource": group.topicSource.rawValue,
                "lag": group.lag,
                "lagSeconds": number(group.lagSeconds),
                "topics": group.topics.map { topic -> [String: Any] in
                    [
                        "topic": topic.topic, "lag": topic.lag, "lagSeconds": number(topic.lagSeconds),
                        "partitions": topic.partitions.map { partition -> [String: Any] in
                            [
                                "partition": partition.partition,
                                "committed": partition.committed.map { $0 as Any } ?? NSNull(),
                                "low": partition.low, "logEnd": partition.high, "lag": partition.lag,
                                "countedFromLowWatermark": partition.isCountedFromLowWatermark,
                                "lagSeconds": number(partition.lagSeconds),
                                "owner": partition.owner.map { owner -> Any in
                                    ["memberId": owner.memberID, "clientId": owner.clientID, "host": owner.host]
                                } ?? NSNull(),
                            ]
                        },
                    ]
                },
            ]
        }
        let object: [String: Any] = [
            "time": report.timeMilliseconds,
            "listedGroups": report.listedGroups,
            "listError": report.listError as Any? ?? NSNull(),
            "pipelineGroupsAssumed": fallback,
            "groups": groups,
            "lagByTopic": Dictionary(report.lagByTopic.map { ($0.topic, $0.lag) }, uniquingKeysWith: { $1 }),
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
