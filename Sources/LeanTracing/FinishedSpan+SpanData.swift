import OTLPWire
import Tracing

extension FinishedSpan {
    /// The span as the OTLP encoders take it, with the attribute limits applied. Runs on the
    /// exporter's task, not where the span ended.
    func spanData(limits: SpanLimits) -> SpanData {
        let (attributes, droppedAttributes) = Self.merge(self.attributes, fastAttributes, limit: limits.maxAttributes)
        var status = SpanDataStatusCode.unset
        var message = ""
        if let spanStatus = self.status {
            status = spanStatus.code == .ok ? .ok : .error
            message = spanStatus.message ?? ""
        }
        return SpanData(
            traceID: context.traceID, spanID: context.spanID, parentSpanID: parentSpanID, traceState: context.traceState,
            traceFlags: context.traceFlags, name: name, kind: Self.kind(kind),
            startTimeUnixNano: startNanoseconds, endTimeUnixNano: endNanoseconds,
            attributes: attributes, droppedAttributesCount: droppedAttributes,
            events: events.map { event in
                let (attributes, dropped) = Self.convert(event.attributes, limit: limits.maxAttributesPerEvent)
                return SpanEventData(name: event.name, timeUnixNano: event.nanosecondsSinceEpoch, attributes: attributes, droppedAttributesCount: dropped)
            },
            droppedEventsCount: droppedEvents,
            links: links.map { context, linkAttributes in
                let (attributes, dropped) = Self.convert(linkAttributes, limit: limits.maxAttributesPerLink)
                return SpanLinkData(
                    traceID: context.traceID, spanID: context.spanID, traceState: context.traceState, traceFlags: context.traceFlags,
                    attributes: attributes, droppedAttributesCount: dropped)
            },
            droppedLinksCount: droppedLinks, statusCode: status, statusMessage: message)
    }

    static func kind(_ kind: SpanKind) -> SpanDataKind {
        switch kind {
        case .server: .server
        case .client: .client
        case .producer: .producer
        case .consumer: .consumer
        case .internal: .internal
        }
    }

    /// Both kinds of attributes together; for a key set both ways, the fast path's value wins.
    static func merge(_ attributes: SpanAttributes, _ fast: [Attribute], limit: Int) -> ([Attribute], UInt32) {
        if fast.isEmpty { return convert(attributes, limit: limit) }
        var result = attributes.isEmpty ? [] : convert(attributes, limit: Int.max).0
        if !result.isEmpty {
            let fastKeys = Set(fast.map(\.key))
            result.removeAll { fastKeys.contains($0.key) }
        }
        // Later fast values replace earlier ones of the same key.
        var seen = Set<String>()
        for attribute in fast.reversed() where seen.insert(attribute.key).inserted {
            result.append(attribute)
        }
        result.sort { $0.key < $1.key }
        guard result.count > limit else { return (result, 0) }
        let dropped = UInt32(result.count - limit)
        result.removeLast(result.count - limit)
        return (result, dropped)
    }

    /// OTLP attributes from swift-distributed-tracing's, sorted by key (so exports are
    /// reproducible); past `limit`, the rest are counted as dropped.
    static func convert(_ attributes: SpanAttributes, limit: Int) -> ([Attribute], UInt32) {
        guard !attributes.isEmpty else { return ([], 0) }
        var result: [Attribute] = []
        result.reserveCapacity(attributes.count)
        attributes.forEach { key, value in
            if let converted = convert(value) { result.append(Attribute(key, converted)) }
        }
        result.sort { $0.key < $1.key }
        guard result.count > limit else { return (result, 0) }
        let dropped = UInt32(result.count - limit)
        result.removeLast(result.count - limit)
        return (result, dropped)
    }

    static func convert(_ value: SpanAttribute) -> AttributeValue? {
        switch value {
        case .int32(let value): .int(Int64(value))
        case .int64(let value): .int(value)
        case .int32Array(let values): .intArray(values.map(Int64.init))
        case .int64Array(let values): .intArray(values)
        case .double(let value): .double(value)
        case .doubleArray(let values): .doubleArray(values)
        case .bool(let value): .bool(value)
        case .boolArray(let values): .boolArray(values)
        case .string(let value): .string(value)
        case .stringArray(let values): .stringArray(values)
        case .stringConvertible(let value): .string(value.description)
        case .stringConvertibleArray(let values): .stringArray(values.map(\.description))
        default: nil
        }
    }
}
