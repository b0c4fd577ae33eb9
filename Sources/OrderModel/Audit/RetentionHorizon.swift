/// What an audit can still check once the broker has deleted the oldest records (retention, or
/// the embedded broker's fixed size per partition): the orders whose whole life is still held.
///
/// Every record of an order's life (its batch, exchange orders, fills, updates) is written after
/// its client order. So when every partition still holds everything written after a time `H`
/// (the horizon: the latest time of a first retained record among the partitions that lost
/// records), an order received after `H` still has all its records, and one received before may
/// not. The audit keeps the orders received after the horizon, drops every batch that holds an
/// order received before it (with all that batch's orders: their allocations share fills), and
/// keeps the fills and updates of what is left.
public struct RetentionHorizon: Sendable {
    /// The horizon, in milliseconds since 1970 (record timestamps).
    public var milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// The records of orders whose whole life is held.
    public struct Window: Sendable {
        public var clientOrders: [ClientOrder]
        public var batches: [Batch]
        public var fills: [Fill]
        public var updates: [OrderUpdate]
        /// Orders received before the horizon, or in a batch with one: not audited.
        public var ordersLeftOut: Int
    }

    /// Keeps what can be audited; `clientOrders` come with their record's timestamp (nil: unknown,
    /// left out).
    public func window(
        clientOrders: [(order: ClientOrder, timestampMilliseconds: Int64?)], batches: [Batch], fills: [Fill], updates: [OrderUpdate]
    ) -> Window {
        var kept = Set<OrderKey>()
        var leftOut = Set<OrderKey>()
        for (order, timestamp) in clientOrders {
            if let timestamp, timestamp > milliseconds {
                kept.insert(order.orderKey)
            } else {
                leftOut.insert(order.orderKey)
            }
        }
        var keptBatches: [Batch] = []
        for batch in batches {
            if batch.members.allSatisfy({ kept.contains($0.orderKey) }) {
                keptBatches.append(batch)
            } else {
                for member in batch.members {
                    kept.remove(member.orderKey)
                    leftOut.insert(member.orderKey)
                }
            }
        }
        // An order listed by two batches (a violation of its own) may have left with the second:
        // keep only batches whose members all stayed.
        keptBatches = keptBatches.filter { $0.members.allSatisfy { kept.contains($0.orderKey) } }
        let batchIds = Set(keptBatches.map(\.batchId))
        return Window(
            clientOrders: clientOrders.map(\.order).filter { kept.contains($0.orderKey) },
            batches: keptBatches,
            fills: fills.filter { batchIds.contains($0.batchId) },
            updates: updates.filter { kept.contains($0.orderKey) },
            ordersLeftOut: leftOut.count)
    }
}
