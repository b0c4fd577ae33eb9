import OTLPWire
import Tracing

extension Span {
    /// Sets attributes the fast way when this is a lean span (an array of OTLP values, no
    /// dictionary of existentials), and through `SpanAttributes` otherwise, so code that sets
    /// many attributes on hot paths works with any tracer.
    public func setAttributes(fast attributes: [Attribute]) {
        // Self is the span's dynamic type here: comparing metadata is cheaper than a cast.
        if Self.self == LeanSpan.self {
            unsafeBitCast(self, to: Optional<LeanSpan>.self)?.setAttributes(attributes)
            return
        }
        updateAttributes { existing in
            for attribute in attributes { existing[attribute.key] = attribute.value.spanAttribute }
        }
    }
}

extension AttributeValue {
    /// The value as swift-distributed-tracing's `SpanAttribute`.
    public var spanAttribute: SpanAttribute {
        switch self {
        case .string(let value): .string(value)
        case .bool(let value): .bool(value)
        case .int(let value): .int64(value)
        case .double(let value): .double(value)
        case .stringArray(let values): .stringArray(values)
        case .boolArray(let values): .boolArray(values)
        case .intArray(let values): .int64Array(values)
        case .doubleArray(let values): .doubleArray(values)
        }
    }
}
