#if canImport(Glibc)
import Glibc
#endif

/// Connection settings shared by producers, consumers and admin clients.
///
/// `properties` passes any librdkafka property through unchanged (for example
/// `security.protocol`, `sasl.mechanisms`, `ssl.ca.location`), so TLS and SASL work against a
/// real cluster. The typed settings of `KafkaProducerConfiguration` and
/// `KafkaConsumerConfiguration` are applied first; `properties` override them.
public struct KafkaConfiguration: Sendable, Hashable {
    /// Bootstrap servers, `host:port`.
    public var brokers: [String] = ["127.0.0.1:9092"]
    /// `client.id`, shown in broker logs and spans.
    public var clientID: String = "ordertrace"
    /// librdkafka properties passed through as they are.
    public var properties: [String: String] = [:]
    /// How long the broker may hold a consumer's empty fetch (`fetch.wait.max.ms`), when not the
    /// consumer's default (see `KafkaConsumerConfiguration.fetchMaxWait`).
    public var fetchMaxWait: Duration?

    public init(brokers: [String] = ["127.0.0.1:9092"], clientID: String = "ordertrace", properties: [String: String] = [:]) {
        self.brokers = brokers
        self.clientID = clientID
        self.properties = properties
    }

    /// Reads the environment:
    /// - `KAFKA_BROKERS`: comma-separated bootstrap servers (default `127.0.0.1:9092`);
    /// - `KAFKA_CLIENT_ID`;
    /// - `KAFKA_PROPERTIES`: librdkafka properties, `name=value` separated by `;` or new lines;
    /// - `KAFKA_PROPERTIES_FILE`: a file of `name=value` lines (`#` starts a comment);
    /// - `KAFKA_FETCH_MAX_WAIT_MS`: consumers' `fetch.wait.max.ms` (`ordertrace up` sets 5 for
    ///   librdkafka's mock, which holds an empty fetch that long even when records arrive).
    ///
    /// - Throws: `KafkaError` (`.configuration`) for a line that is not `name=value` or a file that
    ///   cannot be read, or a fetch wait that is not a whole number of milliseconds.
    public static func fromEnvironment(_ environment: [String: String] = KafkaConfiguration.processEnvironment()) throws -> KafkaConfiguration {
        var configuration = KafkaConfiguration()
        if let brokers = environment["KAFKA_BROKERS"], !brokers.isEmpty {
            configuration.brokers = brokers.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
        }
        if let clientID = environment["KAFKA_CLIENT_ID"], !clientID.isEmpty {
            configuration.clientID = clientID
        }
        if let path = environment["KAFKA_PROPERTIES_FILE"], !path.isEmpty {
            guard let text = readTextFile(path) else {
                throw KafkaError.configuration("KAFKA_PROPERTIES_FILE: cannot read '\(path)'")
            }
            try configuration.properties.merge(parseProperties(text, source: "KAFKA_PROPERTIES_FILE")) { $1 }
        }
        if let inline = environment["KAFKA_PROPERTIES"], !inline.isEmpty {
            try configuration.properties.merge(parseProperties(inline, source: "KAFKA_PROPERTIES")) { $1 }
        }
        if let wait = environment["KAFKA_FETCH_MAX_WAIT_MS"], !wait.isEmpty {
            guard let milliseconds = Int64(wait.trimmed), (0...300_000).contains(milliseconds) else {
                throw KafkaError.configuration("KAFKA_FETCH_MAX_WAIT_MS: '\(wait)' is not a number of milliseconds from 0 to 300000")
            }
            configuration.fetchMaxWait = .milliseconds(milliseconds)
        }
        return configuration
    }

