import ExchangeSimulator

/// Where the simulated exchange listens and how its sessions run.
public struct ExchangeSimServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (see `onListening`).
    public var port = 9100
    /// Seed of every session's liquidity: the same seed and the same orders give the same executions.
    public var seed: UInt64 = 1
    /// How often simulated time advances (liquidity refreshes, resting orders fill).
    public var tickInterval: Duration = .milliseconds(20)
    /// Price levels of simulated liquidity on each side of every book (0 to 1,000), laid again at
    /// every refresh: a market order that takes more than they hold is canceled for the rest.
    public var liquidityLevels = ExchangeSimulatorConfiguration.Liquidity().levels
    /// What `liquidityLevels` may be.
    public static let liquidityLevelRange = ExchangeSimulatorConfiguration.Liquidity.allowedLevels

    public init(
        host: String = "127.0.0.1", port: Int = 9100, seed: UInt64 = 1, tickInterval: Duration = .milliseconds(20),
        liquidityLevels: Int = ExchangeSimulatorConfiguration.Liquidity().levels
    ) {
        self.host = host
        self.port = port
        self.seed = seed
        self.tickInterval = tickInterval
        self.liquidityLevels = liquidityLevels
    }
}
