import CRdKafka
#if canImport(Glibc)
import Glibc
#endif

extension RDKafkaClient {
    /// Enqueues one record; librdkafka copies key, value and headers. `slot` comes back in the
    /// delivery report. `timestampMilliseconds` is the record's create time unless it has its own
    /// (the caller reads the clock once for a run of records, instead of librdkafka once a record).
    /// Returns librdkafka's error code (0 when enqueued).
    ///
    /// Hot path: no heap allocation, and the record is read in place through `record`, never
    /// copied (a copy is four reference counts each way). The argument list, and the header names
    /// (NUL-terminated) and values, live in temporary (stack) buffers for the duration of the
    /// call, filled with one `memcpy` each.
    func produce(
        _ record: UnsafePointer<KafkaProducerRecord>, topic rkt: OpaquePointer, slot: UnsafeMutableRawPointer, timestampMilliseconds: Int64
    ) -> Int32 {
        let headerCount = record.pointee.headers.storage.count
        var headerBytes = 0
        if headerCount > 0 {
            for header in record.pointee.headers.storage { headerBytes += header.key.utf8.count + 1 + (header.value?.count ?? 0) }
        }
        return withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7 + headerCount) { vus in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(headerBytes, 1)) { scratch in
                vus[0] = rd_kafka_vu_t()
                vus[0].vtype = RD_KAFKA_VTYPE_RKT
                vus[0].u.rkt = rkt
                vus[1] = rd_kafka_vu_t()
                vus[1].vtype = RD_KAFKA_VTYPE_PARTITION
                vus[1].u.i32 = record.pointee.partition ?? RD_KAFKA_PARTITION_UA
                vus[2] = rd_kafka_vu_t()
                vus[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                vus[2].u.i = RD_KAFKA_MSG_F_COPY
                vus[3] = rd_kafka_vu_t()
                vus[3].vtype = RD_KAFKA_VTYPE_OPAQUE
                vus[3].u.ptr = slot
                vus[4] = rd_kafka_vu_t()
                vus[4].vtype = RD_KAFKA_VTYPE_TIMESTAMP
                vus[4].u.i64 = record.pointee.timestampMilliseconds ?? timestampMilliseconds
                var used = 5
                if headerCount > 0 {
                    var offset = 0
                    for header in record.pointee.headers.storage {
                        let name = scratch.baseAddress! + offset
                        offset += copyBytes(of: header.key, to: name)
                        scratch[offset] = 0
                        offset += 1
                        vus[used] = rd_kafka_vu_t()
                        vus[used].vtype = RD_KAFKA_VTYPE_HEADER
                        vus[used].u.header.name = UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self)
                        if let value = header.value {
                            // Non-NULL even when empty: NULL would mean "no value".
                            let start = scratch.baseAddress! + offset
                            value.withUnsafeBufferPointer { bytes in
                                if let base = bytes.baseAddress { start.initialize(from: base, count: bytes.count) }
                            }
                            offset += value.count
                            vus[used].u.header.val = UnsafeRawPointer(start)
                            vus[used].u.header.size = value.count
                        } else {
                            vus[used].u.header.val = nil
                            vus[used].u.header.size = 0
                        }
                        used += 1
                    }
                }
                // Key and value last: librdkafka reads them from the caller's arrays in place.
                return record.pointee.value.withUnsafeBufferPointer { value in
                    vus[used] = rd_kafka_vu_t()
                    vus[used].vtype = RD_KAFKA_VTYPE_VALUE
                    let isTombstone = record.pointee.isTombstone
                    vus[used].u.mem.ptr = isTombstone ? nil : UnsafeMutableRawPointer(mutating: value.baseAddress)
                    vus[used].u.mem.size = isTombstone ? 0 : value.count
                    used += 1
                    guard let key = record.pointee.key else {
                        return producevaError(vus.baseAddress!, count: used)
                    }
                    return key.withUnsafeBufferPointer { key in
                        vus[used] = rd_kafka_vu_t()
                        vus[used].vtype = RD_KAFKA_VTYPE_KEY
                        vus[used].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                        vus[used].u.mem.size = key.count
                        return producevaError(vus.baseAddress!, count: used + 1)
                    }
                }
            }
        }
    }

    private func producevaError(_ vus: UnsafePointer<rd_kafka_vu_t>, count: Int) -> Int32 {
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

    /// The wall clock in milliseconds since the epoch, as librdkafka stamps a record.
    static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000 + Int64(now.tv_nsec) / 1_000_000
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

/// Copies the UTF-8 bytes of `text` to `destination` (which has room for them); returns how many.
private func copyBytes(of text: String, to destination: UnsafeMutablePointer<UInt8>) -> Int {
    var text = text
    return text.withUTF8 { bytes in
        if let base = bytes.baseAddress { destination.initialize(from: base, count: bytes.count) }
        return bytes.count
    }
}
