#if canImport(Glibc)
import Glibc
#endif
import CRdKafka

/// A consumer group as `DescribeConsumerGroups` reports it.
public struct KafkaConsumerGroupDescription: Sendable, Hashable {
    /// One member of the group and the partitions it holds.
    public struct Member: Sendable, Hashable {
        public var memberID: String
        public var clientID: String
        public var host: String
        public var partitions: [KafkaTopicPartition]

        public init(memberID: String, clientID: String, host: String, partitions: [KafkaTopicPartition]) {
            self.memberID = memberID
            self.clientID = clientID
            self.host = host
            self.partitions = partitions
        }

        /// The member as the owner of its partitions.
        public var partitionOwner: PartitionOwner { PartitionOwner(memberID: memberID, clientID: clientID, host: host) }
    }

    public var group: String
    /// The broker's state name: `Stable`, `Empty`, `PreparingRebalance`, `CompletingRebalance`,
    /// `Dead`, or `Unknown`.
    public var state: String
    public var members: [Member]

    public init(group: String, state: String, members: [Member]) {
        self.group = group
        self.state = state
        self.members = members
    }
}

extension RDKafkaClient {
    static let unsupportedFeatureCode = RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE.rawValue

    /// Runs one admin request and waits for its result event (blocking). `body` issues the
    /// request on the queue with the options; `read` reads the event, which it must not keep.
    func adminRequest<T>(
        _ operation: rd_kafka_admin_op_t, timeoutMilliseconds: Int32, what: String,
        issue: (OpaquePointer, OpaquePointer) -> Void, read: (OpaquePointer) throws -> T
    ) throws -> T {
        let queue = rd_kafka_queue_new(handle)!
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, operation)!
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errorText = [CChar](repeating: 0, count: 512)
        rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
        issue(options, queue)
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 1_000) else {
            throw KafkaError(code: .admin, message: "\(what) timed out", isRetriable: true)
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        guard eventError == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? Self.errorDescription(eventError.rawValue)
            throw KafkaError(code: .admin, message: "\(what): \(text)", brokerCode: eventError.rawValue)
        }
        return try read(event)
    }

    /// The ids of the cluster's consumer groups (blocking). Brokers that fail to answer are
    /// skipped when others answered; librdkafka's mock cluster answers with none.
    func listConsumerGroups(timeoutMilliseconds: Int32) throws -> [String] {
        try adminRequest(
            RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeoutMilliseconds: timeoutMilliseconds, what: "listing consumer groups",
            issue: { options, queue in rd_kafka_ListConsumerGroups(handle, options, queue) },
            read: { event in
                guard let result = rd_kafka_event_ListConsumerGroups_result(event) else { return [] }
                var count = 0
                var groups: [String] = []
                if let listings = rd_kafka_ListConsumerGroups_result_valid(result, &count) {
                    for index in 0..<count {
                        guard let listing = listings[index], let id = rd_kafka_ConsumerGroupListing_group_id(listing) else { continue }
                        groups.append(String(cString: id))
                    }
                }
                var errorCount = 0
                let errors = rd_kafka_ListConsumerGroups_result_errors(result, &errorCount)
                if groups.isEmpty, errorCount > 0, let errors, let first = errors[0] {
                    let text = rd_kafka_error_string(first).map { String(cString: $0) } ?? "unknown error"
                    throw KafkaError(code: .admin, message: "listing consumer groups: \(text)", brokerCode: rd_kafka_error_code(first).rawValue)
                }
                return Array(Set(groups)).sorted()
            })
    }

    /// Describes groups (blocking): per group either its description or the error the broker
    /// gave for it (librdkafka's mock cluster does not support the request: every group fails).
    func describeConsumerGroups(_ groups: [String], timeoutMilliseconds: Int32) throws -> [String: Result<KafkaConsumerGroupDescription, KafkaError>] {
        guard !groups.isEmpty else { return [:] }
        let names = groups.map { strdup($0) }
        defer { for name in names { free(name) } }
        var pointers: [UnsafePointer<CChar>?] = names.map { UnsafePointer($0) }
        return try adminRequest(
            RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeoutMilliseconds: timeoutMilliseconds, what: "describing consumer groups",
            issue: { options, queue in
                pointers.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_DescribeConsumerGroups(handle, buffer.baseAddress, buffer.count, options, queue)
                }
            },
            read: { event in
                var outcome: [String: Result<KafkaConsumerGroupDescription, KafkaError>] = [:]
                guard let result = rd_kafka_event_DescribeConsumerGroups_result(event) else { return outcome }
                var count = 0
                guard let descriptions = rd_kafka_DescribeConsumerGroups_result_groups(result, &count) else { return outcome }
                for index in 0..<count {
                    guard let description = descriptions[index] else { continue }
                    let group = String(cString: rd_kafka_ConsumerGroupDescription_group_id(description))
                    if let error = rd_kafka_ConsumerGroupDescription_error(description), rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR_NO_ERROR {
                        let text = rd_kafka_error_string(error).map { String(cString: $0) } ?? "unknown error"
                        outcome[group] = .failure(
                            KafkaError(code: .admin, message: "describing group '\(group)': \(text)", brokerCode: rd_kafka_error_code(error).rawValue))
                        continue
                    }
                    let state = String(cString: rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(description)))
                    var members: [KafkaConsumerGroupDescription.Member] = []
                    for memberIndex in 0..<rd_kafka_ConsumerGroupDescription_member_count(description) {
                        guard let member = rd_kafka_ConsumerGroupDescription_member(description, memberIndex) else { continue }
                        var partitions: [KafkaTopicPartition] = []
                        if let assignment = rd_kafka_MemberDescription_assignment(member),
                            let list = rd_kafka_MemberAssignment_partitions(assignment)
                        {
                            partitions = Self.readPartitionList(list).map(\.partition).sorted()
                        }
                        members.append(
                            .init(
                                memberID: rd_kafka_MemberDescription_consumer_id(member).map { String(cString: $0) } ?? "",
                                clientID: rd_kafka_MemberDescription_client_id(member).map { String(cString: $0) } ?? "",
                                host: rd_kafka_MemberDescription_host(member).map { String(cString: $0) } ?? "",
                                partitions: partitions))
                    }
                    outcome[group] = .success(KafkaConsumerGroupDescription(group: group, state: state, members: members))
                }
                return outcome
            })
    }

    /// The committed offsets of this client's group (`group.id`) for `partitions` (blocking): one
    /// OffsetFetch. `nil` for a partition the group never committed.
    func committedOffsets(_ partitions: [KafkaTopicPartition], timeoutMilliseconds: Int32) throws -> [KafkaTopicPartition: Int64?] {
        guard !partitions.isEmpty else { return [:] }
        let list = Self.makePartitionList(partitions.map { ($0, nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_committed(handle, list, timeoutMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.fromLibrary(err, code: .admin, context: "reading committed offsets")
        }
        var result: [KafkaTopicPartition: Int64?] = [:]
        for element in Self.readPartitionList(list) {
            // RD_KAFKA_OFFSET_INVALID (-1001): nothing committed.
            result[element.partition] = element.error == 0 && element.offset >= 0 ? element.offset : nil
        }
        return result
    }

    /// The timestamp (ms since the epoch) of the first record at or after each of the offsets
    /// asked for a partition, read by this client without a group (blocking). Every partition is
    /// started once, at its lowest offset, on one queue, and read forward in batches until its
    /// highest: many offsets of one partition cost one pass over the records between them. An
    /// offset with nothing at or after it (the end) or without a timestamp gets none.
    func recordTimestamps(_ wanted: [KafkaTopicPartition: [Int64]], timeoutMilliseconds: Int32) -> [KafkaTopicPartition: [Int64: Int64]] {
        guard !wanted.isEmpty else { return [:] }
        let queue = rd_kafka_queue_new(handle)!
        defer { rd_kafka_queue_destroy(queue) }
        var topics: [String: OpaquePointer] = [:]
        var started: [(OpaquePointer, KafkaTopicPartition)] = []
        defer {
            for (rkt, partition) in started { rd_kafka_consume_stop(rkt, partition.partition) }
            for rkt in topics.values { rd_kafka_topic_destroy(rkt) }
        }
        // Per partition: the offsets still to find, ascending.
        var pending: [KafkaTopicPartition: ArraySlice<Int64>] = [:]
        for (partition, offsets) in wanted {
            let sorted = Array(Set(offsets)).sorted()
            guard let first = sorted.first else { continue }
            let rkt: OpaquePointer
            if let known = topics[partition.topic] {
                rkt = known
            } else {
                guard let created = rd_kafka_topic_new(handle, partition.topic, nil) else { continue }
                topics[partition.topic] = created
                rkt = created
            }
            if rd_kafka_consume_start_queue(rkt, partition.partition, first, queue) == 0 {
                started.append((rkt, partition))
                pending[partition] = sorted[...]
            }
        }
        var timestamps: [KafkaTopicPartition: [Int64: Int64]] = [:]
        var names = TopicNames()
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMilliseconds))
        let capacity = 1_024
        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: capacity)
        defer { messages.deallocate() }
        while !pending.isEmpty {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            // What is already fetched, without waiting (a batch read waits for a full batch or its
            // whole timeout); when nothing is, wait for the next one alone.
            var count = rd_kafka_consume_batch_queue(queue, 0, messages, capacity)
            if count <= 0 {
                guard let message = rd_kafka_consume_queue(queue, Int32(clamping: max(1, left.milliseconds))) else { continue }
                messages[0] = message
                count = 1
            }
            for index in 0..<count {
                guard let message = messages[index] else { continue }
                defer { rd_kafka_message_destroy(message) }
                guard let rkt = message.pointee.rkt else { continue }
                let partition = KafkaTopicPartition(topic: names.name(rkt), partition: message.pointee.partition)
                guard var offsets = pending[partition] else { continue }
                if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
                    let timestamp = rd_kafka_message_timestamp(message, &type)
                    // This record is the first at or after every offset asked for up to its own.
                    while let next = offsets.first, next <= message.pointee.offset {
                        if type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE, timestamp >= 0 { timestamps[partition, default: [:]][next] = timestamp }
                        offsets.removeFirst()
                    }
                    pending[partition] = offsets.isEmpty ? nil : offsets
                } else if message.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF || message.pointee.err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE
                    || message.pointee.err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET
                {
                    pending[partition] = nil
                }
            }
        }
        return timestamps
    }
}
