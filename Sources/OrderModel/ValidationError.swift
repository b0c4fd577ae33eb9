/// One problem with a message: which field, what kind of problem, and a reason for people.
///
/// `field` is the JSON name of the field (`"quantity"`), a path into nested members (`"members[2].quantity"`),
/// or `""` when the problem is the message as a whole (not JSON, not an object). `description` reads as
/// `quantity: must be greater than 0, got -5`.
public struct ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An opaque category of problem. Compare with the static members, never with its text.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The category's name.
        public var description: String { name }

        /// The bytes are not JSON (syntax, UTF-8, nesting); the reason says where.
        public static let notJSON = Code("not JSON")
        /// The bytes are JSON, but not an object.
        public static let notAnObject = Code("not an object")
        /// A required field is absent (or `null`).
        public static let missingField = Code("missing field")
        /// A field has the wrong JSON type (a string where a number belongs, ...).
        public static let wrongType = Code("wrong type")
        /// A field appears more than once in the object.
        public static let duplicateField = Code("duplicate field")
        /// A number that must be whole has a fraction or an exponent.
        public static let notAnInteger = Code("not an integer")
        /// A quantity or price that must be greater than zero is not.
        public static let notPositive = Code("not positive")
        /// A number is outside the range the field allows.
        public static let outOfRange = Code("out of range")
        /// An enumerated field has a value the contract does not list (`"side": "hold"`).
        public static let unknownValue = Code("unknown value")
        /// A price has more than 4 decimals.
        public static let tooManyDecimals = Code("too many decimals")
        /// A price is not a valid decimal (negative, exponent, NaN, malformed).
        public static let invalidPrice = Code("invalid price")
        /// A limit order has no `limitPrice`.
        public static let missingLimitPrice = Code("missing limit price")
        /// A field is present where the contract forbids it (`limitPrice` on a market order).
        public static let notAllowed = Code("not allowed")
        /// A text field is empty.
        public static let empty = Code("empty")
        /// A text field is longer than allowed.
        public static let tooLong = Code("too long")
        /// A text field has characters it may not have.
        public static let invalidCharacters = Code("invalid characters")
        /// Fields disagree with each other (a batch's quantity is not the sum of its members, ...).
        public static let inconsistent = Code("inconsistent")
    }

    /// The JSON field, a path such as `members[2].quantity`, or `""` for the whole message.
    public var field: String
    /// The category.
    public var code: Code
    /// What is wrong, as a phrase that follows the field name (`must be greater than 0, got -5`).
    public var reason: String

    /// Creates a validation error.
    public init(field: String, code: Code, reason: String) {
        self.field = field
        self.code = code
        self.reason = reason
    }

    /// `field: reason`, or the reason alone for the whole message.
    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }
}

/// Every problem found in one message, in the order of the message's fields. Never empty when thrown.
public struct ValidationErrors: Error, Hashable, Sendable, CustomStringConvertible {
    /// The problems.
    public var errors: [ValidationError]

    /// Creates a list of problems.
    public init(_ errors: [ValidationError]) {
        self.errors = errors
    }

    /// The fields that have problems, in order, each once (`""` for the whole message).
    public var fields: [String] {
        var seen = Set<String>()
        return errors.compactMap { seen.insert($0.field).inserted ? $0.field : nil }
    }

    /// The problems of one field.
    public func errors(for field: String) -> [ValidationError] {
        errors.filter { $0.field == field }
    }

    /// All problems, separated by `; `.
    public var description: String { errors.map(\.description).joined(separator: "; ") }
}
