import OTLPWire
import Synchronization

/// Where finished spans wait for the exporter: a few shards, each a bounded array behind its own
/// lock, filled round-robin so that threads ending spans rarely meet. Pushing never blocks and
/// never wakes a thread; a full shard drops the span and counts it. The exporter swaps each
/// shard's array for an empty one, so draining holds a lock only for an instant.
final class SpanBuffer: Sendable {
    final class Shard: Sendable {
        let spans = Mutex<[SpanData]>([])
    }

    let shards: [Shard]
    let capacityPerShard: Int
    private let nextShard = Atomic<Int>(0)
    private let droppedCount = Atomic<Int>(0)
    private let pushedCount = Atomic<Int>(0)

    /// - Parameter capacity: the most spans held at once, all shards together.
    init(capacity: Int, shards: Int = 8) {
        let count = max(1, shards)
        self.shards = (0..<count).map { _ in Shard() }
        capacityPerShard = max(1, capacity / count)
    }

    var capacity: Int { capacityPerShard * shards.count }

    func push(_ span: SpanData) {
        let index = nextShard.wrappingAdd(1, ordering: .relaxed).oldValue % shards.count
        let limit = capacityPerShard
        let accepted = shards[index].spans.withLock { spans in
            guard spans.count < limit else { return false }
            spans.append(span)
            return true
        }
        if accepted {
            pushedCount.wrappingAdd(1, ordering: .relaxed)
        } else {
            droppedCount.wrappingAdd(1, ordering: .relaxed)
        }
    }

    /// Everything buffered, shard by shard (no copying into one array).
    func drainShards() -> [[SpanData]] {
        shards.map { shard in
            // The next period will likely see as many: room for them now spares the shard the
            // repeated growth (and copying) of an array that starts empty.
            var fresh: [SpanData] = []
            fresh.reserveCapacity(min(shard.spans.withLock { $0.count }, capacityPerShard))
            return shard.spans.withLock { spans -> [SpanData] in
                swap(&spans, &fresh)
                return fresh
            }
        }
    }

    /// Everything buffered, in one array.
    func drain() -> [SpanData] {
        var all: [SpanData] = []
        for shard in shards {
            let taken = shard.spans.withLock { spans -> [SpanData] in
                let taken = spans
                spans = []
                spans.reserveCapacity(min(taken.count, capacityPerShard))
                return taken
            }
            if all.isEmpty { all = taken } else { all += taken }
        }
        return all
    }

    /// How many spans are waiting.
    var count: Int { shards.reduce(0) { $0 + $1.spans.withLock { $0.count } } }

    /// Spans dropped because the buffer was full, since the start.
    var dropped: Int { droppedCount.load(ordering: .relaxed) }

    /// Spans accepted, since the start.
    var pushed: Int { pushedCount.load(ordering: .relaxed) }
}
