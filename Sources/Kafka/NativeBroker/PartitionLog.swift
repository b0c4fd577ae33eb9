import NIOCore

/// One partition's log in the native embedded broker: the record batches producers sent, as they
/// sent them (only their base offset is set), found by binary search over their base offsets.
/// The oldest batches are deleted past `retainedBytes`, and the log start offset moves up.
///
/// Confined to the broker's event loop.
final class PartitionLog {
    /// Batches from `head` on are live; the ones before it are deleted and dropped in bulk.
    private var batches: [ByteBuffer] = []
    private var baseOffsets: [Int64] = []
    private var head = 0
    private var retained = 0
    private let retainedBytes: Int
    private(set) var logStartOffset: Int64 = 0
    /// The offset the next record gets (the high watermark: every record is committed at once).
    private(set) var endOffset: Int64 = 0
    /// The idempotent producers that wrote here, by producer id.
    private var producers: [Int64: ProducerSequence] = [:]

    init(retainedBytes: Int) {
        self.retainedBytes = retainedBytes
    }

    /// What a produce request's records field gave.
    enum AppendResult {
        case appended(baseOffset: Int64)
        case failed(KafkaErrorCode)
    }

    /// Appends the record batches of a produce request (magic 2, as librdkafka sends with
    /// Produce v3 and later). A batch an idempotent producer sent again (a retry) is not appended
    /// again: the answer is the offset it got the first time.
    func append(_ records: ByteBuffer) -> AppendResult {
        var records = records
        var first: Int64?
        while records.readableBytes > 0 {
            guard let batch = RecordBatchHeader(records), var bytes = records.readSlice(length: batch.size) else {
                return .failed(.corruptMessage)
            }
            let baseOffset: Int64
            switch admit(batch) {
            case .duplicate(let offset):
                baseOffset = offset
            case .refused(let code):
                return .failed(code)
            case .new:
                baseOffset = endOffset
                // A copy of its own: the request's buffer is not kept alive by the log.
                var stored = ByteBufferAllocator().buffer(capacity: bytes.readableBytes)
                stored.writeBuffer(&bytes)
                stored.setInteger(baseOffset, at: 0)
                batches.append(stored)
                baseOffsets.append(baseOffset)
                retained += batch.size
                endOffset += Int64(batch.recordCount)
                if batch.producerID >= 0 {
                    producers[batch.producerID, default: ProducerSequence(epoch: batch.producerEpoch)]
                        .record(batch, baseOffset: baseOffset)
                }
            }
            first = first ?? baseOffset
        }
        enforceRetention()
        return first.map { .appended(baseOffset: $0) } ?? .failed(.corruptMessage)
    }

    private enum Admission {
        case new
        case duplicate(Int64)
        case refused(KafkaErrorCode)
    }

    private func admit(_ batch: RecordBatchHeader) -> Admission {
        guard batch.producerID >= 0, let known = producers[batch.producerID] else { return .new }
        if batch.producerEpoch < known.epoch { return .refused(.invalidProducerEpoch) }
        if batch.producerEpoch > known.epoch {
            // A new epoch starts its sequences again at 0.
            producers[batch.producerID] = nil
            return batch.baseSequence == 0 ? .new : .refused(.outOfOrderSequenceNumber)
        }
        if let offset = known.offset(ofDuplicate: batch) { return .duplicate(offset) }
        return batch.baseSequence == known.nextSequence ? .new : .refused(.outOfOrderSequenceNumber)
    }

    private func enforceRetention() {
        // Always keep the newest batch, however large.
        while retained > retainedBytes, batches.count - head > 1 {
            retained -= batches[head].readableBytes
            batches[head] = ByteBuffer()
            head += 1
            logStartOffset = baseOffsets[head]
        }
        if head > 1024, head * 2 > batches.count {
            batches.removeFirst(head)
            baseOffsets.removeFirst(head)
            head = 0
        }
    }