    /// Parses `name=value` pairs separated by new lines or `;`. Blank lines and `#` comments are skipped.
    public static func parseProperties(_ text: String, source: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == ";" }) {
            let line = String(rawLine).trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else {
                throw KafkaError.configuration("\(source): '\(line)' is not of the form name=value")
            }
            result[String(line[..<equals]).trimmed] = String(line[line.index(after: equals)...]).trimmed
        }
        return result
    }

    /// The process environment as a dictionary.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let pair = String(cString: entry)
            if let equals = pair.firstIndex(of: "=") {
                result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    private static func readTextFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Settings of a `KafkaProducer`. Defaults favour low latency and no duplicates.
public struct KafkaProducerConfiguration: Sendable, Hashable {
    public var kafka: KafkaConfiguration
    /// `enable.idempotence`: no duplicates or reordering on retries.
    public var isIdempotent = true
    /// `linger.ms`: how long to wait to fill a batch. Small by default: orders are latency-sensitive.
    public var linger: Duration = .milliseconds(1)
    /// `message.timeout.ms`: a record not acknowledged within this time fails with a delivery error.
    public var messageTimeout: Duration = .seconds(30)
    /// `queue.buffering.max.messages`: records waiting for delivery. When full, `send` waits.
    public var maxQueuedMessages = 100_000
    /// `message.max.bytes`: the largest record (batch) this producer sends. Twice Kafka's usual
    /// 1 MB, so that a dead letter (a record up to that size, with its error headers added)
    /// still fits; the dead-letters topic allows as much (`topics/dead-letters.json`).
    public var maxMessageBytes = 2_097_152
    /// `compression.codec` (`none`, `gzip`, `snappy`, `lz4`, `zstd`). lz4 by default: the
    /// pipeline's JSON shrinks about tenfold in a batch for little CPU, which is what lets the
    /// embedded broker (8 MB kept per partition) hold a long run, and what saves a real
    /// cluster's network and disk.
    public var compression = "lz4"

    public init(kafka: KafkaConfiguration = KafkaConfiguration()) {
        self.kafka = kafka
    }

    var librdkafkaProperties: [String: String] {
        var properties = [
            "bootstrap.servers": kafka.brokers.joined(separator: ","),
            "client.id": kafka.clientID,
            "enable.idempotence": String(isIdempotent),
            "linger.ms": String(linger.milliseconds),
            "message.timeout.ms": String(messageTimeout.milliseconds),
            "queue.buffering.max.messages": String(maxQueuedMessages),
            "compression.codec": compression,
            "message.max.bytes": String(maxMessageBytes),
        ]
        properties.merge(kafka.properties) { $1 }
        return properties
    }
}

/// Where a consumer group starts reading a partition that has no committed offset.
public enum KafkaInitialOffset: String, Sendable, Hashable {
    case beginning
    case end
}

/// Settings of a `KafkaConsumer`.
public struct KafkaConsumerConfiguration: Sendable, Hashable {
    public var kafka: KafkaConfiguration
    /// `group.id`.
    public var groupID: String
    /// Topics to subscribe to.
    public var topics: [String]
    /// Where a partition without a committed offset starts (default: the beginning, so nothing
    /// produced before the group first ran is missed).
    public var initialOffset: KafkaInitialOffset = .beginning
    /// Messages handed over at most in one batch.
    public var maxBatchSize = 1_000
    /// Messages buffered between the poll thread and the handler before fetching pauses.
    public var bufferHighWatermark = 20_000
    /// Fetching resumes once the buffer drains below this.
    public var bufferLowWatermark = 5_000
    /// How often stored (processed) offsets are committed.
    public var commitInterval: Duration = .seconds(1)
    /// `session.timeout.ms`.
    public var sessionTimeout: Duration = .seconds(10)
    /// `heartbeat.interval.ms`.
    public var heartbeatInterval: Duration = .seconds(1)
    /// `max.poll.interval.ms`.
    public var maxPollInterval: Duration = .seconds(300)
    /// `fetch.wait.max.ms`: how long the broker may hold a fetch when it has too little data.
    /// Short by default: librdkafka's mock holds a fetch this long even when other partitions of
    /// the request have data, which stalled reading for up to a second with librdkafka's 500 ms.
    /// Apache Kafka and the native embedded broker answer as soon as data arrives, so a short
    /// wait costs only idle requests.
    public var fetchMaxWait: Duration = .milliseconds(50)
    /// How long one blocking poll waits when nothing arrives (it returns at once when a message does).
    public var pollTimeout: Duration = .milliseconds(100)
    /// Whether messages come with their headers. A reader that never looks at them (one that
    /// counts or routes records by key and value) is spared librdkafka's parsing of each
    /// record's headers and their copies; a traced component needs them for its process spans.
    public var readsHeaders = true

    public init(kafka: KafkaConfiguration = KafkaConfiguration(), groupID: String, topics: [String]) {
        self.kafka = kafka
        self.groupID = groupID
        self.topics = topics
        if let wait = kafka.fetchMaxWait { fetchMaxWait = wait }
    }

    var librdkafkaProperties: [String: String] {
        var properties = [
            "bootstrap.servers": kafka.brokers.joined(separator: ","),
            "client.id": kafka.clientID,
            "group.id": groupID,
            // At-least-once: offsets are stored only once the handler finished a message,
            // and the stored ones are committed in the background and on revoke/close.
            "enable.auto.commit": "true",
            "enable.auto.offset.store": "false",
            "auto.commit.interval.ms": String(commitInterval.milliseconds),
            // A gap (offset out of range) must surface as an error, never a silent reset.
            "auto.offset.reset": "error",
            "session.timeout.ms": String(sessionTimeout.milliseconds),
            "heartbeat.interval.ms": String(heartbeatInterval.milliseconds),
            "max.poll.interval.ms": String(maxPollInterval.milliseconds),
            "enable.partition.eof": "false",
            "fetch.wait.max.ms": String(fetchMaxWait.milliseconds),
            // librdkafka 2.0 stops fetching once its prefetch queue holds queued.min.messages
            // (default 100,000) and looks again only at its broker thread's next wake-up, up to
            // 1 s later: a full stop whenever the polling thread drains slower than the broker
            // sends. Our own buffer bounds memory (fetching pauses when it fills), so let the
            // prefetch queue be bounded by size (queued.max.messages.kbytes, 64 MB) instead.
            "queued.min.messages": "10000000",
        ]
        properties.merge(kafka.properties) { $1 }
        return properties
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}

extension String {
    var trimmed: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
