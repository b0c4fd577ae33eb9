import Pipeline
import Settings

/// Settings of the exchange gateway. Every field has a working default for a local run.
public struct ExchangeGatewayConfiguration: Sendable, Hashable {
    /// The exchange's WebSocket address.
    public var exchangeURL = "ws://127.0.0.1:9100/"
    /// The pipeline's topics: `exchangeOrders` is read, `fills` and `deadLetters` are written.
    public var topics = PipelineTopics()
    /// The wait before the first reconnect attempt; it doubles on each failure up to
    /// ``reconnectMaxBackoff`` and starts over once a connection is up.
    public var reconnectInitialBackoff: Duration = .milliseconds(100)
    /// The longest wait between reconnect attempts.
    public var reconnectMaxBackoff: Duration = .seconds(5)
    /// How long an exchange order may stay open before the gateway cancels it, so every exchange
    /// order ends (the exchange answers `canceled`).
    public var orderTimeout: Duration = .seconds(10)
    /// The most exchange orders open at once. When full, the gateway stops taking exchange orders
    /// from Kafka until some finish (fetching pauses); nothing is dropped.
    public var maxOpenOrders = 10_000
    /// How many ids of done exchange orders are remembered, so a redelivered record is not sent again.
    public var doneOrderMemory = 100_000
    /// Fills waiting between the WebSocket receive loop and the producer; when full, reading
    /// from the exchange waits.
    public var fillBufferCapacity = 4_096
    /// The most fills sent to Kafka in one call.
    public var maxFillBatch = 512

    /// The defaults.
    public init() {}

    /// How often open orders are checked against ``orderTimeout``: a quarter of it, between 10 ms and 1 s.
    public var timeoutSweepInterval: Duration {
        min(max(orderTimeout / 4, .milliseconds(10)), .seconds(1))
    }

    /// Reads the environment over the defaults:
    /// - `EXCHANGE_URL`: the exchange's WebSocket address;
    /// - `EXCHANGE_ORDER_TIMEOUT_MS`, `EXCHANGE_MAX_OPEN_ORDERS`, `EXCHANGE_RECONNECT_BACKOFF_MS`,
    ///   `EXCHANGE_RECONNECT_MAX_BACKOFF_MS`: positive integers;
    /// - `ORDERTRACE_TOPIC_PREFIX` (see `PipelineTopics`).
    ///
    /// - Throws: `ConfigurationError` naming a variable whose value is not usable.
    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> ExchangeGatewayConfiguration {
        let reader = EnvironmentReader(environment)
        var configuration = ExchangeGatewayConfiguration()
        configuration.topics = PipelineTopics.fromEnvironment(environment)
        if let url = reader.string("EXCHANGE_URL") {
            guard url.hasPrefix("ws://") || url.hasPrefix("wss://") else {
                throw ConfigurationError(
                    .invalidValue, setting: "EXCHANGE_URL", problem: "\"\(url)\" is not a ws:// or wss:// URL",
                    remedy: "set it to the exchange's WebSocket address, or unset it to use \(ExchangeGatewayConfiguration().exchangeURL)")
            }
            configuration.exchangeURL = url
        }
        if let value = try reader.milliseconds("EXCHANGE_ORDER_TIMEOUT_MS") { configuration.orderTimeout = value }
        if let value = try reader.positiveInteger("EXCHANGE_MAX_OPEN_ORDERS") { configuration.maxOpenOrders = value }
        if let value = try reader.milliseconds("EXCHANGE_RECONNECT_BACKOFF_MS") { configuration.reconnectInitialBackoff = value }
        if let value = try reader.milliseconds("EXCHANGE_RECONNECT_MAX_BACKOFF_MS") { configuration.reconnectMaxBackoff = value }
        return configuration
    }
}
