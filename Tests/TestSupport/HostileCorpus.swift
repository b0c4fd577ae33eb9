import Foundation

/// The corpus of hostile inputs in `Tests/Corpus/hostile/cases.jsonl`, one case per line.
///
/// A case has a `name`, a `note`, a payload (`payload`, text with placeholders, or `payloadBase64`,
/// bytes taken as they are), optional `headers` (name/value pairs, repeats allowed: HTTP headers of
/// the POST and of the WebSocket upgrade, Kafka headers of the record), an optional `sendTimes`
/// (how often the same input is sent), and `expect`: per door (`websocket`, `post`, `kafka`) the
/// outcome, `rejected` or `dead-letter` with a `reason` substring, or `processed` (the order is
/// filled). A door the case does not name is not tried. `kafkaParentTraceId`: the trace a processed
/// Kafka record's order continues (none: a new trace).
///
/// Placeholders in text: `{{id}}` (a client order id unique to the case and the door), `{{user}}`
/// (the door's user), `{{repeat:COUNT:LENGTH:UNIT}}` (`UNIT`, `LENGTH` characters long, `COUNT`
/// times).
public struct HostileCase: Sendable {
    public enum Door: String, Sendable, CaseIterable {
        case websocket, post, kafka

        /// The user the door's inputs come from: each door has its own, so that one door's
        /// updates never answer another's.
        public var user: String {
            switch self {
            case .websocket: "alice"
            case .post: "bob"
            case .kafka: "carol"
            }
        }

        public var token: String { "demo-\(user)" }
        public var short: String {
            switch self {
            case .websocket: "ws"
            case .post: "post"
            case .kafka: "kafka"
            }
        }
    }

    public enum Outcome: Sendable, Equatable {
        case rejected(reason: String)
        case deadLetter(reason: String)
        case processed
    }

    public var name: String
    public var note: String
    /// Either text with placeholders or raw bytes.
    public var payloadText: String?
    public var payloadBytes: [UInt8]?
    public var headers: [(name: String, value: String)]
    public var sendTimes: Int
    public var expect: [Door: Outcome]
    /// For a processed Kafka record: the trace id its `traceparent` names, which the order's trace
    /// must continue; `nil`: no usable `traceparent`, so the order manager starts a new trace and
    /// says why.
    public var kafkaParentTraceId: String?
    /// Appended to the client order id `{{id}}` stands for (an id with characters that are
    /// hard to carry).
    public var idSuffix: String = ""

    public init(
        name: String, note: String, payloadText: String?, payloadBytes: [UInt8]?, headers: [(name: String, value: String)], sendTimes: Int,
        expect: [Door: Outcome], kafkaParentTraceId: String? = nil
    ) {
        self.name = name
        self.note = note
        self.payloadText = payloadText
        self.payloadBytes = payloadBytes
        self.headers = headers
        self.sendTimes = sendTimes
        self.expect = expect
        self.kafkaParentTraceId = kafkaParentTraceId
    }

    /// The client order id `{{id}}` stands for at `door`.
    public func clientOrderId(at door: Door) -> String { "hostile-\(name)-\(door.short)\(idSuffix)" }

    /// The payload bytes as `door` sends them.
    public func payload(at door: Door) -> [UInt8] {
        if let payloadBytes { return payloadBytes }
        return Array(Self.expand(payloadText ?? "", id: clientOrderId(at: door), user: door.user).utf8)
    }

    /// The headers with their placeholders expanded.
    public func expandedHeaders(at door: Door) -> [(name: String, value: String)] {
        headers.map { ($0.name, Self.expand($0.value, id: clientOrderId(at: door), user: door.user)) }
    }

    /// Whether a header name appears more than once (Kafka's client API sets, never appends: such
    /// records are written with kcat).
    public var repeatsAHeader: Bool { Set(headers.map(\.name)).count != headers.count }

    public static func expand(_ text: String, id: String, user: String) -> String {
        let bytes = Array(text.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        func starts(_ prefix: String, at index: Int) -> Bool {
            let prefix = Array(prefix.utf8)
            return index + prefix.count <= bytes.count && Array(bytes[index..<index + prefix.count]) == prefix
        }
        func number(from index: inout Int) -> Int? {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index > start ? Int(String(decoding: bytes[start..<index], as: UTF8.self)) : nil
        }
        var index = 0
        while index < bytes.count {
            if starts("{{id}}", at: index) {
                result += Array(id.utf8)
                index += 6
            } else if starts("{{user}}", at: index) {
                result += Array(user.utf8)
                index += 8
            } else if starts("{{repeat:", at: index) {
                index += 9
                guard let count = number(from: &index), starts(":", at: index) else { preconditionFailure("bad repeat placeholder in \(text.prefix(80))") }
                index += 1
                guard let length = number(from: &index), starts(":", at: index) else { preconditionFailure("bad repeat placeholder in \(text.prefix(80))") }
                index += 1
                let unit = Array(bytes[index..<min(bytes.count, index + length)])
                index += length
                precondition(starts("}}", at: index), "bad repeat placeholder in \(text.prefix(80))")
                index += 2
                for _ in 0..<count { result += unit }
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Every case of the corpus.
    public static func load() throws -> [HostileCase] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Corpus/hostile/cases.jsonl")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.isEmpty }.map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let name = object["name"] as? String, let expect = object["expect"] as? [String: [String: String]]
            else { throw CorpusError(line: String(line.prefix(120))) }
            var outcomes: [Door: Outcome] = [:]
            for (doorName, outcome) in expect {
                guard let door = Door(rawValue: doorName) else { throw CorpusError(line: "\(name): unknown door \(doorName)") }
                let reason = outcome["reason"] ?? ""
                switch outcome["outcome"] {
                case "rejected" where !reason.isEmpty: outcomes[door] = .rejected(reason: reason)
                case "dead-letter" where !reason.isEmpty: outcomes[door] = .deadLetter(reason: reason)
                case "processed": outcomes[door] = .processed
                default: throw CorpusError(line: "\(name): bad outcome \(outcome)")
                }
            }
            var bytes: [UInt8]?
            if let base64 = object["payloadBase64"] as? String {
                guard let data = Data(base64Encoded: base64) else { throw CorpusError(line: "\(name): bad base64") }
                bytes = Array(data)
            }
            let headers = (object["headers"] as? [[String]] ?? []).map { (name: $0[0], value: $0[1]) }
            var hostile = HostileCase(
                name: name, note: object["note"] as? String ?? "", payloadText: object["payload"] as? String, payloadBytes: bytes,
                headers: headers, sendTimes: object["sendTimes"] as? Int ?? 1, expect: outcomes,
                kafkaParentTraceId: object["kafkaParentTraceId"] as? String)
            hostile.idSuffix = object["idSuffix"] as? String ?? ""
            return hostile
        }
    }

    public struct CorpusError: Error, CustomStringConvertible {
        public var line: String
        public var description: String { "bad corpus line: \(line)" }
    }
}

