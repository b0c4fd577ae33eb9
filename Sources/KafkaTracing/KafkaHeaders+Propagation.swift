import Kafka
import TraceContext
import Tracing

/// Kafka headers carry trace context with *set* semantics: a key set again (a retry, a message
/// passed on) replaces its value, never adds a second one.
extension KafkaHeaders: TraceHeaders {}

/// Writes a tracer's context into Kafka headers (set, never appended).
public struct KafkaHeadersInjector: Injector {
    public init() {}
    public func inject(_ value: String, forKey key: String, into carrier: inout KafkaHeaders) {
        carrier.set(key, value)
    }
}

/// Reads a tracer's context from Kafka headers.
public struct KafkaHeadersExtractor: Extractor {
    public init() {}
    public func extract(key: String, from carrier: KafkaHeaders) -> String? {
        // An invalid tracestate is dropped, a valid one capped (`TraceState`).
        key == "tracestate" ? carrier.string(key).flatMap { TraceState.sanitized($0) } : carrier.string(key)
    }
}
