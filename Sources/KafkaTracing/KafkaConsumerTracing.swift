import Baggage
import Kafka
import OTLPWire
import Synchronization
import TraceContext
import Tracing

/// Traces the processing of consumed records: a `process {topic}` CONSUMER span per record whose
/// parent is the producer's span from the headers, with a link to it, the messaging attributes
/// and the business ids from the record's baggage. The handler runs with that span's context,
/// baggage included. A missing or malformed `traceparent` never fails the record: the span
/// starts a new trace and says why in `ordertrace.trace_context.problem`.
public struct KafkaConsumerTracing: Sendable {
    public var groupID: String
    public var clientID: String
    /// Baggage keys copied into span attributes.
    public var allowList: BaggageAllowList
    /// Baggage keys taken out of every record's baggage before it becomes the span's baggage
    /// and attributes: what a topic anyone may write to cannot vouch for (the order manager's
    /// client-orders, written by kcat users too, drops the business ids and sets its own).
    public var distrustedBaggageKeys: [String] = []
    /// `process {topic}` of the last topic seen, shared by its records' spans (a name past 15
    /// bytes is allocated).
    private let processName = LastSpanName()

    /// The record's trace context, without the distrusted baggage keys.
    private func carriedContext(_ message: KafkaMessage) -> CarriedTraceContext {
        var carried = CarriedTraceContext(message)
        if !distrustedBaggageKeys.isEmpty, var baggage = carried.baggage {
            for key in distrustedBaggageKeys { baggage.removeAll(key: key) }
            carried.baggage = baggage
        }
        return carried
    }

    public init(groupID: String, clientID: String, allowList: BaggageAllowList = .businessIDs) {
        self.groupID = groupID
        self.clientID = clientID
        self.allowList = allowList
    }

    public init(_ consumer: KafkaConsumer, allowList: BaggageAllowList = .businessIDs) {
        self.init(groupID: consumer.configuration.groupID, clientID: consumer.configuration.kafka.clientID, allowList: allowList)
    }

    /// The producer's trace context and the baggage a record carries, as a context for a
    /// parent or a link, and, when there is no usable trace context, why.
    public func extractContext(_ message: KafkaMessage) -> (context: ServiceContext, problem: String?) {
        let carried = carriedContext(message)
        var context = MessagingTracing.current.remoteContext(remoteParent: carried.parent, headers: message.headers)
        let problem = context.isEmpty ? (carried.problem ?? "no trace context") : nil
        if let baggage = carried.baggage { context.baggage = baggage }
        return (context, problem)
    }

    /// Starts the `process {topic}` span of one record; the caller ends it. When the record
    /// carries no usable trace context, the span is the root of a new trace, named
    /// `rootName` when one is given (a component that starts a flow names it), and says why in
    /// `ordertrace.trace_context.problem`.
    public func startProcessSpan(_ message: KafkaMessage, rootName: String? = nil) -> any MessagingSpan {
        startProcessSpan(message, rootName: rootName, tracer: MessagingTracing.current)
    }

    /// `startProcessSpan(_:rootName:)` with the messaging tracer looked up once for many records.
    public func startProcessSpan(_ message: KafkaMessage, rootName: String? = nil, tracer: any MessagingTracer) -> any MessagingSpan {
        let carried = carriedContext(message)
        let name = processSpanName(message.topic)
        let (span, continued) = tracer.startConsumerSpan(
            name, rootName: rootName ?? name, remoteParent: carried.parent, baggage: carried.baggage, headers: message.headers)
        guard span.isRecording else { return span }
        var attributes = messageAttributes(message)
        attributes.addBusinessIDs(from: carried.baggage, allowList: allowList)
        if !continued {
            attributes.append(Attribute(MessagingAttribute.traceContextProblem, .string(carried.problem ?? "no trace context")))
        }
        span.setAttributes(attributes)
        return span
    }

