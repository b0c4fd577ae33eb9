import CommandLineSupport
import Kafka

extension KafkaError {
    /// An error a person can act on, for the command line.
    var validationError: CommandError { CommandError(description: message) }
}
