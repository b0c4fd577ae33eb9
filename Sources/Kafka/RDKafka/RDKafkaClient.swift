import CRdKafka
import Logging

/// The one type that calls librdkafka. Everything else in the project speaks Swift.
///
/// It owns an `rd_kafka_t` handle and a `Callbacks` box whose address is the handle's opaque,
/// so C callbacks (delivery reports, rebalances, logs, errors) reach Swift code without globals.
/// It is `@unchecked Sendable` because librdkafka's handle is thread-safe; state that is not
/// (the consumer's assignment) lives in the types that use this one, behind their own locks.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind {
        case producer
        case consumer
    }

    /// Closures librdkafka calls back into. Set before the handle is created, never changed.
    final class Callbacks: @unchecked Sendable {
        let logger: Logger
        /// Called on the polling thread for every assign/revoke, with the partitions concerned.
        var rebalance: (@Sendable (RebalanceEvent) -> Void)?
        /// Where an assigned partition without a committed offset starts (consumers only).
        var initialOffset: Int64 = Int64(RD_KAFKA_OFFSET_BEGINNING)

        init(logger: Logger) { self.logger = logger }
    }

    enum RebalanceEvent {
        case assign([KafkaTopicPartition])
        case revoke([KafkaTopicPartition])
    }

    let handle: OpaquePointer
    /// The consumer queue (consumers only), to wake a waiting poll.
    let consumerQueue: OpaquePointer?
    let kind: Kind
    let callbacks: Callbacks
    private let callbacksReference: Unmanaged<Callbacks>

    /// Creates a client from librdkafka properties.
    /// - Throws: `KafkaError.configuration` naming the property librdkafka rejected.
    init(kind: Kind, properties: [String: String], callbacks: Callbacks) throws {
        let conf = rd_kafka_conf_new()!
        var configured = false
        defer { if !configured { rd_kafka_conf_destroy(conf) } }
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            try Self.set(conf, name, value)
        }
        let reference = Unmanaged.passRetained(callbacks)
        rd_kafka_conf_set_opaque(conf, reference.toOpaque())
        rd_kafka_conf_set_log_cb(conf, logCallback)
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        switch kind {
        case .producer:
            rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        case .consumer:
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        }
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, &errorText, errorText.count) else {
            reference.release()
            throw KafkaError(code: .configuration, message: String(cBuffer: errorText))
        }
        configured = true  // rd_kafka_new took ownership of conf
        self.handle = handle
        self.kind = kind
        self.callbacks = callbacks
        self.callbacksReference = reference
        if kind == .consumer {
            rd_kafka_poll_set_consumer(handle)
            consumerQueue = rd_kafka_queue_get_consumer(handle)
        } else {
            consumerQueue = nil
        }
    }

    deinit {
        if let consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
        rd_kafka_destroy(handle)
        callbacksReference.release()
    }

    private static func set(_ conf: OpaquePointer, _ name: String, _ value: String) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, name, value, &errorText, errorText.count)
        guard result == RD_KAFKA_CONF_OK else {
            throw KafkaError.configuration("property '\(name)'='\(value)' rejected: \(String(cBuffer: errorText))")
        }
    }

    /// librdkafka's symbolic name for an error code, e.g. `_MSG_TIMED_OUT`.
    static func errorName(_ code: Int32) -> String {
        String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code)))
    }

    static func errorDescription(_ code: Int32) -> String {
        String(cString: rd_kafka_err2str(rd_kafka_resp_err_t(rawValue: code)))
    }

    /// Serves queued callbacks (delivery reports, logs, errors) for up to `timeoutMilliseconds`;
    /// returns how many events were served.
    @discardableResult
    func poll(timeoutMilliseconds: Int32) -> Int32 {
        rd_kafka_poll(handle, timeoutMilliseconds)
    }

    /// Ends a `poll` waiting on another thread now (or the next one, if none is waiting).
    /// (`rd_kafka_yield` would not: it only flags the thread that calls it, from a callback.)
    func wakePoll() {
        guard let mainQueue = rd_kafka_queue_get_main(handle) else { return }
        rd_kafka_queue_yield(mainQueue)
        rd_kafka_queue_destroy(mainQueue)
    }

    // MARK: Topic partition lists

    static func makePartitionList(_ partitions: [(KafkaTopicPartition, Int64?)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        for (partition, offset) in partitions {
            let element = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)!
            if let offset { element.pointee.offset = offset }
        }
        return list
    }

    static func destroy(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        rd_kafka_topic_partition_list_destroy(list)
    }

    static func readPartitionList(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [(partition: KafkaTopicPartition, offset: Int64, error: Int32)] {
        var result: [(partition: KafkaTopicPartition, offset: Int64, error: Int32)] = []
        result.reserveCapacity(Int(list.pointee.cnt))
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            result.append((KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition), element.offset, element.err.rawValue))
        }
        return result
    }
}

