#if canImport(Glibc)
import Glibc
#endif
import CRdKafka

/// What lag sampling asks of many groups and partitions at once, each as few requests as the
/// protocol allows: committed offsets of every group through this one handle (one
/// OffsetFetch per group, all in flight together), watermarks of every partition as one
/// ListOffsets per leader and end, and a group's offsets written without joining it.
extension RDKafkaClient {
    /// The committed offsets of several groups (blocking): one ListConsumerGroupOffsets request
    /// per group (librdkafka takes one group a request), all issued before the first answer is
    /// awaited. Per group, its offsets (`nil` for a partition it never committed) or the error the
    /// request ended with; a group whose answer did not come within the timeout has none.
    func groupOffsets(
        _ requests: [(group: String, partitions: [KafkaTopicPartition])], timeoutMilliseconds: Int32
    ) -> [String: Result<[KafkaTopicPartition: Int64?], KafkaError>] {
        guard !requests.isEmpty else { return [:] }
        let queue = rd_kafka_queue_new(handle)!
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS)!
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errorText = [CChar](repeating: 0, count: 512)
        rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
        var issued = 0
        for request in requests where !request.partitions.isEmpty {
            let list = Self.makePartitionList(request.partitions.map { ($0, nil) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            var offsets: [OpaquePointer?] = [rd_kafka_ListConsumerGroupOffsets_new(request.group, list)]
            defer { rd_kafka_ListConsumerGroupOffsets_destroy(offsets[0]) }
            offsets.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_ListConsumerGroupOffsets(handle, buffer.baseAddress, 1, options, queue)
            }
            issued += 1
        }
        var outcome: [String: Result<[KafkaTopicPartition: Int64?], KafkaError>] = [:]
        for request in requests where request.partitions.isEmpty { outcome[request.group] = .success([:]) }
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMilliseconds) + 1_000)
        var answered = 0
        while answered < issued {
            let left = deadline - ContinuousClock.now
            guard left > .zero, let event = rd_kafka_queue_poll(queue, Int32(clamping: max(1, left.milliseconds))) else { break }
            defer { rd_kafka_event_destroy(event) }
            answered += 1
            let eventError = rd_kafka_event_error(event)
            guard let result = rd_kafka_event_ListConsumerGroupOffsets_result(event) else { continue }
            var count = 0
            guard let groups = rd_kafka_ListConsumerGroupOffsets_result_groups(result, &count) else { continue }
            for index in 0..<count {
                guard let groupResult = groups[index], let name = rd_kafka_group_result_name(groupResult) else { continue }
                let group = String(cString: name)
                if let error = rd_kafka_group_result_error(groupResult), rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR_NO_ERROR {
                    let text = rd_kafka_error_string(error).map { String(cString: $0) } ?? "unknown error"
                    outcome[group] = .failure(
                        KafkaError(code: .admin, message: "reading the offsets of group '\(group)': \(text)", brokerCode: rd_kafka_error_code(error).rawValue))
                    continue
                }
                guard eventError == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    outcome[group] = .failure(KafkaError.fromLibrary(eventError, code: .admin, context: "reading the offsets of group '\(group)'"))
                    continue
                }
                var offsets: [KafkaTopicPartition: Int64?] = [:]
                if let list = rd_kafka_group_result_partitions(groupResult) {
                    for element in Self.readPartitionList(list) {
                        // RD_KAFKA_OFFSET_INVALID (-1001): nothing committed.
                        offsets[element.partition] = element.error == 0 && element.offset >= 0 ? element.offset : nil
                    }
                }
                outcome[group] = .success(offsets)
            }
        }
        return outcome
    }

    /// Sets `group`'s committed offsets (blocking), as a group member would commit them, without
    /// joining: AlterConsumerGroupOffsets. The broker refuses it for a topic the group's active
    /// members subscribe to.
    func alterGroupOffsets(group: String, offsets: [KafkaTopicPartition: Int64], timeoutMilliseconds: Int32) throws {
        guard !offsets.isEmpty else { return }
        let list = Self.makePartitionList(offsets.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        var requests: [OpaquePointer?] = [rd_kafka_AlterConsumerGroupOffsets_new(group, list)]
        defer { rd_kafka_AlterConsumerGroupOffsets_destroy(requests[0]) }
        try adminRequest(
            RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, timeoutMilliseconds: timeoutMilliseconds, what: "committing the offsets of group '\(group)'",
            issue: { options, queue in
                requests.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_AlterConsumerGroupOffsets(handle, buffer.baseAddress, 1, options, queue)
                }
            },
            read: { event in
                guard let result = rd_kafka_event_AlterConsumerGroupOffsets_result(event) else { return }
                var count = 0
                guard let groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(result, &count) else { return }
                for index in 0..<count {
                    guard let groupResult = groups[index] else { continue }
                    if let error = rd_kafka_group_result_error(groupResult), rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR_NO_ERROR {
                        let text = rd_kafka_error_string(error).map { String(cString: $0) } ?? "unknown error"
                        throw KafkaError(code: .admin, message: "committing the offsets of group '\(group)': \(text)", brokerCode: rd_kafka_error_code(error).rawValue)
                    }
                    if let list = rd_kafka_group_result_partitions(groupResult),
                        let failed = Self.readPartitionList(list).first(where: { $0.error != 0 })
                    {
                        throw KafkaError(
                            code: .admin, message: "committing the offsets of group '\(group)': \(failed.partition): \(Self.errorDescription(failed.error))",
                            brokerCode: failed.error)
                    }
                }
            })
    }

    /// The low and high watermarks of many partitions (blocking): two ListOffsets requests per
    /// partition leader (earliest and latest) instead of two per partition. A partition whose
    /// watermarks could not be read has no entry.
    func watermarks(of partitions: [KafkaTopicPartition], timeoutMilliseconds: Int32) -> [KafkaTopicPartition: (low: Int64, high: Int64)] {
        guard !partitions.isEmpty else { return [:] }
        // ListOffsets' special timestamps: -2 the earliest offset, -1 the latest.
        func offsets(at timestamp: Int64) -> [KafkaTopicPartition: Int64] {
            let list = Self.makePartitionList(partitions.map { ($0, timestamp) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_offsets_for_times(handle, list, timeoutMilliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__TIMED_OUT else { return [:] }
            var result: [KafkaTopicPartition: Int64] = [:]
            for element in Self.readPartitionList(list) where element.error == 0 && element.offset >= 0 {
                result[element.partition] = element.offset
            }
            return result
        }
        let low = offsets(at: -2)
        let high = offsets(at: -1)
        var result: [KafkaTopicPartition: (low: Int64, high: Int64)] = [:]
        for (partition, end) in high {
            guard let start = low[partition] else { continue }
            result[partition] = (start, end)
        }
        return result
    }
}
