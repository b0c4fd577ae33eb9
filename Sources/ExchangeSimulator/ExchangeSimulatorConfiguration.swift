import ExchangeProtocol
import Settings

/// Everything that shapes a simulated exchange session. The defaults make a lively but orderly market.
///
/// Two sessions with equal configurations that receive the same messages and the same `tick(now:)` times
/// produce the same outbound messages, byte for byte; ``seed`` is what makes two otherwise equal runs differ.
public struct ExchangeSimulatorConfiguration: Sendable, Hashable {
    /// Seeds the per-symbol random generators (the reference price walk and the liquidity quantities).
    public var seed: UInt64 = 1

    /// The listed symbols, in the order the simulator updates them; any other symbol is rejected.
    public var instruments: [ExchangeInstrument] = ExchangeInstrument.defaults

    /// How far a limit price may be from the current reference price, in basis points of it (1_000 = ±10%).
    /// A limit price outside the band is rejected with ``ExchangeRejectCode/priceBand``.
    public var priceBandBasisPoints: Int64 = 1_000

    /// The random walk of each symbol's reference price.
    public var walk = Walk()

    /// The simulated resting liquidity around each reference price.
    public var liquidity = Liquidity()

    /// The largest quantity of one order; a larger one is rejected with ``ExchangeRejectCode/invalidQuantity``.
    /// At most 10^12, so that the sums the book keeps cannot overflow.
    public var maxOrderQuantity: Int64 = 1_000_000_000

    /// The most orders the session keeps open (resting) at once; more are rejected with
    /// ``ExchangeRejectCode/tooManyOpenOrders``. Done orders do not count: they are evicted.
    public var maxOpenOrders = 100_000

    /// How many ids of done orders the session remembers to detect duplicates (open orders are always
    /// checked). The oldest is forgotten first.
    public var orderIdMemory = 100_000

    /// The start of every execution id (`"E"` gives `"E1"`, `"E2"`, ...). A server that may restart should
    /// make it unique per process (for example with the start time), so ids stay unique across restarts.
    public var executionIdPrefix = "E"

    /// The random walk of the reference price: every ``interval`` of simulated time, each reference price
    /// moves by a whole number of ticks drawn uniformly from `-maxStepTicks...maxStepTicks` (never below
    /// one tick).
    public struct Walk: Sendable, Hashable {
        /// Simulated time between two steps.
        public var interval: Duration = .milliseconds(100)
        /// The largest move of one step, in ticks (50 = 0.005). Zero keeps the reference price still.
        public var maxStepTicks: Int64 = 50

        /// Creates the default walk.
        public init() {}

        /// Creates a walk.
        public init(interval: Duration, maxStepTicks: Int64) {
            self.interval = interval
            self.maxStepTicks = maxStepTicks
        }
    }

    /// The simulated liquidity: ``levels`` price levels on each side of the reference price, each holding a
    /// random quantity. Every ``refreshInterval`` of simulated time all of it is withdrawn and laid again
    /// around the current reference price with new quantities; a new level that crosses a resting client
    /// order trades with it at the client order's price.
    public struct Liquidity: Sendable, Hashable {
        /// Price levels per side; zero means no simulated liquidity (client orders only meet each other).
        public var levels = 5
        /// The number of levels a configuration may have.
        public static let allowedLevels = 0...1_000
        /// The distance from the reference price to the best simulated bid and ask, in ticks (at least 1).
        public var bestLevelOffsetTicks: Int64 = 100
        /// The distance between two simulated levels of one side, in ticks (at least 1).
        public var levelSpacingTicks: Int64 = 100
        /// The quantity of each simulated level is drawn uniformly from this range.
        public var quantity: ClosedRange<Int64> = 100...1_000
        /// Simulated time between two refreshes.
        public var refreshInterval: Duration = .milliseconds(250)

        /// Creates the default liquidity.
        public init() {}

        /// Creates a liquidity profile.
        public init(
            levels: Int,
            bestLevelOffsetTicks: Int64 = 100,
            levelSpacingTicks: Int64 = 100,
            quantity: ClosedRange<Int64> = 100...1_000,
            refreshInterval: Duration = .milliseconds(250)
        ) {
            self.levels = levels
            self.bestLevelOffsetTicks = bestLevelOffsetTicks
            self.levelSpacingTicks = levelSpacingTicks
            self.quantity = quantity
            self.refreshInterval = refreshInterval
        }

        /// No simulated liquidity: the book holds client orders only.
        public static let none = Liquidity(levels: 0)
    }

    /// Creates the default configuration.
    public init() {}

    /// Creates the default configuration with another seed.
    public init(seed: UInt64) {
        self.seed = seed
    }

    /// Checks that the values make sense together.
    ///
    /// - Throws: `ConfigurationError` naming the first value that does not, and what it must be.
    public func validate() throws(ConfigurationError) {
        func fail(_ field: String, _ problem: String, _ code: ConfigurationError.Code = .invalidValue) -> ConfigurationError {
            ConfigurationError(code, setting: field, problem: problem)
        }
        if instruments.isEmpty { throw fail("instruments", "list at least one symbol") }
        var seen = Set<String>()
        for instrument in instruments {
            if instrument.symbol.isEmpty { throw fail("instruments", "a symbol is empty") }
            if !seen.insert(instrument.symbol).inserted {
                throw fail("instruments", "\(instrument.symbol) is listed twice", .conflict)
            }
            if instrument.referencePrice.ticks <= 0 {
                throw fail("instruments", "the reference price of \(instrument.symbol) must be positive")
            }
        }
        if priceBandBasisPoints < 0 { throw fail("priceBandBasisPoints", "must be 0 or more (1000 = ±10%)") }
        if walk.interval <= .zero { throw fail("walk.interval", "must be positive") }
        if walk.maxStepTicks < 0 { throw fail("walk.maxStepTicks", "must be 0 or more") }
        if liquidity.levels < Liquidity.allowedLevels.lowerBound { throw fail("liquidity.levels", "must be 0 or more") }
        if liquidity.levels > Liquidity.allowedLevels.upperBound { throw fail("liquidity.levels", "must be at most 1000") }
        if liquidity.bestLevelOffsetTicks < 1 { throw fail("liquidity.bestLevelOffsetTicks", "must be at least 1") }
        if liquidity.levelSpacingTicks < 1 { throw fail("liquidity.levelSpacingTicks", "must be at least 1") }
        if liquidity.quantity.lowerBound < 1 { throw fail("liquidity.quantity", "must start at 1 or more") }
        if liquidity.refreshInterval <= .zero { throw fail("liquidity.refreshInterval", "must be positive") }
        if liquidity.quantity.upperBound > 1_000_000_000_000 {
            throw fail("liquidity.quantity", "must end at 1,000,000,000,000 or less")
        }
        if maxOrderQuantity < 1 || maxOrderQuantity > 1_000_000_000_000 {
            throw fail("maxOrderQuantity", "must be between 1 and 1,000,000,000,000")
        }
        if maxOpenOrders < 1 || maxOpenOrders > 1_000_000 { throw fail("maxOpenOrders", "must be between 1 and 1,000,000") }
        if orderIdMemory < 0 { throw fail("orderIdMemory", "must be 0 or more") }
    }
}
