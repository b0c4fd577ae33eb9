/// Reads settings from environment variables with the rules every configuration shares: a
/// variable that is unset or empty means "use the default", and a value that cannot be used
/// throws a ``ConfigurationError`` naming the variable and what to set instead.
public struct EnvironmentReader: Sendable {
    /// The variables, by name.
    public var environment: [String: String]

    /// Reads `environment` (usually `ProcessInfo.processInfo.environment`).
    public init(_ environment: [String: String]) {
        self.environment = environment
    }

    /// The value of `name`, or `nil` when it is unset or empty.
    public func string(_ name: String) -> String? {
        guard let value = environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// The value of `name` as a positive whole number, or `nil` when it is unset or empty.
    /// - Throws: ``ConfigurationError`` (`.invalidValue`) when it is set to anything else.
    public func positiveInteger<Integer: FixedWidthInteger>(_ name: String, as type: Integer.Type = Int.self) throws(ConfigurationError) -> Integer? {
        guard let text = string(name) else { return nil }
        guard let value = Integer(text), value > 0 else {
            throw ConfigurationError(
                .invalidValue, setting: name, problem: "\"\(text)\" is not a positive whole number",
                remedy: "set it to one, or unset it to use the default")
        }
        return value
    }

    /// The value of `name`, a positive whole number of milliseconds, as a duration; `nil` when it
    /// is unset or empty.
    /// - Throws: ``ConfigurationError`` (`.invalidValue`) when it is set to anything else.
    public func milliseconds(_ name: String) throws(ConfigurationError) -> Duration? {
        try positiveInteger(name, as: Int64.self).map { .milliseconds($0) }
    }
}
