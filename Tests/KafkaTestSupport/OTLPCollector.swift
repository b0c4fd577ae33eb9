import Foundation
import OTLPReceiver
import Synchronization

/// Collects what an `OTLPHTTPReceiver` is sent as OTLP/JSON, decoded with Foundation (not with
/// our code).
public final class OTLPCollector: Sendable {
    private let bodies = Mutex<[Data]>([])
    private let receiver = Mutex<OTLPHTTPReceiver?>(nil)

    public var endpoint: String { receiver.withLock { $0?.tracesEndpoint } ?? "" }

    public static func start() async throws -> OTLPCollector {
        let collector = OTLPCollector()
        let receiver = try await OTLPHTTPReceiver.start { body, _ in collector.bodies.withLock { $0.append(Data(body)) } }
        collector.receiver.withLock { $0 = receiver }
        return collector
    }

    public func stop() async {
        await receiver.withLock { $0 }?.stop()
    }

    private var exports: [[String: Any]] {
        let copy = bodies.withLock { $0 }
        return copy.compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// Every span received so far, as OTLP/JSON objects.
    public var spans: [[String: Any]] {
        var result: [[String: Any]] = []
        for export in exports {
            for resource in export["resourceSpans"] as? [[String: Any]] ?? [] {
                for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                    result += scope["spans"] as? [[String: Any]] ?? []
                }
            }
        }
        return result
    }

    /// Every span received so far with the `service.name` of its resource.
    public var spansWithService: [(service: String, span: [String: Any])] {
        var result: [(String, [String: Any])] = []
        for export in exports {
            for resource in export["resourceSpans"] as? [[String: Any]] ?? [] {
                let service = OTLPJSON.attributes((resource["resource"] as? [String: Any])?["attributes"])["service.name"] ?? ""
                for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                    for span in scope["spans"] as? [[String: Any]] ?? [] { result.append((service, span)) }
                }
            }
        }
        return result
    }

    /// The resource attributes of the first export.
    public var resourceAttributes: [String: String] {
        guard let resource = (exports.first?["resourceSpans"] as? [[String: Any]])?.first?["resource"] as? [String: Any] else { return [:] }
        return OTLPJSON.attributes(resource["attributes"])
    }
}

/// Reading OTLP/JSON values.
public enum OTLPJSON {
    public static func attributes(_ value: Any?) -> [String: String] {
        var result: [String: String] = [:]
        for attribute in value as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any], let first = value.first else { continue }
            result[key] = "\(first.value)"
        }
        return result
    }

    public static func kind(_ span: [String: Any]) -> String {
        switch span["kind"] {
        case let number as Int: ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"][number]
        case let text as String: text.replacingOccurrences(of: "SPAN_KIND_", with: "")
        default: "?"
        }
    }
}
