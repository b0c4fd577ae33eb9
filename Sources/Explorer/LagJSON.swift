import LagStatus
import WireJSON

/// `GET /api/lag`'s document (`docs/explorer-api.md`): the lag monitor's latest round with each
/// partition's recent samples, or why there is none.
enum LagJSON {
    /// What the page says when the explorer was started without Kafka brokers.
    static let offReason = "Lag monitoring is off: the explorer was started without Kafka brokers."
    static let offRemedy =
        "Start the explorer with KAFKA_BROKERS=host:port (or -b host:port) to sample the pipeline's consumer groups; ordertrace up does this for you."

    static func off() -> [UInt8] {
        JSONWriter.object { json in
            json.field("enabled", false)
            json.field("reason", offReason)
            json.field("remedy", offRemedy)
        }
    }

    static func overview(_ overview: LagOverview) -> [UInt8] {
        JSONWriter.object { json in
            json.field("enabled", true)
            json.key("interval")
            json.double(overview.interval)
            json.key("window")
            json.double(overview.window)
            json.field("historyLimit", overview.historyLimit)
            json.key("sampledAt")
            optional(overview.sampledAtMilliseconds.map { $0 * 1000 }, into: &json)
            json.key("error")
            if let failure = overview.failure {
                json.beginObject()
                json.field("time", failure.atMilliseconds * 1000)
                json.field("message", failure.message)
                json.endObject()
            } else {
                json.null()
            }
            json.key("groups")
            json.beginArray()
            for group in overview.groups {
                self.group(group, into: &json)
            }
            json.endArray()
        }
    }

    private static func group(_ group: LagOverview.Group, into json: inout JSONWriter) {
        json.beginObject()
        json.field("group", group.name)
        json.field("status", group.evaluation.state.description)
        json.field("reason", group.evaluation.reason)
        json.key("brokerState")
        optional(group.brokerState, into: &json)
        json.key("describeError")
        optional(group.describeError, into: &json)
        json.key("members")
        optional(group.members.map(Int64.init), into: &json)
        json.field("rebalancesObserved", Int64(group.rebalancesObserved))
        json.field("lag", group.lag)
        json.key("lagSeconds")
        optional(group.lagSeconds, into: &json)
        json.key("partitions")
        json.beginArray()
        for partition in group.partitions {
            json.beginObject()
            json.field("topic", partition.topic)
            json.field("partition", Int64(partition.partition))
            json.key("committed")
            optional(partition.committed, into: &json)
            json.field("logStart", partition.logStart)
            json.field("logEnd", partition.logEnd)
            json.field("lag", partition.lag)
            json.key("lagSeconds")
            optional(partition.lagSeconds, into: &json)
            json.key("owner")
            if let owner = partition.owner {
                json.beginObject()
                json.field("memberId", owner.memberID)
                json.field("clientId", owner.clientID)
                json.field("host", owner.host)
                json.endObject()
            } else {
                json.null()
            }
            json.field("status", partition.evaluation.state.description)
            json.field("reason", partition.evaluation.reason)
            json.key("history")
            json.beginArray()
            for point in partition.history {
                json.beginObject()
                json.field("time", point.timeMilliseconds * 1000)
                json.field("lag", point.lag)
                json.key("lagSeconds")
                optional(point.lagSeconds, into: &json)
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }
        json.endArray()
        json.endObject()
    }

    private static func optional(_ value: Int64?, into json: inout JSONWriter) {
        if let value { json.integer(value) } else { json.null() }
    }

    private static func optional(_ value: Double?, into json: inout JSONWriter) {
        if let value { json.double(value) } else { json.null() }
    }

    private static func optional(_ value: String?, into json: inout JSONWriter) {
        if let value { json.string(value) } else { json.null() }
    }
}