    /// Runs `body` inside the record's `process {topic}` span, with that span's context (and the
    /// record's baggage) as the current context. An error thrown by `body` is recorded on the
    /// span and rethrown.
    public func withProcessSpan<T>(
        _ message: KafkaMessage,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (any MessagingSpan) async throws -> T
    ) async rethrows -> T {
        let span = startProcessSpan(message)
        defer { span.end() }
        do {
            return try await ServiceContext.withValue(span.context) { try await body(span) }
        } catch {
            span.recordError(error)
            span.attributes[MessagingAttribute.errorType] = String(describing: type(of: error))
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// One `process {topic}` span for a batch of records of one topic, linked to each record's
    /// producer span (link attributes: partition, offset, key and the record's business ids).
    /// Links past the span's limit are counted and listed (see `LinkLimit`).
    public func startBatchProcessSpan(_ messages: [KafkaMessage], context: ServiceContext = .topLevel) -> any Span {
        let topic = messages.first?.topic ?? ""
        let span = startSpan("process \(topic)", context: context, ofKind: .consumer)
        var attributes = SpanAttributes()
        attributes[MessagingAttribute.system] = "kafka"
        attributes[MessagingAttribute.operationName] = "process"
        attributes[MessagingAttribute.operationType] = "process"
        attributes[MessagingAttribute.destinationName] = topic
        attributes[MessagingAttribute.consumerGroup] = groupID
        attributes[MessagingAttribute.clientID] = clientID
        attributes[MessagingAttribute.batchMessageCount] = Int64(messages.count)
        var links: [SpanLink] = []
        links.reserveCapacity(messages.count)
        var missing = 0
        for message in messages {
            let (producerContext, problem) = extractContext(message)
            guard problem == nil else {
                missing += 1
                continue
            }
            var linkAttributes = SpanAttributes()
            linkAttributes[MessagingAttribute.partitionID] = String(message.partition)
            linkAttributes[MessagingAttribute.offset] = message.offset
            if let key = message.keyString { linkAttributes[MessagingAttribute.messageKey] = key }
            linkAttributes.addBusinessIDs(from: producerContext.baggage, allowList: allowList)
            links.append(SpanLink(context: producerContext, attributes: linkAttributes))
        }
        if missing > 0 {
            attributes[MessagingAttribute.traceContextProblem] = "\(missing) of \(messages.count) records carried no usable traceparent"
        }
        span.attributes = attributes
        LinkLimit.addLinks(links, to: span)
        return span
    }

    private func processSpanName(_ topic: String) -> String {
        processName.last.withLock { last in
            if let last, last.topic == topic { return last.name }
            let name = "process \(topic)"
            last = (topic, name)
            return name
        }
    }

    private func messageAttributes(_ message: KafkaMessage) -> [Attribute] {
        var attributes: [Attribute] = []
        attributes.reserveCapacity(12)
        attributes.append(Attribute(MessagingAttribute.system, .string("kafka")))
        attributes.append(Attribute(MessagingAttribute.operationName, .string("process")))
        attributes.append(Attribute(MessagingAttribute.operationType, .string("process")))
        attributes.append(Attribute(MessagingAttribute.destinationName, .string(message.topic)))
        attributes.append(Attribute(MessagingAttribute.partitionID, .string(String(message.partition))))
        attributes.append(Attribute(MessagingAttribute.offset, .int(message.offset)))
        if let key = message.keyString { attributes.append(Attribute(MessagingAttribute.messageKey, .string(key))) }
        attributes.append(Attribute(MessagingAttribute.consumerGroup, .string(groupID)))
        attributes.append(Attribute(MessagingAttribute.clientID, .string(clientID)))
        return attributes
    }
}

/// What a record carries for tracing, read in one pass over its headers: the producer's span
/// context (`traceparent`, the last one when repeated, and `tracestate`), the baggage of every
/// `baggage` header combined, and, without a usable `traceparent`, why.
public struct CarriedTraceContext: Sendable {
    /// The producer's span context, remote; `nil` without a usable `traceparent`.
    public var parent: SpanContext?
    /// The record's baggage, or `nil` when it has none (or only invalid entries).
    public var baggage: Baggage?
    /// Why there is no parent: no `traceparent` header, or what is wrong with it.
    public var problem: String?
    /// Whether a `traceparent` header was present (valid or not).
    public var hasTraceparent: Bool

    public init(_ message: KafkaMessage) {
        var traceparent: [UInt8]?
        var tracestate: [UInt8]?
        var hasTraceparent = false
        var firstBaggage: [UInt8]?
        var moreBaggage: [[UInt8]] = []
        for header in message.headers {
            switch header.key {
            case "traceparent":
                hasTraceparent = true
                traceparent = header.value
            case "tracestate":
                tracestate = header.value
            case baggageHeader:
                guard let value = header.value else { continue }
                if firstBaggage == nil { firstBaggage = value } else { moreBaggage.append(value) }
            default:
                continue
            }
        }
        self.hasTraceparent = hasTraceparent
        if !hasTraceparent {
            problem = "no traceparent header"
        } else {
            switch SpanContext.parse(traceparent: traceparent ?? []) {
            case .valid(var context):
                // An invalid tracestate is dropped, not inherited; a valid one is capped.
                if let tracestate, !tracestate.isEmpty, let valid = TraceState.sanitized(bytes: tracestate) { context.traceState = valid }
                parent = context
            case .invalid(let reason):
                problem = "invalid traceparent: \(reason)"
            }
        }
        if let firstBaggage {
            // A second array only for the rare record with several baggage headers.
            let parsed = moreBaggage.isEmpty ? Baggage(utf8HeaderValues: CollectionOfOne(firstBaggage)) : Baggage(utf8HeaderValues: [firstBaggage] + moreBaggage)
            if !parsed.isEmpty { baggage = parsed }
        }
    }
}

/// The span name made for the last topic, so that records of one topic share it.
private final class LastSpanName: Sendable {
    let last = Mutex<(topic: String, name: String)?>(nil)
}
