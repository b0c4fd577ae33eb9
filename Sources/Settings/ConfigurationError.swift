/// A setting that cannot be used: which one, what is wrong with it, and what to do about it.
///
/// Every configuration of the project throws this one type, whether it reads environment
/// variables, a file or fields set in code. Compare ``code`` with the static members; show
/// ``message`` (or the error itself) to the user.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An opaque category. Compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The category's name.
        public var description: String { name }

        /// A value of the wrong form, or out of range.
        public static let invalidValue = Code("invalid value")
        /// Values that contradict each other (the same key given twice with different values).
        public static let conflict = Code("conflict")
        /// A file that a setting names cannot be read.
        public static let unreadable = Code("unreadable")
        /// A setting that must name something names nothing.
        public static let missing = Code("missing")
    }

    /// The category.
    public var code: Code
    /// The setting that is wrong: an environment variable, a place in a file, a configuration
    /// field (`GATEWAY_PORT`, `tokens.txt line 3`, `liquidity.levels`).
    public var setting: String
    /// What is wrong with it.
    public var problem: String
    /// What to do about it, when that is not plain from ``problem``.
    public var remedy: String?

    /// Creates an error.
    public init(_ code: Code = .invalidValue, setting: String, problem: String, remedy: String? = nil) {
        self.code = code
        self.setting = setting
        self.problem = problem
        self.remedy = remedy
    }

    /// `setting: problem; remedy`, for example
    /// `BATCH_LINGER_MS: "soon" is not a positive whole number; set it to one, or unset it to use the default`.
    public var message: String {
        let text = "\(setting): \(problem)"
        guard let remedy, !remedy.isEmpty else { return text }
        return "\(text); \(remedy)"
    }

    /// The ``message``.
    public var description: String { message }
}
