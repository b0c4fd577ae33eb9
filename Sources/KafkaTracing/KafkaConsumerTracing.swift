import Baggage
import Kafka
import LeanTracing
import OTLPWire
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

    public init(groupID: String, clientID: String, allowList: BaggageAllowList = .businessIDs) {
        self.groupID = groupID
        self.clientID = clientID
        self.allowList = allowList
    }

    public init(_ consumer: KafkaConsumer, allowList: BaggageAllowList = .businessIDs) {
        self.init(groupID: consumer.configuration.groupID, clientID: consumer.configuration.kafka.clientID, allowList: allowList)
    }

    /// The producer's trace context and the baggage a record carries, and, when there is no
    /// usable trace context, why.
    public func extractContext(_ message: KafkaMessage) -> (context: ServiceContext, problem: String?) {
        var context = ServiceContext.topLevel
        var problem: String?
        if let traceparent = message.headers.string("traceparent") {
            if let reason = TraceParentCheck.problem(traceparent) {
                problem = "invalid traceparent: \(reason)"
            } else {
                InstrumentationSystem.instrument.extract(message.headers, into: &context, using: KafkaHeadersExtractor())
            }
        } else {
            // A tracer that propagates with other headers still gets its chance.
            InstrumentationSystem.instrument.extract(message.headers, into: &context, using: KafkaHeadersExtractor())
            if context.isEmpty { problem = "no traceparent header" }
        }
        var baggageValues: [String] = []
        for header in message.headers where header.key == baggageHeader {
            if let value = header.value { baggageValues.append(String(decoding: value, as: UTF8.self)) }
        }
        if !baggageValues.isEmpty {
            let baggage = Baggage(headerValues: baggageValues)
            if !baggage.isEmpty { context.baggage = baggage }
        }
        return (context, problem)
    }

    /// Starts the `process {topic}` span of one record; the caller ends it. When the record
    /// carries no usable trace context, the span is the root of a new trace, named
    /// `rootName` when one is given (a component that starts a flow names it).
    public func startProcessSpan(_ message: KafkaMessage, rootName: String? = nil) -> any Span {
        let (context, problem) = extractContext(message)
        let name = problem != nil ? (rootName ?? "process \(message.topic)") : "process \(message.topic)"
        let span = startSpan(name, context: context, ofKind: .consumer)
        var attributes = messageAttributes(message)
        attributes.addBusinessIDs(from: context.baggage, allowList: allowList)
        if let problem {
            attributes.append(Attribute(MessagingAttribute.traceContextProblem, .string(problem)))
        } else {
            span.addLink(SpanLink(context: context, attributes: [:]))
        }
        span.setAttributes(fast: attributes)
        return span
    }

    /// Runs `body` inside the record's `process {topic}` span, with that span's context (and the
    /// record's baggage) as the current context. An error thrown by `body` is recorded on the
    /// span and rethrown.
    public func withProcessSpan<T>(
        _ message: KafkaMessage,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (any Span) async throws -> T
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
