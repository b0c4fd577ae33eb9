/// How a ``WebSocketClient`` connection behaves.
public struct WebSocketClientConfiguration: Sendable {
    /// Extra headers of the upgrade request, in order (for example `("Authorization", "Bearer ...")`).
    /// `Host`, `Connection`, `Upgrade` and the `Sec-WebSocket-*` headers are set by the client.
    public var additionalHeaders: [(name: String, value: String)]
    /// The largest inbound message, all its fragments together, in bytes. A larger one fails the
    /// inbound sequence with ``WebSocketClientError/Code/messageTooLarge`` and closes the connection
    /// with status 1009.
    public var maxMessageSize: Int
    /// How long connecting and the upgrade handshake may take together.
    public var connectTimeout: Duration
    /// How long to wait for the server's close frame after sending ours, before dropping the
    /// connection anyway.
    public var closeTimeout: Duration
    /// When set, a ping is sent this often; a ping not answered by the next one closes the
    /// connection (time while the consumer holds reading back does not count).
    public var pingInterval: Duration?
    /// How many frames may wait, read but not yet consumed, before the client stops reading from
    /// the socket (the peer then sees TCP backpressure).
    public var maxBufferedFrames: Int

    /// - Parameters:
    ///   - additionalHeaders: extra headers of the upgrade request.
    ///   - maxMessageSize: the largest inbound message in bytes (1 MiB by default).
    ///   - connectTimeout: how long connecting and upgrading may take (10 s by default).
    ///   - closeTimeout: how long to wait for the server's close frame (5 s by default).
    ///   - pingInterval: how often to ping the server; `nil` (the default) sends no pings.
    ///   - maxBufferedFrames: frames read ahead of the consumer at most (16 by default).
    public init(
        additionalHeaders: [(name: String, value: String)] = [],
        maxMessageSize: Int = 1 << 20,
        connectTimeout: Duration = .seconds(10),
        closeTimeout: Duration = .seconds(5),
        pingInterval: Duration? = nil,
        maxBufferedFrames: Int = 16
    ) {
        self.additionalHeaders = additionalHeaders
        self.maxMessageSize = maxMessageSize
        self.connectTimeout = connectTimeout
        self.closeTimeout = closeTimeout
        self.pingInterval = pingInterval
        self.maxBufferedFrames = maxBufferedFrames
    }
}
