import ExchangeProtocol

/// The limit order book of one symbol: price levels on each side, each a FIFO queue of resting entries.
///
/// Matching follows price-time priority: the best price first (lowest ask, highest bid), and within a price
/// the entry that rested first. A trade happens at the price of the resting entry. Entries belong to a client
/// order or to the simulated liquidity; the book treats both alike.
struct OrderBook: Sendable {
    /// Who an entry belongs to.
    enum Owner: Hashable, Sendable {
        /// The simulated liquidity.
        case liquidity
        /// A client order, by its order id.
        case client(String)
    }

    /// A resting entry.
    struct Entry: Sendable {
        var owner: Owner
        var remaining: Int64
    }

    /// One price level: a FIFO queue of entries. Entries before `head` are used up.
    struct Level: Sendable {
        let price: ExchangePrice
        var entries: [Entry]
        var head = 0
        /// The remaining quantity of all live entries.
        var quantity: Int64

        var orderCount: Int { entries.count - head }
    }

    /// One trade of the taker against a resting entry.
    struct Fill: Sendable {
        var maker: Owner
        var price: ExchangePrice
        var quantity: Int64
    }

    /// Bids in ascending price order: the best bid is last, so taking it is O(1).
    private(set) var bids: [Level] = []
    /// Asks in descending price order: the best ask is last.
    private(set) var asks: [Level] = []

    /// Trades an incoming (taker) order against the other side, best price first, while it crosses.
    ///
    /// - Parameters:
    ///   - side: The taker's side; a buy takes asks, a sell takes bids.
    ///   - limit: The taker's limit price, or `nil` for a market order (takes any price).
    ///   - quantity: The taker's open quantity.
    ///   - fills: Receives one fill per resting entry traded, in order.
    /// - Returns: The taker's quantity left over.
    mutating func match(taker side: ExchangeSide, limit: ExchangePrice?, quantity: Int64, fills: inout [Fill]) -> Int64 {
        switch side {
        case .buy: Self.match(&asks, takerSide: side, limit: limit, quantity: quantity, fills: &fills)
        case .sell: Self.match(&bids, takerSide: side, limit: limit, quantity: quantity, fills: &fills)
        }
    }

    private static func match(
        _ levels: inout [Level],
        takerSide: ExchangeSide,
        limit: ExchangePrice?,
        quantity: Int64,
        fills: inout [Fill]
    ) -> Int64 {
        var remaining = quantity
        while remaining > 0, let best = levels.indices.last {
            let price = levels[best].price
            if let limit {
                let crosses = takerSide == .buy ? price <= limit : price >= limit
                if !crosses { break }
            }
            remaining = take(from: &levels[best], quantity: remaining, fills: &fills)
            if levels[best].orderCount == 0 {
                levels.removeLast()
            }
        }
        return remaining
    }

    /// Takes from one level's queue in arrival order; returns the taker's quantity left over.
    private static func take(from level: inout Level, quantity: Int64, fills: inout [Fill]) -> Int64 {
        var remaining = quantity
        while remaining > 0, level.head < level.entries.count {
            let traded = min(remaining, level.entries[level.head].remaining)
            fills.append(Fill(maker: level.entries[level.head].owner, price: level.price, quantity: traded))
            remaining -= traded
            level.quantity -= traded
            level.entries[level.head].remaining -= traded
            if level.entries[level.head].remaining == 0 {
                level.head += 1
            }
        }
        // Drop used-up entries now and then, so a busy level does not grow without bound.
        if level.head > 32, level.head * 2 >= level.entries.count {
            level.entries.removeFirst(level.head)
            level.head = 0
        }
        return remaining
    }

    /// Adds an entry at the back of the queue of its price level (the price must not cross the other side).
    mutating func rest(side: ExchangeSide, price: ExchangePrice, owner: Owner, quantity: Int64) {
        switch side {
        case .buy: Self.rest(&bids, ascending: true, price: price, entry: Entry(owner: owner, remaining: quantity))
        case .sell: Self.rest(&asks, ascending: false, price: price, entry: Entry(owner: owner, remaining: quantity))
        }
    }

    private static func rest(_ levels: inout [Level], ascending: Bool, price: ExchangePrice, entry: Entry) {
        let (index, found) = position(of: price, in: levels, ascending: ascending)
        if found {
            levels[index].entries.append(entry)
            levels[index].quantity += entry.remaining
        } else {
            levels.insert(Level(price: price, entries: [entry], quantity: entry.remaining), at: index)
        }
    }

    /// Removes a client's entry; returns its remaining quantity, or `nil` if it is not in the book.
    mutating func remove(side: ExchangeSide, price: ExchangePrice, owner: Owner) -> Int64? {
        switch side {
        case .buy: Self.remove(&bids, ascending: true, price: price) { $0 == owner }
        case .sell: Self.remove(&asks, ascending: false, price: price) { $0 == owner }
        }
    }

    /// Removes every simulated-liquidity entry at `price` on `side`.
    mutating func removeLiquidity(side: ExchangeSide, price: ExchangePrice) {
        switch side {
        case .buy: _ = Self.remove(&bids, ascending: true, price: price, all: true) { $0 == .liquidity }
        case .sell: _ = Self.remove(&asks, ascending: false, price: price, all: true) { $0 == .liquidity }
        }
    }

    /// Removes the first (or every) live entry at `price` whose owner matches; returns the quantity removed,
    /// or `nil` if none matched.
    private static func remove(
        _ levels: inout [Level],
        ascending: Bool,
        price: ExchangePrice,
        all: Bool = false,
        where matches: (Owner) -> Bool
    ) -> Int64? {
        let (index, found) = position(of: price, in: levels, ascending: ascending)
        guard found else { return nil }
        var removed: Int64?
        var position = levels[index].head
        while position < levels[index].entries.count {
            if matches(levels[index].entries[position].owner) {
                let quantity = levels[index].entries[position].remaining
                removed = (removed ?? 0) + quantity
                levels[index].quantity -= quantity
                levels[index].entries.remove(at: position)
                if !all { break }
            } else {
                position += 1
            }
        }
        if levels[index].orderCount == 0 {
            levels.remove(at: index)
        }
        return removed
    }

    /// The index of the level at `price`, or where it would be inserted, by binary search.
    private static func position(of price: ExchangePrice, in levels: [Level], ascending: Bool) -> (Int, Bool) {
        var low = 0
        var high = levels.count
        while low < high {
            let middle = (low + high) / 2
            let before = ascending ? levels[middle].price < price : levels[middle].price > price
            if before {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return (low, low < levels.count && levels[low].price == price)
    }

    /// The levels of one side, best first, at most `maxLevels` of them.
    func levels(_ side: ExchangeSide, maxLevels: Int = .max) -> [Level] {
        Array((side == .buy ? bids : asks).reversed().prefix(maxLevels))
    }

    /// The best bid or ask price, if the side is not empty.
    func bestPrice(_ side: ExchangeSide) -> ExchangePrice? {
        (side == .buy ? bids : asks).last?.price
    }
}
