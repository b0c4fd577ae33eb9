import Kafka
import Metrics

/// A message that a component could not use, on its way to the dead-letter topic: the original
/// key and value bytes untouched, the original headers, and `error.type`, `error.message`,
/// `source.topic`, `source.partition`, `source.offset` headers saying what was wrong and where
/// it came from.
public enum DeadLetter {
    public static let errorTypeHeader = "error.type"
    public static let errorMessageHeader = "error.message"
    public static let sourceTopicHeader = "source.topic"
    public static let sourcePartitionHeader = "source.partition"
    public static let sourceOffsetHeader = "source.offset"
    /// Header values are cut to this many bytes (at a character boundary).
    public static let maxMessageBytes = 4_096

    /// The dead-letter record for `message`.
    public static func record(for message: KafkaMessage, errorType: String, errorMessage: String, topic: String) -> KafkaProducerRecord {
        Counter(label: "ordertrace_dead_letters_total", dimensions: [("error_type", errorType), ("source_topic", message.topic)]).increment()
        var headers = message.headers
        headers.set(errorTypeHeader, errorType)
        headers.set(errorMessageHeader, truncated(errorMessage))
        headers.set(sourceTopicHeader, message.topic)
        headers.set(sourcePartitionHeader, String(message.partition))
        headers.set(sourceOffsetHeader, String(message.offset))
        return KafkaProducerRecord(topic: topic, key: message.key, value: message.value, headers: headers)
    }

    /// Set on a dead letter that could not be delivered whole (larger than the broker takes): it
    /// then carries the original's headers and the error, but not its value, whose size this
    /// header gives; the value is still in the source topic, at the source offset, until its
    /// retention ends.
    public static let valueOmittedHeader = "error.value_omitted_bytes"

    /// The dead letter without its value, for one the broker refused as too large.
    public static func withoutValue(_ record: KafkaProducerRecord) -> KafkaProducerRecord {
        var headers = record.headers
        headers.set(valueOmittedHeader, String(record.value.count))
        return KafkaProducerRecord(topic: record.topic, partition: record.partition, key: record.key, value: [], headers: headers)
    }

    static func truncated(_ text: String) -> String {
        guard text.utf8.count > maxMessageBytes else { return text }
        var result = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            if bytes + size > maxMessageBytes - 3 { break }
            result.append(character)
            bytes += size
        }
        return result + "..."
    }
}
