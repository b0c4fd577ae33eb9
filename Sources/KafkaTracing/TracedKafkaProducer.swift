import Baggage
import Kafka
import OTLPWire
import TraceContext
import Tracing

/// A `KafkaProducer` that traces every record: a `send {topic}` PRODUCER span per record, with
/// the messaging attributes and the business ids from baggage; the span's trace context
/// (`traceparent`, `tracestate`) and the baggage go into the record's headers (set, never
/// appended), and the span ends at the time the record's delivery report arrived, with
/// `error.type` on failure.
public struct TracedKafkaProducer: Sendable {
    public let producer: KafkaProducer
    /// Baggage keys copied into span attributes.
    public var allowList: BaggageAllowList

    public init(_ producer: KafkaProducer, allowList: BaggageAllowList = .businessIDs) {
        self.producer = producer
        self.allowList = allowList
    }

    /// Sends one record as a child of `context` and waits for its delivery report.
    /// - Throws: `KafkaError` when the record was not delivered.
    @discardableResult
    public func send(_ record: KafkaProducerRecord, context: ServiceContext = .current ?? .topLevel) async throws -> KafkaDeliveryReport {
        try await send([record], contexts: [context])[0].get()
    }

    /// Sends records, all children of `context`.
    public func send(_ records: [KafkaProducerRecord], context: ServiceContext = .current ?? .topLevel) async throws -> [Result<KafkaDeliveryReport, KafkaError>] {
        try await send(records, contexts: Array(repeating: context, count: records.count))
    }

    /// Sends records, each the child of its own context (an order's, say), and waits for all
    /// delivery reports, in order.
    public func send(
        _ items: [(KafkaProducerRecord, ServiceContext)], baggageHeaders: [[UInt8]?]? = nil
    ) async throws -> [Result<KafkaDeliveryReport, KafkaError>] {
        try await send(items.map(\.0), parents: items.map { .context($0.1) }, baggageHeaders: baggageHeaders)
    }

    /// Sends records, the one at each index the child of the context at the same index, and
    /// waits for all delivery reports, in order.
    ///
    /// The records are taken, not copied: their headers are written in place, so a caller that
    /// hands over an array it holds no other reference to (see the allocator's steps) makes no
    /// copy of any record on the way to librdkafka.
    ///
    /// Every record's span and headers are made before the first record is queued: making each
    /// just before it was queued measured the same in `bench tracing` and made the pipeline
    /// 10-20% slower (records reached librdkafka one by one instead of together).
    ///
    /// - Parameter baggageHeaders: when given, one per record: the record's baggage already
    ///   serialized as its header value (`Array(baggage.headerValue.utf8)`), which a caller that
    ///   keeps the baggage as text too (the allocator's outbox) has made anyway; `nil` entries
    ///   are serialized here.
    public func send(
        _ records: consuming [KafkaProducerRecord], contexts: [ServiceContext], baggageHeaders: [[UInt8]?]? = nil
    ) async throws -> [Result<KafkaDeliveryReport, KafkaError>] {
        try await send(consume records, parents: contexts.map { .context($0) }, baggageHeaders: baggageHeaders)
    }

