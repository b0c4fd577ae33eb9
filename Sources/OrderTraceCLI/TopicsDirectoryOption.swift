import ArgumentParser
import Kafka

/// Where the topic definitions are.
struct TopicsDirectoryOption: ParsableArguments {
    @Option(name: .customLong("topics-dir"), help: "Folder of topic definitions (default: $ORDERTRACE_TOPICS_DIR or ./topics).")
    var topicsDirectory: String?

    var path: String {
        topicsDirectory ?? KafkaConfiguration.processEnvironment()["ORDERTRACE_TOPICS_DIR"] ?? "topics"
    }
}
