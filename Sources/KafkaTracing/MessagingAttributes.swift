import Baggage
import Kafka
import OTLPWire
import Tracing

/// Attribute names of the OpenTelemetry messaging conventions for Kafka, and the project's own.
public enum MessagingAttribute {
    public static let system = "messaging.system"
    public static let operationName = "messaging.operation.name"
    public static let operationType = "messaging.operation.type"
    public static let destinationName = "messaging.destination.name"
    public static let partitionID = "messaging.destination.partition.id"
    public static let offset = "messaging.kafka.offset"
    public static let messageKey = "messaging.kafka.message.key"
    public static let consumerGroup = "messaging.consumer.group.name"
    public static let clientID = "messaging.client.id"
    public static let batchMessageCount = "messaging.batch.message_count"
    public static let errorType = "error.type"
    /// Why the message's trace context was not used (missing, or what is wrong with it).
    public static let traceContextProblem = "ordertrace.trace_context.problem"
}

extension SpanAttributes {
    /// Copies the allow-listed baggage entries (business ids) into attributes.
    mutating func addBusinessIDs(from baggage: Baggage?, allowList: BaggageAllowList) {
        guard let baggage, !baggage.isEmpty else { return }
        for (key, value) in allowList.allowedEntries(baggage) {
            self[key] = value
        }
    }
}

/// The header that carries W3C Baggage.
extension [Attribute] {
    mutating func addBusinessIDs(from baggage: Baggage?, allowList: BaggageAllowList) {
        guard let baggage, !baggage.isEmpty else { return }
        allowList.forEachAllowedEntry(baggage) { key, value in append(Attribute(key, .string(value))) }
    }
}

let baggageHeader = "baggage"
