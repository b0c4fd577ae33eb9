import CRdKafka

extension RDKafkaClient {
    /// Enqueues one record; librdkafka copies key, value and headers. `slot` comes back in the
    /// delivery report. Returns librdkafka's error code (0 when enqueued).
    func produce(_ record: KafkaProducerRecord, topic rkt: OpaquePointer, slot: UnsafeMutableRawPointer) -> Int32 {
        let headerCount = record.headers.count
        // Header names need NUL-terminated storage that outlives the call: lay them out in one
        // buffer, then point into it.
        var names: [UInt8] = []
        if headerCount > 0 {
            names.reserveCapacity(headerCount * 16)
            for header in record.headers {
                names.append(contentsOf: header.key.utf8)
                names.append(0)
            }
        }
        let valueCount = record.value.count
        return names.withUnsafeBufferPointer { namesBuffer in
            record.value.withUnsafeBufferPointer { valueBuffer in
                withOptionalBytes(record.key) { keyBuffer in
                    var vus = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 5 + headerCount)
                    vus[0].vtype = RD_KAFKA_VTYPE_RKT
                    vus[0].u.rkt = rkt
                    vus[1].vtype = RD_KAFKA_VTYPE_PARTITION
                    vus[1].u.i32 = record.partition ?? RD_KAFKA_PARTITION_UA
                    vus[2].vtype = RD_KAFKA_VTYPE_VALUE
                    vus[2].u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBuffer.baseAddress)
                    vus[2].u.mem.size = valueCount
                    vus[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    vus[3].u.i = RD_KAFKA_MSG_F_COPY
                    vus[4].vtype = RD_KAFKA_VTYPE_OPAQUE
                    vus[4].u.ptr = slot
                    var used = 5
                    if let keyBuffer {
                        vus.append(rd_kafka_vu_t())
                        vus[used].vtype = RD_KAFKA_VTYPE_KEY
                        vus[used].u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBuffer.baseAddress)
                        vus[used].u.mem.size = keyBuffer.count
                        used += 1
                    }
                    if headerCount > 0 {
                        return withHeaderValues(record.headers) { valuePointers in
                            var nameOffset = 0
                            for (index, header) in record.headers.enumerated() {
                                vus[used].vtype = RD_KAFKA_VTYPE_HEADER
                                vus[used].u.header.name = UnsafeRawPointer(namesBuffer.baseAddress! + nameOffset)
                                    .assumingMemoryBound(to: CChar.self)
                                vus[used].u.header.val = valuePointers[index].0
                                vus[used].u.header.size = valuePointers[index].1
                                nameOffset += header.key.utf8.count + 1
                                used += 1
                            }
                            return producevaError(vus, count: used)
                        }
                    }
                    return producevaError(vus, count: used)
                }
            }
        }
    }

    private func producevaError(_ vus: [rd_kafka_vu_t], count: Int) -> Int32 {
        guard let error = rd_kafka_produceva(handle, vus, count) else { return 0 }
        let code = rd_kafka_error_code(error).rawValue
        rd_kafka_error_destroy(error)
        return code
    }

    /// A topic handle, to be cached by the caller and released with `releaseTopic`.
    func makeTopic(_ name: String) -> OpaquePointer? {
        rd_kafka_topic_new(handle, name, nil)
    }

    func releaseTopic(_ rkt: OpaquePointer) {
        rd_kafka_topic_destroy(rkt)
    }

    /// Waits until every queued record is delivered or failed, at most `timeoutMilliseconds`.
    /// Returns librdkafka's error code (`_TIMED_OUT` when records are left).
    func flush(timeoutMilliseconds: Int32) -> Int32 {
        rd_kafka_flush(handle, timeoutMilliseconds).rawValue
    }

    /// Records still queued or in flight.
    var outQueueLength: Int32 { rd_kafka_outq_len(handle) }

    /// Fails every queued record with `_PURGE_QUEUE`, so their senders hear of it.
    func purgeQueued() {
        _ = rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
    }

    static func isRetriable(_ code: Int32) -> Bool {
        switch rd_kafka_resp_err_t(rawValue: code) {
        case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
            RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR__QUEUE_FULL:
            return true
        default:
            return false
        }
    }

    static let queueFullCode = RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue
    static let fatalCode = RD_KAFKA_RESP_ERR__FATAL.rawValue
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBufferPointer { body($0) }
}

/// Calls `body` with a (pointer, size) per header value, all valid for the call. A `nil` value
/// becomes a NULL pointer with size 0 (a header without a value).
private func withHeaderValues<R>(_ headers: KafkaHeaders, _ body: ([(UnsafeRawPointer?, Int)]) -> R) -> R {
    // Copy values into one contiguous buffer so a single pointer scope covers them all.
    var storage: [UInt8] = []
    var layout: [(offset: Int, size: Int)] = []
    layout.reserveCapacity(headers.count)
    for header in headers {
        if let value = header.value {
            layout.append((storage.count, value.count))
            storage.append(contentsOf: value)
        } else {
            layout.append((-1, -1))
        }
    }
    storage.append(0)  // never empty, so every empty value has a valid non-NULL pointer
    return storage.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress)
        let pointers: [(UnsafeRawPointer?, Int)] = layout.map { entry in
            // NULL means "no value"; an empty value still gets a non-NULL pointer.
            if entry.size < 0 { return (nil, 0) }
            return (base! + entry.offset, entry.size)
        }
        return body(pointers)
    }
}
