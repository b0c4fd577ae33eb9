import OTLPWire
import Synchronization

/// Where finished spans wait for the exporter: a few shards, each a bounded batch behind its own
/// lock, filled round-robin so that threads ending spans rarely meet. Pushing never blocks and
/// never wakes a thread; a full shard drops the span and counts it. The exporter swaps each
/// shard's batch for an empty one, so draining holds a lock only for an instant.
///
/// A buffer that `encodes` keeps each span as its OTLP protobuf bytes, written when the span
/// ends (the span's strings and arrays are then still in the cache, and are freed at once);
/// otherwise it keeps the `SpanData`, for the JSON export and for tests that look at spans.
final class SpanBuffer: Sendable {
    final class Shard: Sendable {
        let batch: Mutex<SpanBatch>

        init(_ empty: SpanBatch) { batch = Mutex(empty) }
    }

    let shards: [Shard]
    let capacityPerShard: Int
    private let nextShard = Atomic<Int>(0)
    private let droppedCount = Atomic<Int>(0)
    private let pushedCount = Atomic<Int>(0)

    /// - Parameters:
    ///   - capacity: the most spans held at once, all shards together.
    ///   - encodes: keep spans as OTLP protobuf bytes, encoded when they end.
    init(capacity: Int, shards: Int = 8, encodes: Bool = false) {
        let count = max(1, shards)
        self.shards = (0..<count).map { _ in Shard(encodes ? .protobuf(EncodedSpans()) : .spans([])) }
        capacityPerShard = max(1, capacity / count)
    }

    var capacity: Int { capacityPerShard * shards.count }

    func push(_ span: SpanData) {
        let index = nextShard.wrappingAdd(1, ordering: .relaxed).oldValue % shards.count
        let limit = capacityPerShard
        let accepted = shards[index].batch.withLock { batch in
            guard batch.count < limit else { return false }
            batch.append(span)
            return true
        }
        if accepted {
            pushedCount.wrappingAdd(1, ordering: .relaxed)
        } else {
            droppedCount.wrappingAdd(1, ordering: .relaxed)
        }
    }

    /// Everything buffered, shard by shard (no copying into one batch).
    func drainShards() -> [SpanBatch] {
        shards.map { shard in
            // The next period will likely see as many: room for them now spares the shard the
            // repeated growth (and copying) of a batch that starts empty.
            var fresh = shard.batch.withLock { $0.room }.emptyBatch(capacity: capacityPerShard)
            return shard.batch.withLock { batch -> SpanBatch in
                swap(&batch, &fresh)
                return fresh
            }
        }
    }

    /// Everything buffered as values (encoded spans decoded).
    func drain() -> [SpanData] {
        var all: [SpanData] = []
        for batch in drainShards() { all += batch.spanData }
        return all
    }

    /// How many spans are waiting.
    var count: Int { shards.reduce(0) { $0 + $1.batch.withLock { $0.count } } }

    /// Spans dropped because the buffer was full, since the start.
    var dropped: Int { droppedCount.load(ordering: .relaxed) }

    /// Spans accepted, since the start.
    var pushed: Int { pushedCount.load(ordering: .relaxed) }
}

/// Ended spans on their way to the exporter: as values, or already encoded as protobuf.
public enum SpanBatch: Sendable {
    case spans([SpanData])
    case protobuf(EncodedSpans)

    public var count: Int {
        switch self {
        case .spans(let spans): spans.count
        case .protobuf(let encoded): encoded.count
        }
    }

    public var isEmpty: Bool { count == 0 }

    /// The spans as values (encoded ones decoded: for tests and tools, not for the hot path).
    public var spanData: [SpanData] {
        switch self {
        case .spans(let spans):
            return spans
        case .protobuf(let encoded):
            guard !encoded.isEmpty else { return [] }
            let request = OTLPTraceEncoder.protobuf(encoded, origin: ExportOrigin(resourceAttributes: []))
            return ((try? OTLPTraceDecoder.protobuf(request)) ?? []).flatMap(\.spans)
        }
    }

    /// The same spans in runs of at most `maxCount`, in order.
    public func split(maxCount: Int) -> [SpanBatch] {
        guard count > maxCount, maxCount > 0 else { return [self] }
        switch self {
        case .spans(let spans):
            return stride(from: 0, to: spans.count, by: maxCount).map { .spans(Array(spans[$0..<min($0 + maxCount, spans.count)])) }
        case .protobuf(let encoded):
            return encoded.split(maxCount: maxCount).map { .protobuf($0) }
        }
    }

    mutating func append(_ span: SpanData) {
        switch self {
        case .spans(var spans):
            self = .spans([])  // no second reference: the append does not copy the array
            spans.append(span)
            self = .spans(spans)
        case .protobuf(var encoded):
            self = .spans([])
            encoded.append(span)
            self = .protobuf(encoded)
        }
    }

    /// What a batch holds: its kind, spans and bytes (a `Room` is read under the shard's lock;
    /// the empty batch with that room is made outside it).
    struct Room {
        let encoded: Bool
        let spans: Int
        let bytes: Int

        /// An empty batch of this kind with room for as much (at most `capacity` spans).
        func emptyBatch(capacity: Int) -> SpanBatch {
            let spans = min(self.spans, capacity)
            guard encoded else {
                var fresh: [SpanData] = []
                fresh.reserveCapacity(spans)
                return .spans(fresh)
            }
            let bytesPerSpan = self.spans == 0 ? 0 : bytes / self.spans
            return .protobuf(EncodedSpans(reservingSpans: spans, bytes: spans * bytesPerSpan))
        }
    }

    var room: Room {
        switch self {
        case .spans(let spans): Room(encoded: false, spans: spans.count, bytes: 0)
        case .protobuf(let encoded): Room(encoded: true, spans: encoded.count, bytes: encoded.byteCount)
        }
    }
}
