/// A fault the embedded broker can be told to show, to test how clients live through it.
public enum EmbeddedBrokerFault: Sendable, Hashable, CustomStringConvertible {
    /// The broker closes its connections and refuses new ones (ids start at 1).
    case brokerDown(Int32)
    /// The broker accepts connections again.
    case brokerUp(Int32)
    /// The next `count` requests of a kind fail with a Kafka error code (e.g. 6,
    /// NOT_LEADER_OR_FOLLOWER; 7, REQUEST_TIMED_OUT; 15, COORDINATOR_NOT_AVAILABLE).
    case requestErrors(KafkaRequest, count: Int, errorCode: Int32)
    /// The partition's leader moves to another broker.
    case leader(topic: String, partition: Int32, broker: Int32)
    /// Every answer of the broker is delayed by this many milliseconds (0 ends it).
    case latency(broker: Int32, milliseconds: Int)

    /// Kafka protocol request types that faults can target.
    public enum KafkaRequest: String, Sendable, Hashable, CaseIterable {
        case produce, fetch, listOffsets = "list-offsets", metadata, offsetCommit = "offset-commit", offsetFetch = "offset-fetch"
        case findCoordinator = "find-coordinator", joinGroup = "join-group", heartbeat, syncGroup = "sync-group"

        /// The protocol's ApiKey.
        var apiKey: Int16 {
            switch self {
            case .produce: 0
            case .fetch: 1
            case .listOffsets: 2
            case .metadata: 3
            case .offsetCommit: 8
            case .offsetFetch: 9
            case .findCoordinator: 10
            case .joinGroup: 11
            case .heartbeat: 12
            case .syncGroup: 14
            }
        }
    }

    /// Reads a fault from one line of text, as `ordertrace broker --faults-from-stdin` takes them:
    /// `down 2`, `up 2`, `fail produce 5 7`, `leader client-orders 0 3`, `latency 1 500`.
    /// - Throws: `KafkaError` (`.configuration`) with what is wrong and the forms it takes.
    public init(parsing line: String) throws {
        let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
        func number<T: FixedWidthInteger>(_ index: Int, _: T.Type) throws -> T {
            guard index < words.count, let value = T(words[index]) else { throw Self.usage(line) }
            return value
        }
        switch words.first {
        case "down" where words.count == 2: self = .brokerDown(try number(1, Int32.self))
        case "up" where words.count == 2: self = .brokerUp(try number(1, Int32.self))
        case "fail" where words.count == 4:
            guard let request = KafkaRequest(rawValue: words[1]) else { throw Self.usage(line) }
            self = .requestErrors(request, count: try number(2, Int.self), errorCode: try number(3, Int32.self))
        case "leader" where words.count == 4:
            self = .leader(topic: words[1], partition: try number(2, Int32.self), broker: try number(3, Int32.self))
        case "latency" where words.count == 3: self = .latency(broker: try number(1, Int32.self), milliseconds: try number(2, Int.self))
        default: throw Self.usage(line)
        }
    }

    private static func usage(_ line: String) -> KafkaError {
        KafkaError(
            code: .configuration,
            message: "not a fault: '\(line)'; one of: down BROKER, up BROKER, fail REQUEST COUNT ERRORCODE (REQUEST: \(KafkaRequest.allCases.map(\.rawValue).joined(separator: ", "))), leader TOPIC PARTITION BROKER, latency BROKER MILLISECONDS")
    }

    public var description: String {
        switch self {
        case .brokerDown(let id): "down \(id)"
        case .brokerUp(let id): "up \(id)"
        case .requestErrors(let request, let count, let code): "fail \(request.rawValue) \(count) \(code)"
        case .leader(let topic, let partition, let broker): "leader \(topic) \(partition) \(broker)"
        case .latency(let broker, let milliseconds): "latency \(broker) \(milliseconds)"
        }
    }
}

extension EmbeddedBroker {
    /// Shows a fault from now on (see ``EmbeddedBrokerFault``).
    /// - Throws: `KafkaError` when the cluster refuses it (an unknown broker, topic or partition).
    public func inject(_ fault: EmbeddedBrokerFault) throws {
        switch fault {
        case .brokerDown(let id): try setBroker(id, up: false)
        case .brokerUp(let id): try setBroker(id, up: true)
        case .requestErrors(let request, let count, let code): try failNextRequests(apiKey: request.apiKey, count: count, errorCode: code)
        case .leader(let topic, let partition, let broker): try setLeader(topic: topic, partition: partition, broker: broker)
        case .latency(let broker, let milliseconds): try setLatency(broker: broker, milliseconds: milliseconds)
        }
    }
}
