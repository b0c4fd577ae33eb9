import LocalHTTP

/// Each component's Kafka steps so far, by service, from `up`'s merged `/metrics`: the calls of
/// its consumers' handlers (`messaging_process_duration_seconds_count`, one a batch of records)
/// and its send calls (`messaging_client_operation_duration_seconds_count`, one a `send` of
/// any number of records, waited for until all are delivered).
///
/// A step costs its thread hand-overs and system calls whatever its size, so orders per step
/// says how far that cost is shared: at full speed a step carries many orders, at a low rate
/// about one.
struct StepCounts: Equatable {
    var handled: [String: Double] = [:]
    var sends: [String: Double] = [:]

    static let handledName = "messaging_process_duration_seconds_count"
    static let sendsName = "messaging_client_operation_duration_seconds_count"

    /// The counts `up` serves at `http://127.0.0.1:<port>/metrics`; nil when it does not answer.
    static func read(metricsPort port: Int) async -> StepCounts? {
        guard let response = await HTTPGet.fetch("http://127.0.0.1:\(port)/metrics", timeout: .seconds(10)), response.status == 200 else {
            return nil
        }
        return parse(String(decoding: response.body, as: UTF8.self))
    }

    /// The two counts of every sample line that has a `service` label, summed by service.
    static func parse(_ text: String) -> StepCounts {
        var counts = StepCounts()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let isHandled = line.hasPrefix(handledName + "{")
            guard isHandled || line.hasPrefix(sendsName + "{"),
                let service = label("service", in: line),
                let valueText = line.split(separator: " ").last, let value = Double(valueText)
            else { continue }
            if isHandled { counts.handled[service, default: 0] += value } else { counts.sends[service, default: 0] += value }
        }
        return counts
    }

    /// A label's value in a sample line (values here hold no escaped quotes).
    private static func label(_ name: String, in line: Substring) -> String? {
        guard let start = line.range(of: "\(name)=\"")?.upperBound, let end = line[start...].firstIndex(of: "\"") else { return nil }
        return String(line[start..<end])
    }

    func minus(_ before: StepCounts) -> StepCounts {
        StepCounts(handled: handled.minus(before.handled), sends: sends.minus(before.sends))
    }
}

extension Dictionary where Key == String, Value == Double {
    /// Each counter's growth since `before` (a counter `before` lacks started at 0).
    func minus(_ before: [String: Double]) -> [String: Double] {
        reduce(into: [:]) { grown, entry in grown[entry.key] = entry.value - (before[entry.key] ?? 0) }
    }
}
