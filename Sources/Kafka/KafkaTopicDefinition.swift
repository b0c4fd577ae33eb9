import Foundation

/// One topic as the project defines it in `topics/NAME.json`.
///
/// `partitions`, `replicationFactor` and `config` (topic configs such as `retention.ms` and
/// `cleanup.policy`) are applied to the cluster; `key`, `value` and `example` document the
/// contract for people and tools.
public struct KafkaTopicDefinition: Sendable, Hashable, Codable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int
    public var config: [String: String]
    /// What the record key holds, e.g. `symbol`.
    public var key: String?
    public var description: String?

    public init(name: String, partitions: Int, replicationFactor: Int = 1, config: [String: String] = [:], key: String? = nil, description: String? = nil) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
        self.key = key
        self.description = description
    }

    /// Reads every `*.json` definition of a folder, sorted by name.
    /// - Throws: `KafkaError.topicDefinition` naming the file and what is wrong with it.
    public static func load(directory: String) throws -> [KafkaTopicDefinition] {
        let url = URL(fileURLWithPath: directory, isDirectory: true)
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "json" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw KafkaError(code: .topicDefinition, message: "cannot read the topics folder '\(directory)': \(error.localizedDescription)")
        }
        guard !files.isEmpty else {
            throw KafkaError(code: .topicDefinition, message: "no topic definitions (*.json) in '\(directory)'")
        }
        var seen = Set<String>()
        return try files.map { file in
            let definition = try load(file: file.path)
            guard seen.insert(definition.name).inserted else {
                throw KafkaError(code: .topicDefinition, message: "\(file.path): topic '\(definition.name)' is defined twice")
            }
            return definition
        }
    }

    /// Reads one definition file.
    public static func load(file: String) throws -> KafkaTopicDefinition {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw KafkaError(code: .topicDefinition, message: "cannot read '\(file)'")
        }
        let definition: KafkaTopicDefinition
        do {
            definition = try JSONDecoder().decode(KafkaTopicDefinition.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw KafkaError(code: .topicDefinition, message: "\(file): missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw KafkaError(code: .topicDefinition, message: "\(file): wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw KafkaError(code: .topicDefinition, message: "\(file): not a valid topic definition: \(error)")
        }
        try definition.validate(source: file)
        return definition
    }

    /// Apache Kafka's rule for a topic's name: 1 to 249 of ASCII letters, digits, `.`, `_` and
    /// `-`, and neither `.` nor `..`.
    static func isLegalName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 249 && name != "." && name != ".."
            && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                    || byte == 0x2e || byte == 0x5f || byte == 0x2d
            }
    }

    func validate(source: String) throws {
        guard Self.isLegalName(name) else {
            throw KafkaError(code: .topicDefinition, message: "\(source): '\(name)' is not a legal topic name")
        }
        guard partitions >= 1 else {
            throw KafkaError(code: .topicDefinition, message: "\(source): partitions must be at least 1, not \(partitions)")
        }
        guard replicationFactor >= 1 else {
            throw KafkaError(code: .topicDefinition, message: "\(source): replicationFactor must be at least 1, not \(replicationFactor)")
        }
    }
}

extension KafkaTopicDefinition {
    /// This definition for a given cluster: `replicationFactor` in place of the file's (3 on a
    /// cluster of three brokers), and `min.insync.replicas` in its config, so that a write
    /// acknowledged by all in-sync replicas is on at least that many brokers. `nil` keeps what the
    /// file says.
    /// - Throws: `KafkaError.topicDefinition` when the factor is below 1, or the minimum is below 1
    ///   or above the replication factor (no write could then succeed).
    public func replicated(factor: Int?, minInSyncReplicas: Int?) throws -> KafkaTopicDefinition {
        var definition = self
        if let factor {
            guard factor >= 1 else {
                throw KafkaError(code: .topicDefinition, message: "\(name): the replication factor must be at least 1, not \(factor)")
            }
            definition.replicationFactor = factor
        }
        if let minInSyncReplicas {
            guard (1...definition.replicationFactor).contains(minInSyncReplicas) else {
                throw KafkaError(
                    code: .topicDefinition,
                    message: "\(name): min.insync.replicas must be between 1 and the replication factor (\(definition.replicationFactor)), not \(minInSyncReplicas)")
            }
            definition.config["min.insync.replicas"] = String(minInSyncReplicas)
        }
        return definition
    }
}
