import Kafka
import Logging

/// Logging for an `ordertrace` process.
package enum Logs {
    /// Sets up logging once per process: to stderr, at $LOG_LEVEL (default `defaultLevel`).
    package static func bootstrap(defaultLevel: Logger.Level = .info) -> Logger {
        let level = KafkaConfiguration.processEnvironment()["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? defaultLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "ordertrace")
    }
}
