/// Consumer groups: listing, describing, committed offsets, and what lag needs (watermarks of
/// many partitions, the timestamp of the record at an offset).
extension KafkaAdmin {
    /// The ids of the cluster's consumer groups, sorted (ListConsumerGroups). librdkafka's mock
    /// cluster answers with none.
    /// - Throws: `KafkaError.admin` when the cluster cannot list groups (librdkafka's mock
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
    /// failed. librdkafka's mock does not support the request: treat a failure as "unknown".
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

    /// The offsets each of `groups` committed for its partitions: one OffsetFetch per group
    /// through this admin's handle, all in flight at once (no handle per group). A partition the
    /// group never committed has no entry.
    /// - Throws: `KafkaError.admin` when a group's offsets could not be read.
    public func committedOffsets(
        groups: [(group: String, partitions: [KafkaTopicPartition])], timeout: Duration = .seconds(10)
    ) async throws -> [String: [KafkaTopicPartition: Int64]] {
        guard !groups.isEmpty else { return [:] }
        let client = self.client
        let outcome = try await offThePool { client.groupOffsets(groups, timeoutMilliseconds: Int32(clamping: timeout.milliseconds)) }
        var result: [String: [KafkaTopicPartition: Int64]] = [:]
        for (group, _) in groups {
            switch outcome[group] {
            case .success(let offsets): result[group] = offsets.compactMapValues { $0 }
            case .failure(let error): throw error
            case nil: throw KafkaError(code: .admin, message: "reading the offsets of group '\(group)' timed out", isRetriable: true)
            }
        }
        return result
    }

    /// Sets the offsets `group` has committed, as its members would commit them, without joining
    /// the group (AlterConsumerGroupOffsets): to move a group, or to make one for a test.
    /// - Throws: `KafkaError.admin` when the broker refuses (e.g. members of the group are active
    ///   on the topic).
    public func commitOffsets(group: String, offsets: [KafkaTopicPartition: Int64], timeout: Duration = .seconds(10)) async throws {
        let client = self.client
        try await offThePool { try client.alterGroupOffsets(group: group, offsets: offsets, timeoutMilliseconds: Int32(clamping: timeout.milliseconds)) }
    }

    /// The low and high watermarks of many partitions: two ListOffsets requests per partition
    /// leader for all of them, then one look-up per partition left unanswered. A partition whose
    /// watermarks cannot be read has no entry.
    public func watermarks(of partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)) async throws -> [KafkaTopicPartition: (low: Int64, high: Int64)] {
        let client = self.client
        let unique = Array(Set(partitions))
        return try await offThePool {
            var result = client.watermarks(of: unique, timeoutMilliseconds: Int32(clamping: timeout.milliseconds))
            for partition in unique where result[partition] == nil {
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

    /// `timestamp(topic:partition:offset:)` for many partitions at once.
    public func timestamps(at offsets: [KafkaTopicPartition: Int64], timeout: Duration = .seconds(5)) async throws -> [KafkaTopicPartition: Int64] {
        let read = try await timestamps(of: offsets.mapValues { [$0] }, timeout: timeout)
        var result: [KafkaTopicPartition: Int64] = [:]
        for (partition, offset) in offsets {
            if let time = read[partition]?[offset] { result[partition] = time }
        }
        return result
    }

    /// The timestamps of the records at (or, where one is gone, the first after) many offsets of
    /// many partitions, by partition and offset: one reusable consumer handle without a group
    /// starts every partition at its lowest offset and reads forward through the others. Offsets
    /// of a partition more than `maxGap` records apart are read in separate passes, so one group
    /// far behind another does not make it read everything between them.
    public func timestamps(
        of offsets: [KafkaTopicPartition: Set<Int64>], maxGap: Int64 = 1_000, timeout: Duration = .seconds(5)
    ) async throws -> [KafkaTopicPartition: [Int64: Int64]] {
        // Per partition, its offsets in runs with gaps of at most maxGap; pass k reads the k-th run of each.
        var passes: [[KafkaTopicPartition: [Int64]]] = []
        for (partition, wanted) in offsets {
            var pass = 0
            var previous: Int64?
            for offset in wanted.sorted() {
                if let previous, offset - previous > maxGap { pass += 1 }
                previous = offset
                if passes.count <= pass { passes.append([:]) }
                passes[pass][partition, default: []].append(offset)
            }
        }
        guard !passes.isEmpty else { return [:] }
        var properties = self.properties
        properties["enable.partition.eof"] = "true"
        properties["auto.offset.reset"] = "error"
        properties["fetch.wait.max.ms"] = "10"
        properties["queued.min.messages"] = "1"
        let logger = self.logger
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await offThePool { [self, properties, passes] in
            try recordReader.withLock { reader in
                if reader == nil {
                    reader = try RDKafkaClient(kind: .consumer, properties: properties, callbacks: .init(logger: logger))
                }
                var result: [KafkaTopicPartition: [Int64: Int64]] = [:]
                for pass in passes {
                    for (partition, times) in reader!.recordTimestamps(pass, timeoutMilliseconds: milliseconds) {
                        result[partition, default: [:]].merge(times) { $1 }
                    }
                }
                return result
            }
        }
    }
}
