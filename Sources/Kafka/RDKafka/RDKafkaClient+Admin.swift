import CRdKafka

/// A topic as the cluster reports it.
public struct KafkaTopicMetadata: Sendable, Hashable {
    public var name: String
    public var partitionCount: Int

    public init(name: String, partitionCount: Int) {
        self.name = name
        self.partitionCount = partitionCount
    }
}

extension RDKafkaClient {
    /// Every topic of the cluster (blocking: call it off the cooperative pool).
    func topicMetadata(timeoutMilliseconds: Int32) throws -> [KafkaTopicMetadata] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 1, nil, &metadata, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError.fromLibrary(err, code: .admin, context: "reading cluster metadata")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var result: [KafkaTopicMetadata] = []
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            result.append(KafkaTopicMetadata(name: String(cString: topic.topic), partitionCount: Int(topic.partition_cnt)))
        }
        return result.sorted { $0.name < $1.name }
    }

    /// Creates topics and waits for the answer (blocking). Returns an error per topic that failed.
    func createTopics(_ definitions: [KafkaTopicDefinition], timeoutMilliseconds: Int32) throws -> [String: KafkaError] {
        guard !definitions.isEmpty else { return [:] }
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for definition in definitions {
            var errorText = [CChar](repeating: 0, count: 512)
            guard
                let topic = rd_kafka_NewTopic_new(
                    definition.name, Int32(definition.partitions), Int32(definition.replicationFactor), &errorText, errorText.count)
            else {
                throw KafkaError(code: .admin, message: "topic '\(definition.name)': \(String(cBuffer: errorText))")
            }
            newTopics.append(topic)
            for (name, value) in definition.config.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(topic, name, value)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError.fromLibrary(err, code: .admin, context: "topic '\(definition.name)' config '\(name)'")
                }
            }
        }
        let queue = rd_kafka_queue_new(handle)!
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)!
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errorText = [CChar](repeating: 0, count: 512)
        rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
        rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 1_000) else {
            throw KafkaError(code: .admin, message: "creating topics timed out", isRetriable: true)
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        guard eventError == RD_KAFKA_RESP_ERR_NO_ERROR, let result = rd_kafka_event_CreateTopics_result(event) else {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? Self.errorDescription(eventError.rawValue)
            throw KafkaError(code: .admin, message: "creating topics failed: \(text)", brokerCode: eventError.rawValue)
        }
        var count = 0
        var failures: [String: KafkaError] = [:]
        guard let topics = rd_kafka_CreateTopics_result_topics(result, &count) else { return [:] }
        for index in 0..<count {
            guard let topic = topics[index] else { continue }
            let err = rd_kafka_topic_result_error(topic)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let name = String(cString: rd_kafka_topic_result_name(topic))
                let text = rd_kafka_topic_result_error_string(topic).map { String(cString: $0) } ?? Self.errorDescription(err.rawValue)
                failures[name] = KafkaError(code: .admin, message: "creating topic '\(name)': \(text)", brokerCode: err.rawValue)
            }
        }
        return failures
    }

    static let topicAlreadyExistsCode = RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS.rawValue
}
