/// A configuration value that makes no sense; the message names it and says what it must be.
public struct ExchangeConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong, naming the configuration field.
    public var message: String

    /// Creates an error.
    public init(message: String) {
        self.message = message
    }

    /// The message, prefixed with the type name.
    public var description: String { "ExchangeConfigurationError: \(message)" }
}
