/// A message that could not be read: not JSON, too large, an unknown `type`, or a field missing, of the wrong
/// type or with a value out of its domain.
///
/// The server answers such a message with an `error` message carrying this value, and nothing else happens:
/// no order is created or changed. When the message named an order (`orderId` was a string), ``orderId``
/// holds it, so a client can tell which of its orders was not placed.
///
/// `code` is opaque: compare it with the static members (`ExchangeProtocolError.Code.missingField`, ...).
public struct ExchangeProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An opaque error category; ``description`` is its wire spelling.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        init(_ name: String) { self.name = name }
        /// The wire spelling, for example `"missing_field"`.
        public var description: String { name }

        /// The bytes are not one JSON value (the message says where), or not valid UTF-8.
        public static let notJSON = Code("not_json")
        /// The message is larger than ``ExchangeProtocol/maxMessageBytes`` or nested too deeply.
        public static let tooLarge = Code("too_large")
        /// The message is JSON, but not an object.
        public static let notObject = Code("not_object")
        /// The `type` field names no message of this direction.
        public static let unknownType = Code("unknown_type")
        /// A required field is absent (or `null`).
        public static let missingField = Code("missing_field")
        /// A field has the wrong JSON type (for example a string where a number belongs).
        public static let wrongType = Code("wrong_type")
        /// A field has the right JSON type but a value outside its domain (for example `"side":"hold"`, or a
        /// price with more than four decimals).
        public static let invalidValue = Code("invalid_value")
    }

    /// The category.
    public var code: Code
    /// What went wrong and what to do, for people.
    public var message: String
    /// The field at fault, when one is.
    public var field: String?
    /// The order the message named, when it could be read.
    public var orderId: String?

    /// Creates an error.
    public init(code: Code, message: String, field: String? = nil, orderId: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.orderId = orderId
    }

    /// The code and message, and the order id when there is one.
    public var description: String {
        var text = "ExchangeProtocolError(\(code)): \(message)"
        if let orderId { text += " [orderId \(orderId)]" }
        return text
    }
}
