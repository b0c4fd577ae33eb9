import Kafka
import LeanTracing
import Tracing

/// Writes trace context into Kafka headers with *set* semantics: a key set again (a retry, a
/// message passed on) replaces its value, never adds a second one.
public struct KafkaHeadersInjector: Injector {
    public init() {}
    public func inject(_ value: String, forKey key: String, into carrier: inout KafkaHeaders) {
        carrier.set(key, value)
    }
}

/// Reads trace context from Kafka headers.
public struct KafkaHeadersExtractor: Extractor {
    public init() {}
    public func extract(key: String, from carrier: KafkaHeaders) -> String? {
        carrier.string(key)
    }
}

/// Reads and writes trace context in a plain dictionary (a stored `traceparent`, for instance).
struct DictionaryPropagation: Injector, Extractor {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
    func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key]
    }
}

extension KafkaHeaders {
    /// Sets `traceparent` (and `tracestate`, or removes a stale one) from a lean span context,
    /// written as bytes: no string and no instrument call on the producer's hot path.
    public mutating func setTraceContext(_ spanContext: SpanContext) {
        set("traceparent", bytes: spanContext.traceparentBytes)
        if spanContext.traceState.isEmpty {
            remove("tracestate")
        } else {
            set("tracestate", spanContext.traceState)
        }
    }
}