// MARK: - C callbacks (no captures: they find Swift objects through the opaque pointers)

private func callbacks(of rk: OpaquePointer?) -> RDKafkaClient.Callbacks? {
    guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
    return Unmanaged<RDKafkaClient.Callbacks>.fromOpaque(opaque).takeUnretainedValue()
}

private let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = { rk, level, facility, text in
    guard let box = callbacks(of: rk) else { return }
    let message = text.map { String(cString: $0) } ?? ""
    let facilityName = facility.map { String(cString: $0) } ?? ""
    let logLevel: Logger.Level
    switch level {
    case ...3: logLevel = .error
    case 4: logLevel = .warning
    case 5, 6: logLevel = .info
    default: logLevel = .debug
    }
    box.logger.log(level: logLevel, "\(message)", metadata: ["librdkafka.facility": "\(facilityName)"])
}

private let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { rk, code, reason, opaque in
    guard let opaque else { return }
    let box = Unmanaged<RDKafkaClient.Callbacks>.fromOpaque(opaque).takeUnretainedValue()
    let text = reason.map { String(cString: $0) } ?? ""
    let isFatal = code == RD_KAFKA_RESP_ERR__FATAL.rawValue
    box.logger.log(
        level: isFatal ? .error : .warning, "librdkafka: \(text)",
        metadata: ["kafka.error": "\(RDKafkaClient.errorName(code))"])
}

private let deliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = { _, message, _ in
    guard let message, let slot = message.pointee._private else { return }
    let offset = message.pointee.offset
    DeliveryBatch.complete(
        slot: slot, error: message.pointee.err.rawValue, partition: message.pointee.partition,
        offset: offset >= 0 ? offset : nil)
}

private let rebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = { rk, err, partitions, opaque in
    guard let rk, let opaque else { return }
    let box = Unmanaged<RDKafkaClient.Callbacks>.fromOpaque(opaque).takeUnretainedValue()
    let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
    let list = partitions.map { RDKafkaClient.readPartitionList($0).map(\.partition) } ?? []
    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        // Start partitions the group never committed at the configured initial offset; the others
        // at their committed offset. (With auto.offset.reset=error, librdkafka would otherwise stop
        // a never-committed partition with an error.) The start is an absolute offset read from
        // the watermarks where possible: librdkafka 2.0 may look a logical one (BEGINNING) up
        // before it knows the partition's leader, and then retries only after a 1 s timer.
        if let partitions, rd_kafka_committed(rk, partitions, 10_000) == RD_KAFKA_RESP_ERR_NO_ERROR {
            for index in 0..<Int(partitions.pointee.cnt) where partitions.pointee.elems[index].offset < 0 {
                let element = partitions.pointee.elems[index]
                var low: Int64 = -1
                var high: Int64 = -1
                if rd_kafka_query_watermark_offsets(rk, element.topic, element.partition, &low, &high, 5_000) == RD_KAFKA_RESP_ERR_NO_ERROR {
                    partitions.pointee.elems[index].offset = box.initialOffset == Int64(RD_KAFKA_OFFSET_END) ? high : low
                } else {
                    partitions.pointee.elems[index].offset = box.initialOffset
                }
            }
        }
        if cooperative {
            if let error = rd_kafka_incremental_assign(rk, partitions) { rd_kafka_error_destroy(error) }
        } else {
            rd_kafka_assign(rk, partitions)
        }
        box.rebalance?(.assign(list))
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        // Let the consumer drop what it buffered for these partitions and commit what is done,
        // before they go to another member.
        box.rebalance?(.revoke(list))
        if cooperative {
            if let error = rd_kafka_incremental_unassign(rk, partitions) { rd_kafka_error_destroy(error) }
        } else {
            rd_kafka_assign(rk, nil)
        }
    default:
        box.logger.error("rebalance failed: \(RDKafkaClient.errorDescription(err.rawValue))")
        rd_kafka_assign(rk, nil)
    }
}
