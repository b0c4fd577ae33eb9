import Foundation

/// `/api/lineage` as a client reads it (`docs/explorer-api.md`): what `ordertrace trace`
/// prints.
public struct LineageDocument: Decodable, Sendable {
    public struct Match: Decodable, Sendable {
        public var key: String
        public var value: String
        public var traceId: String
    }

    public struct Trace: Decodable, Sendable {
        public var traceId: String
        public var kind: String
        public var label: String
        public var rootName: String
        public var spanCount: Int
        public var loaded: Bool
        public var seed: Bool
    }

    public struct Span: Decodable, Sendable {
        public var traceId: String
        public var spanId: String
        public var parentSpanId: String
        public var name: String
        public var kind: String
        public var service: String
        public var start: Int64
        public var duration: Int64
        public var status: String
        public var attributes: [String: AttributeValue]
        public var links: [Link]
    }

    public struct Link: Decodable, Sendable {
        public var traceId: String
        public var spanId: String
        public var attributes: [String: AttributeValue]
    }

    public struct Reference: Decodable, Sendable, Hashable {
        public var traceId: String
        public var spanId: String
    }

    public struct Edge: Decodable, Sendable {
        public var from: Reference
        public var to: Reference
        public var type: String
        public var role: String
    }

    public struct Missing: Decodable, Sendable {
        public var traceId: String
        public var spanId: String
        public var referencedBy: String
    }

    public struct MissingSet: Decodable, Sendable {
        public var parents: [Missing]
        public var links: [Missing]
    }

    public struct Order: Decodable, Sendable {
        public var clientOrderId: String
        public var userId: String
        public var traceId: String
        public var batchIds: [String]
        public var received: Bool
        public var batched: Bool
        public var sentToExchange: Bool
        public var fills: Int
        public var updates: Int
        public var updatesDelivered: Int
        public var completed: Bool
        public var status: String
        public var complete: Bool
        public var problems: [String]
    }

    /// An attribute value as JSON has it.
    public enum AttributeValue: Decodable, Sendable, CustomStringConvertible {
        case string(String), number(Double), bool(Bool), array([AttributeValue]), null

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else {
                self = .array(try container.decode([AttributeValue].self))
            }
        }

        public var description: String {
            switch self {
            case .string(let text): text
            case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .bool(let flag): String(flag)
            case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
            case .null: "null"
            }
        }
    }

    public var query: String
    public var matches: [Match]
    public var truncated: Bool
    public var traces: [Trace]
    public var spans: [Span]
    public var edges: [Edge]
    public var missing: MissingSet
    public var orders: [Order]
}
