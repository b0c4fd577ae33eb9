import CRdKafka
#if canImport(Glibc)
import Glibc
#endif

/// What a consumer poll brought besides messages.
enum ConsumerPollEvent {
    /// librdkafka could not continue a partition from its position (`auto.offset.reset=error`):
    /// either there is no committed offset yet, or the offset is out of range (a gap).
    case offsetReset(KafkaTopicPartition, offset: Int64, reason: String)
    /// Any other consumer error.
    case error(code: Int32, message: String, partition: KafkaTopicPartition?)
}

extension RDKafkaClient {
    func subscribe(_ topics: [String]) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics {
            rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA)
        }
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.fromLibrary(err, code: .consumer, context: "subscribe to \(topics)")
        }
    }

    /// Asks the cluster for the topics' metadata (partitions and leaders) and waits for it, so that
    /// the first assignment finds every partition's leader known. Without it librdkafka 2.0 can
    /// start a partition before its leader is known and then retries the offset query only after
    /// a 1 s timer. Blocking: call it on the polling thread.
    func loadMetadata(for topics: [String], timeoutMilliseconds: Int32) {
        for topic in topics {
            guard let rkt = rd_kafka_topic_new(handle, topic, nil) else { continue }
            defer { rd_kafka_topic_destroy(rkt) }
            var metadata: UnsafePointer<rd_kafka_metadata>?
            if rd_kafka_metadata(handle, 0, rkt, &metadata, timeoutMilliseconds) == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
                rd_kafka_metadata_destroy(metadata)
            }
        }
    }

    /// Waits up to `timeoutMilliseconds` for the first message or event, then takes whatever else
    /// is already there without waiting, up to `maxMessages`. Serves rebalance callbacks.
    /// Without `readsHeaders`, the messages come without their headers.
    func pollBatch(
        maxMessages: Int, timeoutMilliseconds: Int32, topicNames: inout TopicNames, headerNames: inout HeaderNames,
        readsHeaders: Bool = true, messages: inout [KafkaMessage], events: inout [ConsumerPollEvent],
        generation: (KafkaTopicPartition) -> UInt64
    ) {
        guard let first = rd_kafka_consumer_poll(handle, timeoutMilliseconds) else { return }
        convert(
            first, topicNames: &topicNames, headerNames: &headerNames, readsHeaders: readsHeaders, messages: &messages, events: &events,
            generation: generation)
        rd_kafka_message_destroy(first)
        // Then whatever else is ready, without waiting. (One non-blocking poll per record, as
        // kcat does: rd_kafka_consume_batch_queue stalled fetching for ~0.8 s now and then with
        // librdkafka 2.0.2.)
        var taken = 1
        while taken < maxMessages, let message = rd_kafka_consumer_poll(handle, 0) {
            convert(
                message, topicNames: &topicNames, headerNames: &headerNames, readsHeaders: readsHeaders, messages: &messages, events: &events,
                generation: generation)
            rd_kafka_message_destroy(message)
            taken += 1
        }
    }

    func convert(
        _ message: UnsafeMutablePointer<rd_kafka_message_t>, topicNames: inout TopicNames, headerNames: inout HeaderNames,
        readsHeaders: Bool = true, messages: inout [KafkaMessage], events: inout [ConsumerPollEvent],
        generation: (KafkaTopicPartition) -> UInt64
    ) {
        let pointee = message.pointee
        let topic = pointee.rkt.map { topicNames.name($0) } ?? ""
        guard pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? Self.errorDescription(pointee.err.rawValue)
            let partition = pointee.rkt == nil ? nil : KafkaTopicPartition(topic: topic, partition: pointee.partition)
            if pointee.err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET, let partition {
                events.append(.offsetReset(partition, offset: pointee.offset, reason: text))
            } else {
                events.append(.error(code: pointee.err.rawValue, message: text, partition: partition))
            }
            return
        }
        let value = pointee.payload.map { bytesArray($0, count: pointee.len) } ?? []
        let key = pointee.key.map { bytesArray($0, count: pointee.key_len) }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        var headers = KafkaHeaders()
        var rawHeaders: OpaquePointer?
        // librdkafka parses a record's headers on this first ask, into a list it allocates.
        if readsHeaders, rd_kafka_message_headers(message, &rawHeaders) == RD_KAFKA_RESP_ERR_NO_ERROR, let rawHeaders {
            // One allocation for the list, of its exact size; a name seen on the previous header
            // read (records of one producer carry the same few) is not decoded again.
            // (Reserved and appended, not `init(unsafeUninitializedCapacity:)`: that initializer
            // is not specialized here and looked up the array's type metadata for every record.)
            let count = rd_kafka_header_cnt(rawHeaders)
            var list: [KafkaHeaders.Header] = []
            list.reserveCapacity(count)
            var name: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            while list.count < count, rd_kafka_header_get_all(rawHeaders, list.count, &name, &valuePointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                list.append(KafkaHeaders.Header(key: headerNames.name(name!), value: valuePointer.map { bytesArray($0, count: size) }))
            }
            headers.replaceReceived(list)
        }
        messages.append(
            KafkaMessage(
                topic: topic, partition: pointee.partition, offset: pointee.offset,
                timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp,
                key: key, value: value, headers: headers,
                assignmentGeneration: generation(KafkaTopicPartition(topic: topic, partition: pointee.partition))))
    }

    /// Stores the next offsets to commit (the auto-commit sends them in the background).
    /// Returns librdkafka's error code; partitions no longer assigned fail quietly.
    @discardableResult
    func storeOffsets(_ offsets: [KafkaTopicPartition: Int64]) -> Int32 {
        let list = Self.makePartitionList(offsets.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return rd_kafka_offsets_store(handle, list).rawValue
    }

    /// Commits the stored offsets now and waits for the broker's answer. Blocking: call it on
    /// the polling thread only. Returns librdkafka's error code (`_NO_OFFSET` when nothing was stored).
    @discardableResult
    func commitStoredOffsets() -> Int32 {
        rd_kafka_commit(handle, nil, 0).rawValue
    }

    func pause(_ partitions: [KafkaTopicPartition]) {
        guard !partitions.isEmpty else { return }
        let list = Self.makePartitionList(partitions.map { ($0, nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_pause_partitions(handle, list)
    }

    func resume(_ partitions: [KafkaTopicPartition]) {
        guard !partitions.isEmpty else { return }
        let list = Self.makePartitionList(partitions.map { ($0, nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_resume_partitions(handle, list)
    }

    /// The committed offset of a partition for this group, or `nil` when none (blocking).
    func committedOffset(_ partition: KafkaTopicPartition, timeoutMilliseconds: Int32) -> Int64? {
        let list = Self.makePartitionList([(partition, nil)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard rd_kafka_committed(handle, list, timeoutMilliseconds) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        let offset = list.pointee.elems[0].offset
        return offset >= 0 ? offset : nil
    }

    /// The next offset this consumer would fetch for a partition, or `nil` when unknown.
    func position(_ partition: KafkaTopicPartition) -> Int64? {
        let list = Self.makePartitionList([(partition, nil)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard rd_kafka_position(handle, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        let offset = list.pointee.elems[0].offset
        return offset >= 0 ? offset : nil
    }

    /// Low and high watermarks of a partition, asked of the broker (blocking).
    func watermarks(_ partition: KafkaTopicPartition, timeoutMilliseconds: Int32) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_query_watermark_offsets(handle, partition.topic, partition.partition, &low, &high, timeoutMilliseconds)
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? (low, high) : nil
    }

    /// Restarts one partition that librdkafka stopped (offset reset error) at `offset`, keeping
    /// the others of `assignment` where they are. A stopped partition cannot be moved with seek,
    /// only assigned again. Returns librdkafka's error code.
    @discardableResult
    func restart(_ partition: KafkaTopicPartition, at offset: Int64, assignment: [KafkaTopicPartition]) -> Int32 {
        if String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE" {
            let list = Self.makePartitionList([(partition, offset)])
            defer { rd_kafka_topic_partition_list_destroy(list) }
            var code: Int32 = 0
            if let error = rd_kafka_incremental_unassign(handle, list) {
                code = rd_kafka_error_code(error).rawValue
                rd_kafka_error_destroy(error)
            }
            if let error = rd_kafka_incremental_assign(handle, list) {
                code = rd_kafka_error_code(error).rawValue
                rd_kafka_error_destroy(error)
            }
            return code
        }
        let entries = assignment.map { element -> (KafkaTopicPartition, Int64?) in
            element == partition ? (element, offset) : (element, position(element))
        }
        let list = Self.makePartitionList(entries)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return rd_kafka_assign(handle, list).rawValue
    }

    static let offsetBeginning = Int64(RD_KAFKA_OFFSET_BEGINNING)
    static let offsetEnd = Int64(RD_KAFKA_OFFSET_END)

    /// Commits what is stored, leaves the group, and stops fetching (blocking).
    @discardableResult
    func closeConsumer() -> Int32 {
        rd_kafka_consumer_close(handle).rawValue
    }

    /// Wakes a poll that is waiting, so the polling thread notices a request at once.
    func wakeConsumerQueue() {
        if let consumerQueue { rd_kafka_queue_yield(consumerQueue) }
    }
}

/// A copy of `count` bytes at `pointer` as an array: one allocation and one `memcpy`.
///
/// Made from a buffer pointer, whose initializer is specialized here for `UInt8`:
/// `init(unsafeUninitializedCapacity:)` calls the standard library's unspecialized buffer
/// initializer, which looks the storage class's metadata up in the runtime's hash table for
/// every array (in `perf`, 40% of the consumer's conversion of a record; twice the time of this
/// initializer for 16 to 48 bytes).
@inline(__always)
func bytesArray(_ pointer: UnsafeRawPointer, count: Int) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: pointer, count: count))
}

/// The names of the topics a client reads, by librdkafka's topic handle: a record of the same
/// topic as the one before costs a pointer comparison, any other a dictionary look-up.
struct TopicNames {
    private var names: [OpaquePointer: String] = [:]
    private var last: (rkt: OpaquePointer, name: String)?

    mutating func name(_ rkt: OpaquePointer) -> String {
        if let last, last.rkt == rkt { return last.name }
        let name: String
        if let known = names[rkt] {
            name = known
        } else {
            name = String(cString: rd_kafka_topic_name(rkt))
            names[rkt] = name
        }
        last = (rkt, name)
        return name
    }
}

/// Header names as read off the wire: records of one producer repeat the same few names, so the
/// last few decoded ones are kept with their bytes and a repeated name is compared, not decoded.
struct HeaderNames {
    private var recent: [(bytes: [UInt8], name: String)] = []
    private var next = 0
    private static let capacity = 8

    mutating func name(_ cName: UnsafePointer<CChar>) -> String {
        let length = strlen(cName)
        for entry in recent where entry.bytes.count == length {
            let same = entry.bytes.withUnsafeBufferPointer { memcmp($0.baseAddress!, cName, length) == 0 }
            if same { return entry.name }
        }
        let bytes = bytesArray(UnsafeRawPointer(cName), count: length)
        let name = String(decoding: bytes, as: UTF8.self)
        if recent.count < Self.capacity {
            recent.append((bytes, name))
        } else {
            recent[next] = (bytes, name)
            next = (next + 1) % Self.capacity
        }
        return name
    }
}
