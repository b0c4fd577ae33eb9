import CRdKafka

/// An error from the Kafka client: what went wrong, and whether trying again can help.
///
/// `code` is opaque: compare it with the static members (`KafkaError.Code.configuration`, ...),
/// never with its raw value. `brokerCode` carries librdkafka's error number when there is one.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// An opaque error category.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A configuration property was rejected (the message names it).
        public static let configuration = Code("configuration")
        /// A message could not be delivered (see `brokerCode`).
        public static let delivery = Code("delivery")
        /// The client could not be created or used (librdkafka refused).
        public static let client = Code("client")
        /// An admin request (create topics, metadata) failed.
        public static let admin = Code("admin")
        /// The consumer failed (subscribe, commit, poll).
        public static let consumer = Code("consumer")
        /// The embedded broker could not start.
        public static let broker = Code("broker")
        /// A topic definition file is invalid.
        public static let topicDefinition = Code("topic definition")
        /// The producer or consumer was already shut down.
        public static let shutDown = Code("shut down")
    }

    public var code: Code
    public var message: String
    /// librdkafka's `rd_kafka_resp_err_t` value, when the error came from librdkafka.
    public var brokerCode: Int32?
    /// Trying the same operation again may succeed.
    public var isRetriable: Bool
    /// The client instance is unusable and must be recreated.
    public var isFatal: Bool

    public init(code: Code, message: String, brokerCode: Int32? = nil, isRetriable: Bool = false, isFatal: Bool = false) {
        self.code = code
        self.message = message
        self.brokerCode = brokerCode
        self.isRetriable = isRetriable
        self.isFatal = isFatal
    }

    /// librdkafka's symbolic name of `brokerCode` (e.g. `_MSG_TIMED_OUT`), for `error.type`.
    public var brokerErrorName: String? { brokerCode.map(RDKafkaClient.errorName) }

    public var description: String {
        var text = "KafkaError(\(code)): \(message)"
        if let brokerCode { text += " [\(RDKafkaClient.errorName(brokerCode))]" }
        return text
    }

    static func fromLibrary(_ err: rd_kafka_resp_err_t, code: Code, context: String) -> KafkaError {
        let reason = String(cString: rd_kafka_err2str(err))
        return KafkaError(code: code, message: "\(context): \(reason)", brokerCode: err.rawValue)
    }

    static func configuration(_ message: String) -> KafkaError {
        KafkaError(code: .configuration, message: message)
    }
}
