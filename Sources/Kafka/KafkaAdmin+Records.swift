/// Reading a topic's recent records without a group.
extension KafkaAdmin {
    /// The properties of a consumer without a group that reads ranges to their end.
    private var readerProperties: [String: String] {
        var properties = self.properties
        properties["enable.partition.eof"] = "true"
        properties["fetch.wait.max.ms"] = "10"
        // A start the broker deleted meanwhile is read from the oldest record left, not skipped to
        // the end.
        properties["auto.offset.reset"] = "earliest"
        return properties
    }

    /// Every record of `topic` from the first one stored at or after `timestampMilliseconds` (by
    /// record timestamp) to the end each partition had when the call began, in offset order per
    /// partition. Where the broker cannot find an offset by time (librdkafka's mock cluster cannot),
    /// that partition is read from its oldest record.
    ///
    /// - Throws: `KafkaError` when the topic is unknown or not everything could be read within `timeout`.
    public func records(of topic: String, since timestampMilliseconds: Int64, timeout: Duration = .seconds(30)) async throws -> [KafkaMessage] {
        let properties = readerProperties
        let logger = self.logger
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await offThePool { [properties] in
            let reader = try RDKafkaClient(kind: .consumer, properties: properties, callbacks: .init(logger: logger))
            guard let metadata = try reader.topicMetadata(timeoutMilliseconds: milliseconds).first(where: { $0.name == topic }) else {
                throw KafkaError(code: .admin, message: "reading \(topic): no such topic")
            }
            let partitions = (0..<metadata.partitionCount).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }
            let watermarks = reader.watermarks(of: partitions, timeoutMilliseconds: milliseconds)
            guard watermarks.count == partitions.count else {
                throw KafkaError(code: .admin, message: "reading \(topic): the partitions' end offsets could not be read")
            }
            let starts = reader.offsets(
                of: partitions, atOrAfter: timestampMilliseconds, ends: watermarks.mapValues(\.high), timeoutMilliseconds: milliseconds)
            var ranges: [KafkaTopicPartition: Range<Int64>] = [:]
            for partition in partitions {
                let (low, high) = watermarks[partition]!
                let start = min(max(starts[partition] ?? low, low), high)
                ranges[partition] = start..<high
            }
            // "Nothing at or after that time" is checked against the last record: a broker that
            // cannot look offsets up by time (librdkafka's mock cluster) answers it for any time.
            let doubtful = ranges.filter { $0.value.isEmpty && watermarks[$0.key]!.high > watermarks[$0.key]!.low }
            if !doubtful.isEmpty {
                let last = reader.recordTimestamps(doubtful.mapValues { [$0.upperBound - 1] }, timeoutMilliseconds: milliseconds)
                for partition in doubtful.keys {
                    let (low, high) = watermarks[partition]!
                    if let time = last[partition]?[high - 1], time < timestampMilliseconds { continue }
                    ranges[partition] = low..<high
                }
            }
            guard let records = reader.read(ranges, timeoutMilliseconds: milliseconds) else {
                throw KafkaError(code: .admin, message: "reading \(topic): not every record could be read within \(timeout)")
            }
            return records
        }
    }

    /// Every record of one partition, from its oldest to the end it had when the call began, and
    /// that end (its high watermark): how a component rebuilds state from a changelog partition.
    ///
    /// - Throws: `KafkaError` when the partition's offsets cannot be read, or not every record
    ///   could be read within `timeout`.
    public func records(of topic: String, partition: Int32, timeout: Duration = .seconds(120)) async throws -> (records: [KafkaMessage], end: Int64) {
        let properties = readerProperties
        let logger = self.logger
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await offThePool { [properties] in
            let reader = try RDKafkaClient(kind: .consumer, properties: properties, callbacks: .init(logger: logger))
            let topicPartition = KafkaTopicPartition(topic: topic, partition: partition)
            guard let (low, high) = reader.watermarks(topicPartition, timeoutMilliseconds: milliseconds) else {
                throw KafkaError(code: .admin, message: "reading \(topicPartition): its offsets could not be read", isRetriable: true)
            }
            guard let records = reader.read([topicPartition: low..<high], timeoutMilliseconds: milliseconds) else {
                throw KafkaError(code: .admin, message: "reading \(topicPartition): not every record could be read within \(timeout)", isRetriable: true)
            }
            return (records, high)
        }
    }
}
