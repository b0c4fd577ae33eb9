import ArgumentParser
import CommandLineSupport
import Kafka

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Create and list the pipeline's topics.",
        subcommands: [Apply.self, List.self]
    )

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the topics of the topics folder that the cluster lacks; report those that differ.",
            discussion: """
                Running it again changes nothing. Exits non-zero when a topic differs or cannot be created. \
                --replication-factor and --min-insync-replicas apply to the topics it creates; a topic that \
                exists keeps its replicas and configs.
                """
        )

        @OptionGroup var kafka: KafkaOptions
        @OptionGroup var topics: TopicsDirectoryOption

        @Option(name: .customLong("replication-factor"), help: "Replicas of every topic, in place of each definition's replicationFactor (3 on a cluster of three brokers).")
        var replicationFactor: Int?

        @Option(name: .customLong("min-insync-replicas"), help: "min.insync.replicas of every topic: how many replicas must hold a write before it is acknowledged (2 with 3 replicas).")
        var minInSyncReplicas: Int?

        func run() async throws {
            _ = Logs.bootstrap()
            do {
                let definitions = try KafkaTopicDefinition.load(directory: topics.path).map {
                    try $0.replicated(factor: replicationFactor, minInSyncReplicas: minInSyncReplicas)
                }
                let admin = try KafkaAdmin(configuration: kafka.configuration())
                let outcomes = try await admin.apply(definitions)
                for (name, outcome) in outcomes {
                    say("\(name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(outcome)")
                }
                if outcomes.contains(where: { $0.1.isProblem }) { throw ExitCode(1) }
            } catch let error as KafkaError {
                throw error.validationError
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the cluster's topics with their partition counts.")

        @OptionGroup var kafka: KafkaOptions

        func run() async throws {
            _ = Logs.bootstrap()
            do {
                let admin = try KafkaAdmin(configuration: kafka.configuration())
                for topic in try await admin.topics() {
                    say("\(topic.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(topic.partitionCount) partitions")
                }
            } catch let error as KafkaError {
                throw error.validationError
            }
        }
    }
}