    /// Sends records, the one at each index the child of the parent at the same index: a context,
    /// or a span, whose context is then never built (the allocator's updates). Otherwise as
    /// `send(_:contexts:baggageHeaders:)`.
    public func send(
        _ records: consuming [KafkaProducerRecord], parents: [MessagingParent], baggageHeaders: [[UInt8]?]? = nil
    ) async throws -> [Result<KafkaDeliveryReport, KafkaError>] {
        precondition(parents.count == records.count, "one parent per record")
        precondition(baggageHeaders.map { $0.count == records.count } ?? true, "one baggage header (or nil) per record")
        var spans: [any MessagingSpan] = []
        spans.reserveCapacity(records.count)
        let tracer = MessagingTracing.current
        let clientID = producer.configuration.kafka.clientID
        var lastBaggage: (Baggage, [UInt8])?
        var lastName: (topic: String, name: String)?
        for index in records.indices {
            let parent = parents[index]
            let baggage = parent.baggage
            let topic = records[index].topic
            // traceparent, baggage and perhaps tracestate, in one allocation.
            records[index].headers.reserveCapacity(records[index].headers.count + 3)
            // One name per topic, shared by its records' spans (a name past 15 bytes is allocated).
            let name: String
            if let lastName, lastName.topic == topic {
                name = lastName.name
            } else {
                name = "send \(topic)"
                lastName = (topic, name)
            }
            let span = tracer.startMessagingSpan(name, parent: parent, ofKind: .producer)
            span.writeContext(into: &records[index].headers)
            if span.isRecording {
                var attributes: [Attribute] = []
                // Room for the business ids and the partition and offset added on delivery.
                attributes.reserveCapacity(14)
                attributes.append(Attribute(MessagingAttribute.system, .string("kafka")))
                attributes.append(Attribute(MessagingAttribute.operationName, .string("send")))
                attributes.append(Attribute(MessagingAttribute.operationType, .string("send")))
                attributes.append(Attribute(MessagingAttribute.destinationName, .string(topic)))
                attributes.append(Attribute(MessagingAttribute.clientID, .string(clientID)))
                if let key = records[index].key { attributes.append(Attribute(MessagingAttribute.messageKey, .string(String(decoding: key, as: UTF8.self)))) }
                if let partition = records[index].partition { attributes.append(Attribute(MessagingAttribute.partitionID, .string(String(partition)))) }
                attributes.addBusinessIDs(from: baggage, allowList: allowList)
                span.setAttributes(attributes)
            }
            if let baggage, !baggage.isEmpty {
                // Serialize each distinct baggage once per call, not once per record; records
                // share the bytes.
                if let bytes = baggageHeaders?[index] {
                    records[index].headers.set(baggageHeader, bytes: bytes)
                } else if let (last, bytes) = lastBaggage, last == baggage {
                    records[index].headers.set(baggageHeader, bytes: bytes)
                } else {
                    let bytes = Array(baggage.headerValue.utf8)
                    lastBaggage = (baggage, bytes)
                    records[index].headers.set(baggageHeader, bytes: bytes)
                }
            } else {
                records[index].headers.remove(baggageHeader)
            }
            spans.append(span)
        }
        // Each span ends at its record's delivery time, but here, on the sending task, once all
        // are delivered: the callback, on librdkafka's polling thread, only notes the time, and
        // the spans are ended and freed on the task that started them.
        let delivered = DeliveryTimes(count: spans.count)
        let outcomes = try await producer.send(records) { index, _ in delivered.mark(index) }
        for (index, span) in spans.enumerated() {
            switch outcomes[index] {
            case .success(let report):
                // Appended in place: no array made for two attributes.
                span.setAttribute(MessagingAttribute.partitionID, .string(String(report.partition)))
                if let offset = report.offset { span.setAttribute(MessagingAttribute.offset, .int(offset)) }
            case .failure(let error):
                span.setAttribute(MessagingAttribute.errorType, .string(error.brokerErrorName ?? "\(error.code)"))
                span.recordError(error)
                span.setStatus(SpanStatus(code: .error, message: error.message))
            }
            span.end(at: DefaultTracerClock.Instant(nanosecondsSinceEpoch: delivered[index]))
        }
        return outcomes
    }
}

/// When each record of one send was delivered (wall-clock nanoseconds): written once per index
/// by the delivery callback, read after the send returned (which every callback happened before).
private final class DeliveryTimes: @unchecked Sendable {
    private let times: UnsafeMutableBufferPointer<UInt64>

    init(count: Int) {
        times = .allocate(capacity: count)
        times.initialize(repeating: 0)
    }

    deinit { times.deallocate() }

    func mark(_ index: Int) {
        times[index] = DefaultTracerClock.now.nanosecondsSinceEpoch
    }

    subscript(index: Int) -> UInt64 { times[index] }
}
