import OTLPWire
import TraceContext
import Tracing

/// From swift-distributed-tracing's values to OTLP's, with the span limits applied.
enum SpanConversion {
    static func event(_ event: SpanEvent, limits: SpanLimits) -> SpanEventData {
        let (attributes, dropped) = convert(event.attributes, limit: limits.maxAttributesPerEvent)
        return SpanEventData(name: event.name, timeUnixNano: event.nanosecondsSinceEpoch, attributes: attributes, droppedAttributesCount: dropped)
    }

    static func link(_ context: SpanContext, _ linkAttributes: SpanAttributes, limits: SpanLimits) -> SpanLinkData {
        let (attributes, dropped) = convert(linkAttributes, limit: limits.maxAttributesPerLink)
        return SpanLinkData(
            traceID: context.traceID, spanID: context.spanID, traceState: context.traceState, traceFlags: context.traceFlags,
            attributes: attributes, droppedAttributesCount: dropped)
    }

    /// A link whose attributes are OTLP values already: kept as given, up to the per-link limit.
    static func link(_ context: SpanContext, _ attributes: [Attribute], limits: SpanLimits) -> SpanLinkData {
        let limit = limits.maxAttributesPerLink
        let kept = attributes.count > limit ? Array(attributes.prefix(limit)) : attributes
        return SpanLinkData(
            traceID: context.traceID, spanID: context.spanID, traceState: context.traceState, traceFlags: context.traceFlags,
            attributes: kept, droppedAttributesCount: UInt32(attributes.count - kept.count))
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

    /// Both kinds of attributes together; for a key set more than once, the last value set by
    /// the fast path wins. No hashing for the usual handful of attributes.
    static func merge(_ attributes: SpanAttributes, _ fast: [Attribute], limit: Int) -> ([Attribute], UInt32) {
        if fast.isEmpty { return convert(attributes, limit: limit) }
        var result: [Attribute]
        if attributes.isEmpty {
            result = fast
        } else {
            result = convert(attributes, limit: Int.max).0
            result.removeAll { existing in fast.contains { $0.key == existing.key } }
            result += fast
        }
        result = deduplicated(result)
        guard result.count > limit else { return (result, 0) }
        let dropped = UInt32(result.count - limit)
        result.removeLast(result.count - limit)
        return (result, dropped)
    }

    /// Sets `attribute` in `attributes`: in the place of its key when the key is there (its
    /// first place; keys' bytes compared only when their lengths match), at the end otherwise.
    static func set(_ attribute: Attribute, in attributes: inout [Attribute]) {
        let length = attribute.key.utf8.count
        let index = attributes.withUnsafeBufferPointer { buffer in
            buffer.firstIndex { $0.key.utf8.count == length && $0.key == attribute.key }
        }
        if let index {
            attributes[index].value = attribute.value
        } else {
            attributes.append(attribute)
        }
    }

    /// `attributes` with only the last of each key, in the order of those last ones.
    static func deduplicated(_ attributes: [Attribute]) -> [Attribute] {
        if attributes.count <= 32 {
            var hasDuplicate = false
            outer: for index in attributes.indices {
                let key = attributes[index].key
                let length = key.utf8.count
                for other in attributes.indices[(index + 1)...] where attributes[other].key.utf8.count == length && attributes[other].key == key {
                    hasDuplicate = true
                    break outer
                }
            }
            guard hasDuplicate else { return attributes }
        }
        var seen = Set<String>()
        var kept: [Attribute] = []
        for attribute in attributes.reversed() where seen.insert(attribute.key).inserted { kept.append(attribute) }
        return kept.reversed()
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
