import OrderModel

/// How the algorithm works a batch: as `slices` exchange orders whose quantities differ by at
/// most one unit and sum exactly to the batch (no slice smaller than `minSliceQuantity`, so a
/// small batch gets fewer slices).
///
/// Prices: a batch whose members are all market orders is worked at market. A batch with any
/// limit member is worked entirely as limit orders at the most restrictive member limit (the
/// lowest for a buy, the highest for a sell): every fill is shared pro-rata by all members, so
/// this is what keeps every member inside its own limit.
public struct SlicingPolicy: Sendable, Hashable {
    public var slices: Int
    public var minSliceQuantity: Int64

    public init(slices: Int = 3, minSliceQuantity: Int64 = 1) {
        self.slices = max(1, slices)
        self.minSliceQuantity = max(1, minSliceQuantity)
    }

    /// The quantities of the slices of `quantity` units: as equal as possible, the larger ones first.
    public func quantities(of quantity: Int64) -> [Int64] {
        guard quantity > 0 else { return [] }
        let count = Int(min(Int64(slices), max(1, quantity / minSliceQuantity)))
        let base = quantity / Int64(count)
        let extra = Int(quantity % Int64(count))
        return (0..<count).map { $0 < extra ? base + 1 : base }
    }

    /// The limit price every slice of `batch` carries, or `nil` to work it at market.
    public static func limitPrice(of batch: Batch) -> Price? {
        let limits = batch.members.compactMap(\.limitPrice)
        guard !limits.isEmpty else { return nil }
        return batch.side == .buy ? limits.min() : limits.max()
    }

    /// The exchange orders of `batch`; their quantities sum to the batch's.
    public func exchangeOrders(for batch: Batch) -> [ExchangeOrder] {
        let quantities = quantities(of: batch.quantity)
        let limit = Self.limitPrice(of: batch)
        return quantities.enumerated().map { index, quantity in
            ExchangeOrder(
                exchangeOrderId: "x-\(batch.batchId)-\(index)", batchId: batch.batchId, symbol: batch.symbol,
                side: batch.side, quantity: quantity, orderType: limit == nil ? .market : .limit, limitPrice: limit,
                slice: index, slices: quantities.count)
        }
    }
}
