/// A setting that cannot be used, and what it must be.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// The value of `name` as a positive whole number, or `nil` when it is not set.
    /// - Throws: `ConfigurationError` when it is set to anything else.
    public static func positiveInteger(_ name: String, in environment: [String: String]) throws(ConfigurationError) -> Int64? {
        guard let text = environment[name], !text.isEmpty else { return nil }
        guard let value = Int64(text), value > 0 else {
            throw ConfigurationError("\(name) must be a positive whole number, got \"\(text)\"")
        }
        return value
    }
}
