/// Consumer groups: listing, describing, committed offsets, and what lag needs (watermarks of
/// many partitions, the timestamp of the record at an offset).
extension KafkaAdmin {
    /// The ids of the cluster's consumer groups, sorted (ListConsumerGroups). librdkafka's mock
    /// cluster (the embedded broker) answers with none.
    /// - Throws: `KafkaError.admin` when the cluster cannot list groups (the embedded broker
    ///   answers `_UNSUPPORTED_FEATURE`).
    public func consumerGroups(timeout: Duration = .seconds(10)) async throws -> [String] {
        let client = self.client
        do {
            let groups = try await offThePool { try client.listConsumerGroups(timeoutMilliseconds: Int32(clamping: timeout.milliseconds)) }
            supportsGroupRequests.withLock { $0 = true }
            return groups
        } catch let error as KafkaError {
            if error.brokerCode == RDKafkaClient.unsupportedFeatureCode { supportsGroupRequests.withLock { $0 = false } }
            throw error
        }
    }

    /// Describes groups (DescribeConsumerGroups): per group its state and members with their
    /// partitions, or the error the broker gave for it. Throws only when the request as a whole
    /// failed. The embedded broker does not support the request: treat a failure as "unknown".
    public func describeConsumerGroups(
        _ groups: [String], timeout: Duration = .seconds(10)
    ) async throws -> [String: Result<KafkaConsumerGroupDescription, KafkaError>] {
        if supportsGroupRequests.withLock({ $0 }) == nil { _ = try? await consumerGroups(timeout: timeout) }
        guard supportsGroupRequests.withLock({ $0 }) == true else {
            let error = KafkaError(
                code: .admin, message: "the cluster does not support describing consumer groups",
                brokerCode: RDKafkaClient.unsupportedFeatureCode)
            return Dictionary(groups.map { ($0, .failure(error)) }, uniquingKeysWith: { $1 })
        }
        let client = self.client
        return try await offThePool { try client.describeConsumerGroups(groups, timeoutMilliseconds: Int32(clamping: timeout.milliseconds)) }
    }

    /// The offsets `group` committed for `partitions` (one OffsetFetch, through a consumer handle
    /// with that `group.id` that never joins the group). A partition the group never committed
    /// has no entry: `offsets[partition]` is `nil`.
    public func committedOffsets(group: String, partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)) async throws -> [KafkaTopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        var properties = self.properties
        properties["group.id"] = group
        properties["enable.auto.commit"] = "false"
        properties["enable.auto.offset.store"] = "false"
        let logger = self.logger
        return try await offThePool { [properties] in
            let reader = try RDKafkaClient(kind: .consumer, properties: properties, callbacks: .init(logger: logger))
            let offsets = try reader.committedOffsets(partitions, timeoutMilliseconds: Int32(clamping: timeout.milliseconds))
            return offsets.compactMapValues { $0 }
        }
    }

    /// The low and high watermarks of many partitions, asked one after the other on one thread.
    /// A partition whose watermarks cannot be read has no entry.
    public func watermarks(of partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)) async throws -> [KafkaTopicPartition: (low: Int64, high: Int64)] {
        let client = self.client
        return try await offThePool {
            var result: [KafkaTopicPartition: (low: Int64, high: Int64)] = [:]
            for partition in Set(partitions) {
                if let marks = client.watermarks(partition, timeoutMilliseconds: Int32(clamping: timeout.milliseconds)) {
                    result[partition] = marks
                }
            }
            return result
        }
    }

    /// The timestamp (milliseconds since the epoch) of the record at `offset`, or of the next one
    /// still there; `nil` when there is none (the offset is the end) or it has no timestamp.
    public func timestamp(topic: String, partition: Int32, offset: Int64, timeout: Duration = .seconds(5)) async throws -> Int64? {
        let partition = KafkaTopicPartition(topic: topic, partition: partition)
        return try await timestamps(at: [partition: offset], timeout: timeout)[partition]
    }

    /// `timestamp(topic:partition:offset:)` for many partitions at once: one reusable consumer
    /// handle without a group starts every partition at its offset and takes one record of each.
    public func timestamps(at offsets: [KafkaTopicPartition: Int64], timeout: Duration = .seconds(5)) async throws -> [KafkaTopicPartition: Int64] {
        guard !offsets.isEmpty else { return [:] }
        var properties = self.properties
        properties["enable.partition.eof"] = "true"
        properties["auto.offset.reset"] = "error"
        properties["fetch.wait.max.ms"] = "10"
        properties["queued.min.messages"] = "1"
        let logger = self.logger
        return try await offThePool { [self, properties] in
            try recordReader.withLock { reader in
                if reader == nil {
                    reader = try RDKafkaClient(kind: .consumer, properties: properties, callbacks: .init(logger: logger))
                }
                return reader!.recordTimestamps(offsets, timeoutMilliseconds: Int32(clamping: timeout.milliseconds))
            }
        }
    }
}
