import ExchangeProtocol

/// The state of one listed symbol: its reference price, its generator, its book and where the simulated
/// liquidity currently rests.
struct InstrumentState: Sendable {
    let symbol: String
    var referencePrice: ExchangePrice
    var random: SplitMix64
    var book = OrderBook()
    /// The prices at which simulated bids were laid at the last refresh (some may since have traded away).
    var liquidityBidPrices: [ExchangePrice] = []
    /// The prices at which simulated asks were laid at the last refresh.
    var liquidityAskPrices: [ExchangePrice] = []

    init(_ instrument: ExchangeInstrument, seed: UInt64) {
        symbol = instrument.symbol
        referencePrice = instrument.referencePrice
        random = SplitMix64(seed: seed, symbol: instrument.symbol)
    }
}
