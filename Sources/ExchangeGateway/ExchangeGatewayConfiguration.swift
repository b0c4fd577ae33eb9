import Pipeline
import Settings

/// Settings of the exchange gateway. Every field has a working default for a local run.
public struct ExchangeGatewayConfiguration: Sendable, Hashable {
    /// The exchange's WebSocket address.
    public var exchangeURL = "ws://127.0.0.1:9100/"
    /// The name of the gateway's exchange session (`?session=` on the exchange URL). The exchange
    /// keeps a named session's orders and executions across connections, and never executes an
    /// order id of the session twice: a restarted gateway that sends its open orders again gets
    /// their state back. It must be stable across restarts and distinct per gateway replica.
    /// 1 to 128 of `A-Z a-z 0-9 . _ : -`.
    public var sessionName = "exchange-gateway"
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
    /// How long a `new_order` or `cancel` may go unanswered before it is sent again.
    public var answerTimeout: Duration = .seconds(5)
    /// How many unanswered tries end an order: `rejected` if the exchange never confirmed it,
    /// `canceled` otherwise, with the reason.
    public var maxUnansweredTries = 3
    /// The most exchange orders open at once. When full, the gateway stops taking exchange orders
    /// from Kafka until some finish (fetching pauses); nothing is dropped.
    public var maxOpenOrders = 10_000
    /// How long a revoke of exchange-orders partitions waits for the gateway to let them go.
    public var revokeTimeout: Duration = .seconds(60)
    /// How many ids of done exchange orders are remembered, so a redelivered record is not sent again.
    public var doneOrderMemory = 100_000
    /// Fills waiting between the WebSocket receive loop and the producer; when full, reading
    /// from the exchange waits.
    public var fillBufferCapacity = 4_096
    /// The most fills sent to Kafka in one call.
    public var maxFillBatch = 512

    /// The defaults.
    public init() {}

    /// How often open orders are checked against ``orderTimeout`` and ``answerTimeout``: a quarter
    /// of the shorter, between 10 ms and 1 s.
    public var timeoutSweepInterval: Duration {
        min(max(min(orderTimeout, answerTimeout) / 4, .milliseconds(10)), .seconds(1))
    }

    /// The exchange URL with the session name as the `session` query parameter.
    public var sessionURL: String {
        exchangeURL + (exchangeURL.contains("?") ? "&" : "?") + "session=" + sessionName
    }

    /// `name` with every character outside `A-Z a-z 0-9 . _ : -` replaced by `_`, cut to 128 bytes.
    static func sanitizedSessionName(_ name: String) -> String {
        let bytes = name.utf8.prefix(128).map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                byte
            default: UInt8(ascii: "_")
            }
        }
        return bytes.isEmpty ? "exchange-gateway" : String(decoding: bytes, as: UTF8.self)
    }

    /// Reads the environment over the defaults:
    /// - `EXCHANGE_URL`: the exchange's WebSocket address;
    /// - `EXCHANGE_SESSION`: the exchange session's name (default: the topic prefix followed by
    ///   `exchange-gateway`, the consumer group; characters outside `A-Z a-z 0-9 . _ : -` become `_`);
    /// - `EXCHANGE_ORDER_TIMEOUT_MS`, `EXCHANGE_MAX_OPEN_ORDERS`, `EXCHANGE_RECONNECT_BACKOFF_MS`,
    ///   `EXCHANGE_RECONNECT_MAX_BACKOFF_MS`, `EXCHANGE_ANSWER_TIMEOUT_MS`,
    ///   `EXCHANGE_MAX_UNANSWERED_TRIES`: positive integers;
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
        configuration.sessionName = sanitizedSessionName(
            reader.string("EXCHANGE_SESSION") ?? ((environment["ORDERTRACE_TOPIC_PREFIX"] ?? "") + "exchange-gateway"))
        if let value = try reader.milliseconds("EXCHANGE_ORDER_TIMEOUT_MS") { configuration.orderTimeout = value }
        if let value = try reader.milliseconds("EXCHANGE_ANSWER_TIMEOUT_MS") { configuration.answerTimeout = value }
        if let value = try reader.positiveInteger("EXCHANGE_MAX_UNANSWERED_TRIES") { configuration.maxUnansweredTries = value }
        if let value = try reader.positiveInteger("EXCHANGE_MAX_OPEN_ORDERS") { configuration.maxOpenOrders = value }
        if let value = try reader.milliseconds("EXCHANGE_RECONNECT_BACKOFF_MS") { configuration.reconnectInitialBackoff = value }
        if let value = try reader.milliseconds("EXCHANGE_RECONNECT_MAX_BACKOFF_MS") { configuration.reconnectMaxBackoff = value }
        return configuration
    }
}
