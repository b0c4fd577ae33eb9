import ExchangeProtocol

extension ExchangeSimulator {
    /// The most walk steps one ``tick(now:)`` takes; a larger jump in time walks only this many.
    public static let maxWalkStepsPerTick: Int64 = 100_000

    /// Advances simulated time to `now` and returns what the client must be sent, in order.
    ///
    /// Every ``ExchangeSimulatorConfiguration/Walk/interval`` passed moves each reference price one random
    /// step; when a ``ExchangeSimulatorConfiguration/Liquidity/refreshInterval`` boundary was passed, the
    /// simulated liquidity of every symbol (in configuration order) is withdrawn and laid again around the new
    /// reference price, and the executions of resting client orders that the new liquidity trades with are
    /// returned. A `now` that is not later than the last one changes nothing.
    ///
    /// - Parameter now: Simulated time since the session started; a server passes the time elapsed on its
    ///   own clock.
    public mutating func tick(now: Duration) -> [ExchangeMessage] {
        guard now > self.now else { return [] }
        self.now = now
        let nanoseconds = Self.nanoseconds(now)
        var output: [ExchangeMessage] = []

        let targetSteps = nanoseconds / walkIntervalNanoseconds
        let steps = min(targetSteps - walkSteps, Self.maxWalkStepsPerTick)
        walkSteps = targetSteps
        if steps > 0, configuration.walk.maxStepTicks > 0 {
            for position in instruments.indices {
                walk(position, steps: steps)
            }
        }

        let targetRefreshes = nanoseconds / refreshIntervalNanoseconds
        if targetRefreshes > refreshes {
            refreshes = targetRefreshes
            for position in instruments.indices {
                refreshLiquidity(of: position, into: &output)
            }
        }
        return output
    }

    /// Moves one symbol's reference price `steps` random steps, never below one tick.
    private mutating func walk(_ position: Int, steps: Int64) {
        let maxStep = configuration.walk.maxStepTicks
        var price = instruments[position].referencePrice.ticks
        for _ in 0..<steps {
            let step = instruments[position].random.next(in: -maxStep...maxStep)
            let (moved, overflow) = price.addingReportingOverflow(step)
            price = overflow ? .max : max(1, moved)
        }
        instruments[position].referencePrice = ExchangePrice(ticks: price)
    }

    /// Withdraws one symbol's simulated liquidity and lays it again around the reference price: asks first,
    /// then bids, nearest level first. A new level that crosses resting client orders trades with them (at
    /// their prices) before the rest of it rests.
    mutating func refreshLiquidity(of position: Int, into output: inout [ExchangeMessage]) {
        for price in instruments[position].liquidityAskPrices {
            instruments[position].book.removeLiquidity(side: .sell, price: price)
        }
        for price in instruments[position].liquidityBidPrices {
            instruments[position].book.removeLiquidity(side: .buy, price: price)
        }
        instruments[position].liquidityAskPrices.removeAll(keepingCapacity: true)
        instruments[position].liquidityBidPrices.removeAll(keepingCapacity: true)

        let liquidity = configuration.liquidity
        let reference = instruments[position].referencePrice.ticks
        for side in [ExchangeSide.sell, .buy] {
            for level in 0..<Int64(liquidity.levels) {
                let (spacing, overflow1) = level.multipliedReportingOverflow(by: liquidity.levelSpacingTicks)
                let (offset, overflow2) = spacing.addingReportingOverflow(liquidity.bestLevelOffsetTicks)
                if overflow1 || overflow2 { break }
                let (ticks, overflow3) =
                    side == .sell
                    ? reference.addingReportingOverflow(offset)
                    : reference.subtractingReportingOverflow(offset)
                if overflow3 || ticks <= 0 { break }
                let quantity = instruments[position].random.next(in: liquidity.quantity)
                layLiquidity(position, side: side, price: ExchangePrice(ticks: ticks), quantity: quantity, into: &output)
            }
        }
    }

    /// Places one simulated order: it first trades with crossing client orders, then rests.
    private mutating func layLiquidity(
        _ position: Int,
        side: ExchangeSide,
        price: ExchangePrice,
        quantity: Int64,
        into output: inout [ExchangeMessage]
    ) {
        fillBuffer.removeAll(keepingCapacity: true)
        let remaining = instruments[position].book.match(taker: side, limit: price, quantity: quantity, fills: &fillBuffer)
        let fills = fillBuffer
        for fill in fills {
            if case .client(let orderId) = fill.maker {
                executeResting(orderId, quantity: fill.quantity, price: fill.price, into: &output)
            }
        }
        if remaining > 0 {
            instruments[position].book.rest(side: side, price: price, owner: .liquidity, quantity: remaining)
        }
        if side == .sell {
            instruments[position].liquidityAskPrices.append(price)
        } else {
            instruments[position].liquidityBidPrices.append(price)
        }
    }
}