    /// Whether `offset` can be read: from the log start to the end offset (where a fetch waits).
    func contains(_ offset: Int64) -> Bool {
        offset >= logStartOffset && offset <= endOffset
    }

    /// The batches from the one holding `offset` on, about `maxBytes` of them but always at least
    /// one when there is one (a consumer skips the records before `offset` itself).
    func read(from offset: Int64, maxBytes: Int) -> [ByteBuffer] {
        guard offset >= logStartOffset, offset < endOffset else { return [] }
        // The last batch whose base offset is at most `offset`.
        var low = head
        var high = baseOffsets.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if baseOffsets[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        var result: [ByteBuffer] = []
        var size = 0
        for index in low..<batches.count {
            let batch = batches[index]
            if !result.isEmpty, size + batch.readableBytes > maxBytes { break }
            result.append(batch)
            size += batch.readableBytes
        }
        return result
    }

    /// The offset of the first record whose timestamp is at least `timestamp`, or the end offset.
    func offset(forTimestamp timestamp: Int64) -> Int64 {
        for index in head..<batches.count {
            guard let header = RecordBatchHeader(batches[index]) else { continue }
            if header.maxTimestamp >= timestamp { return max(baseOffsets[index], logStartOffset) }
        }
        return endOffset
    }
}

/// The fields of a record batch's header (magic 2) the broker needs.
struct RecordBatchHeader {
    /// The whole batch, header included.
    let size: Int
    let recordCount: Int32
    let maxTimestamp: Int64
    let producerID: Int64
    let producerEpoch: Int16
    let baseSequence: Int32

    /// Reads the header at the reader index, or nil when it is not a whole batch of magic 2.
    init?(_ buffer: ByteBuffer) {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= 61,
              let length = buffer.getInteger(at: start + 8, as: Int32.self), length >= 49,
              buffer.readableBytes >= 12 + Int(length),
              buffer.getInteger(at: start + 16, as: Int8.self) == 2,
              let lastOffsetDelta = buffer.getInteger(at: start + 23, as: Int32.self), lastOffsetDelta >= 0, lastOffsetDelta < Int32.max,
              let maxTimestamp = buffer.getInteger(at: start + 35, as: Int64.self),
              let producerID = buffer.getInteger(at: start + 43, as: Int64.self),
              let producerEpoch = buffer.getInteger(at: start + 51, as: Int16.self),
              let baseSequence = buffer.getInteger(at: start + 53, as: Int32.self),
              // The records a producer's batch holds are its offsets, one each.
              buffer.getInteger(at: start + 57, as: Int32.self) == lastOffsetDelta + 1
        else { return nil }
        self.size = 12 + Int(length)
        self.recordCount = lastOffsetDelta + 1
        self.maxTimestamp = maxTimestamp
        self.producerID = producerID
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
    }

    var lastSequence: Int32 {
        let last = Int64(baseSequence) + Int64(recordCount) - 1
        return Int32(truncatingIfNeeded: last > Int64(Int32.max) ? last - Int64(Int32.max) - 1 : last)
    }
}

/// An idempotent producer's sequence on one partition: the next sequence it must send, and its
/// last five batches (as many as it may have in flight), to recognise a retry.
struct ProducerSequence {
    let epoch: Int16
    private var recent: [(first: Int32, last: Int32, baseOffset: Int64)] = []
    private(set) var nextSequence: Int32 = 0

    init(epoch: Int16) { self.epoch = epoch }

    mutating func record(_ batch: RecordBatchHeader, baseOffset: Int64) {
        recent.append((batch.baseSequence, batch.lastSequence, baseOffset))
        if recent.count > 5 { recent.removeFirst() }
        nextSequence = batch.lastSequence == Int32.max ? 0 : batch.lastSequence + 1
    }

    func offset(ofDuplicate batch: RecordBatchHeader) -> Int64? {
        recent.first { $0.first == batch.baseSequence && $0.last == batch.lastSequence }?.baseOffset
    }
}
