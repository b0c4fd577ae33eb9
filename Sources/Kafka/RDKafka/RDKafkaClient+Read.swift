import CRdKafka

extension RDKafkaClient {
    /// Per partition, the offset of the first record whose timestamp is at or after `timestamp`
    /// (ms since the epoch), or `nil` when the broker cannot tell (blocking). A partition with no
    /// such record gets its end offset.
    func offsets(
        of partitions: [KafkaTopicPartition], atOrAfter timestamp: Int64, ends: [KafkaTopicPartition: Int64], timeoutMilliseconds: Int32
    ) -> [KafkaTopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let list = Self.makePartitionList(partitions.map { ($0, max(0, timestamp)) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard rd_kafka_offsets_for_times(handle, list, timeoutMilliseconds) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
        var result: [KafkaTopicPartition: Int64] = [:]
        for element in Self.readPartitionList(list) where element.error == 0 {
            if element.offset >= 0 {
                result[element.partition] = element.offset
            } else if element.offset == -1, let end = ends[element.partition] {
                result[element.partition] = end
            }
        }
        return result
    }

    /// Reads every record of the given offset ranges, without a group (blocking). Returns them
    /// per partition in offset order, or `nil` when the ranges could not all be read before the
    /// timeout (a range whose start the broker already deleted is read from its oldest record).
    func read(_ ranges: [KafkaTopicPartition: Range<Int64>], timeoutMilliseconds: Int32) -> [KafkaMessage]? {
        let wanted = ranges.filter { !$0.value.isEmpty }
        guard !wanted.isEmpty else { return [] }
        let queue = rd_kafka_queue_new(handle)!
        defer { rd_kafka_queue_destroy(queue) }
        var topics: [String: OpaquePointer] = [:]
        var started: [(OpaquePointer, KafkaTopicPartition)] = []
        defer {
            for (rkt, partition) in started { rd_kafka_consume_stop(rkt, partition.partition) }
            for rkt in topics.values { rd_kafka_topic_destroy(rkt) }
        }
        var pending: [KafkaTopicPartition: Range<Int64>] = [:]
        for (partition, range) in wanted {
            let rkt: OpaquePointer
            if let known = topics[partition.topic] {
                rkt = known
            } else {
                guard let created = rd_kafka_topic_new(handle, partition.topic, nil) else { return nil }
                topics[partition.topic] = created
                rkt = created
            }
            guard rd_kafka_consume_start_queue(rkt, partition.partition, range.lowerBound, queue) == 0 else { return nil }
            started.append((rkt, partition))
            pending[partition] = range
        }
        var result: [KafkaMessage] = []
        var topicNames = TopicNames()
        var headerNames = HeaderNames()
        var events: [ConsumerPollEvent] = []
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMilliseconds))
        while !pending.isEmpty {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            guard let message = rd_kafka_consume_queue(queue, Int32(clamping: max(1, min(left.milliseconds, 100)))) else { continue }
            defer { rd_kafka_message_destroy(message) }
            guard let rkt = message.pointee.rkt else { continue }
            let topic = topicNames.name(rkt)
            let partition = KafkaTopicPartition(topic: topic, partition: message.pointee.partition)
            guard let range = pending[partition] else { continue }
            if message.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                // The end of what the broker had when it answered: the range is read once that end
                // reaches its upper bound (its last offsets may be control records, never delivered).
                // An earlier end (a broker answering from an older state) is not the range's end.
                if message.pointee.offset >= range.upperBound { pending[partition] = nil }
                continue
            }
            guard message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            if message.pointee.offset < range.upperBound {
                var converted: [KafkaMessage] = []
                convert(message, topicNames: &topicNames, headerNames: &headerNames, messages: &converted, events: &events, generation: { _ in 0 })
                result += converted
            }
            if message.pointee.offset + 1 >= range.upperBound { pending[partition] = nil }
        }
        return result
    }
}
