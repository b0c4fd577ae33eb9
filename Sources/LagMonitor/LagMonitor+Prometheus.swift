import Kafka
import LagStatus

/// The monitor's lag and status series in Prometheus text format, written from the last round.
///
/// They are not swift-metrics gauges: 50 groups of 100 partitions make 15,000 series, and the
/// Prometheus registry copies a metric family's table for every series it adds or removes, so
/// registering them cost seconds of CPU, and so did every mass change of status (a series per
/// status). Written here, a round costs nothing to publish and a scrape a few milliseconds.
extension LagMonitor {
    /// The last round's lag and status series (empty before the first round), for `/metrics`
    /// to append to the registry's text.
    public func prometheusText() -> String {
        guard let snapshot = latest else { return "" }
        var lag = Family("kafka_consumergroup_group_lag", "Records the group has not consumed: log-end offset minus committed offset.")
        var seconds = Family("kafka_consumergroup_group_lag_seconds", "Age of the oldest record the group has not consumed; 0 when caught up.")
        var maxLag = Family("kafka_consumergroup_group_max_lag", "The group's largest partition lag, in records.")
        var status = Family("ordertrace_consumergroup_status", "The partition's lag status (the series of its current status, at 1).")
        var groupStatus = Family("ordertrace_consumergroup_group_status", "The group's lag status, its worst partition's: 1 for the current status, 0 for the others.")
        var members = Family("kafka_consumergroup_members", "Members of the group, as the broker describes it (absent when it cannot).")
        var owners = Family(
            "kafka_consumergroup_partition_owner", "The member holding the partition (1), as the broker describes the group (absent when it cannot).")
        var rebalances = Family(
            "kafka_consumergroup_rebalances_observed_total", "Rounds of the lag monitor in which a partition of the group had changed owner since the round before.",
            type: "counter")
        let observed = state.withLock { $0.rebalancesObserved }
        for group in snapshot.report.groups {
            let groupLabel = Array("group=\"\(Self.escape(group.group))\"".utf8)
            var largest: Int64 = 0
            for partition in group.partitions {
                let labels = groupLabel + Array(",topic=\"\(Self.escape(partition.topic))\",partition=\"\(partition.partition)\"".utf8)
                lag.add(labels, String(partition.lag))
                seconds.add(labels, Self.number(partition.lagSeconds ?? 0))
                largest = max(largest, partition.lag)
                if let state = snapshot.partitions[PartitionKey(group: group.group, topic: partition.topic, partition: partition.partition)]?.state {
                    status.add(labels, "1", status: state)
                }
            }
            maxLag.add(groupLabel, String(largest))
            if let described = group.members {
                members.add(groupLabel, String(described.count))
                for member in described {
                    let memberLabels = Array(
                        ",member=\"\(Self.escape(member.memberID))\",client_id=\"\(Self.escape(member.clientID))\",host=\"\(Self.escape(member.host))\"".utf8)
                    for partition in member.partitions {
                        owners.add(groupLabel + Array(",topic=\"\(Self.escape(partition.topic))\",partition=\"\(partition.partition)\"".utf8) + memberLabels, "1")
                    }
                }
            }
            if let count = observed[group.group] { rebalances.add(groupLabel, String(count)) }
            let current = snapshot.groups[group.group]?.state
            for state in LagState.allCases {
                groupStatus.add(groupLabel, state == current ? "1" : "0", status: state)
            }
        }
        var text = lag.bytes
        for family in [seconds, maxLag, status, groupStatus, members, owners, rebalances] { text += family.bytes }
        return String(decoding: text, as: UTF8.self)
    }

    /// One gauge family's lines.
    private struct Family {
        let name: [UInt8]
        var bytes: [UInt8]

        init(_ name: String, _ help: String, type: String = "gauge") {
            self.name = Array(name.utf8)
            bytes = Array("# HELP \(name) \(help)\n# TYPE \(name) \(type)\n".utf8)
        }

        mutating func add(_ labels: [UInt8], _ value: String, status: LagState? = nil) {
            bytes += name
            bytes.append(UInt8(ascii: "{"))
            bytes += labels
            if let status {
                bytes += #",status=""#.utf8
                bytes += status.description.utf8
                bytes.append(UInt8(ascii: "\""))
            }
            bytes += "} ".utf8
            bytes += value.utf8
            bytes.append(UInt8(ascii: "\n"))
        }
    }

    /// A label value as the text format writes it: backslash, double quote and newline escaped.
    static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Seconds with millisecond precision, without exponent.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf") }
        let milliseconds = Int64((value * 1_000).rounded())
        let whole = milliseconds / 1_000
        let fraction = abs(milliseconds % 1_000)
        if fraction == 0 { return String(whole) }
        let digits = String(fraction)
        return "\(milliseconds < 0 && whole == 0 ? "-" : "")\(whole).\(String(repeating: "0", count: 3 - digits.count))\(digits)"
    }
}
