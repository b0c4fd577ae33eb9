import NIOCore
import NIOPosix
import NIOWebSocket

/// A WebSocket client (RFC 6455) for plain `ws://` URLs, on SwiftNIO.
///
/// ```swift
/// try await WebSocketClient.connect(
///     url: "ws://127.0.0.1:8080/v1/orders",
///     configuration: .init(additionalHeaders: [("Authorization", "Bearer demo-alice")])
/// ) { inbound, outbound in
///     try await outbound.write(.text("hello"))
///     for try await message in inbound { ... }
/// }
/// ```
///
/// The client masks its frames, answers pings, puts fragmented messages together, holds them to
/// `maxMessageSize`, reads only a few frames ahead of the consumer, and does the closing handshake
/// either way round. TLS (`wss://`) is not supported.
public enum WebSocketClient {
    /// Connects to `url`, upgrades to a WebSocket and runs `handler` with the connection's inbound
    /// messages and its writer. When `handler` returns, the client closes the connection (status
    /// 1000, or 1001 when `handler` threw), waits up to `closeTimeout` for the server's close frame,
    /// and returns what `handler` returned.
    ///
    /// - Parameters:
    ///   - url: `ws://host[:port][/path][?query]`.
    ///   - configuration: headers, limits and timeouts.
    ///   - eventLoopGroup: where the connection's I/O runs.
    ///   - handler: uses the connection; it ends when this returns.
    /// - Returns: what `handler` returned.
    /// - Throws: ``WebSocketClientError`` when the URL is not `ws://` (`invalidURL`,
    ///   `unsupportedScheme` for `wss://`), the connection is refused (`connectionFailed`), the server
    ///   does not upgrade (`upgradeFailed`, with ``WebSocketClientError/httpStatus``), or it all took
    ///   longer than `connectTimeout` (`timedOut`); otherwise what `handler` threw.
    public static func connect<Result: Sendable>(
        url: String,
        configuration: WebSocketClientConfiguration = .init(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        isolation: isolated (any Actor)? = #isolation,
        _ handler: (_ inbound: WebSocketInbound, _ outbound: WebSocketOutbound) async throws -> Result
    ) async throws -> Result {
        let target = try WebSocketURL(parsing: url)
        let channel = try await Handshake.open(target, configuration: configuration, group: eventLoopGroup)
        return try await channel.executeThenClose { inbound, writer in
            let outbound = WebSocketOutbound(writer: writer, closing: CloseLatch())
            let reader = MessageReader(frames: inbound, outbound: outbound, maxMessageSize: configuration.maxMessageSize)
            let result: Result
            do {
                result = try await handler(WebSocketInbound(reader: reader), outbound)
            } catch {
                try? await outbound.close(.goingAway)
                throw error
            }
            // The closing handshake: our close frame, then the server's, or the timeout.
            try? await outbound.close(.normalClosure)
            if !reader.isFinished {
                let drop = channel.channel.eventLoop.scheduleTask(in: TimeAmount(configuration.closeTimeout)) {
                    channel.channel.close(promise: nil)
                }
                await reader.drain()
                drop.cancel()
            }
            return result
        }
    }
}
