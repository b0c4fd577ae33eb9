import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Opens a TCP connection and upgrades it to a WebSocket, within a deadline.
enum Handshake {
    typealias FrameChannel = NIOAsyncChannel<WebSocketFrame, WebSocketFrame>

    private enum Outcome: Sendable {
        case upgraded(FrameChannel)
        case notUpgraded(NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>)
    }

    /// Connects to `url` and upgrades; returns the channel of frames.
    /// - Throws: ``WebSocketClientError`` (`connectionFailed`, `upgradeFailed`, `timedOut`), or
    ///   `CancellationError` when the task was canceled.
    static func open(
        _ url: WebSocketURL, configuration: WebSocketClientConfiguration, group: any EventLoopGroup
    ) async throws -> FrameChannel {
        let deadline = ContinuousClock.now + configuration.connectTimeout
        let (channel, outcome) = try await connect(url, configuration: configuration, group: group, deadline: deadline)
        // The TCP connection is up; the rest of the time is the upgrade's.
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(max(.zero, ContinuousClock.now.duration(to: deadline)))) {
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        func failure(_ error: any Error) -> any Error {
            if Task.isCancelled { return CancellationError() }
            if ContinuousClock.now >= deadline { return timedOut(url, configuration) }
            if let error = error as? WebSocketClientError { return error }
            return WebSocketClientError(
                code: .upgradeFailed, message: "ws://\(url.hostHeader)\(url.target): the WebSocket handshake failed: \(error)")
        }
        do {
            let result = try await withTaskCancellationHandler {
                try await outcome.get()
            } onCancel: {
                channel.close(promise: nil)
            }
            switch result {
            case .upgraded(let frames):
                return frames
            case .notUpgraded(let http):
                let head = try await http.executeThenClose { inbound, _ in
                    try await inbound.first { if case .head = $0 { true } else { false } }
                }
                guard case .head(let response)? = head else {
                    throw WebSocketClientError(
                        code: .upgradeFailed, message: "ws://\(url.hostHeader)\(url.target): the server closed the connection without answering the upgrade")
                }
                throw WebSocketClientError(
                    code: .upgradeFailed,
                    message: "ws://\(url.hostHeader)\(url.target): the server answered \(response.status.code) \(response.status.reasonPhrase) instead of 101 Switching Protocols",
                    httpStatus: Int(response.status.code))
            }
        } catch {
            throw failure(error)
        }
    }

    /// The TCP connection, with the HTTP pipeline that sends the upgrade request once connected.
    private static func connect(
        _ url: WebSocketURL, configuration: WebSocketClientConfiguration, group: any EventLoopGroup, deadline: ContinuousClock.Instant
    ) async throws -> (any Channel, EventLoopFuture<Outcome>) {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        do {
            return try await bootstrap.connect(host: url.host, port: url.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let outcome = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: pipelineConfiguration(url, configuration))
                    return (channel, outcome)
                }
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            if case ChannelError.connectTimeout = error { throw timedOut(url, configuration) }
            throw WebSocketClientError(
                code: .connectionFailed, message: "cannot connect to \(url.host):\(url.port) (ws://\(url.hostHeader)\(url.target)): \(error)")
        }
    }

    private static func pipelineConfiguration(
        _ url: WebSocketURL, _ configuration: WebSocketClientConfiguration
    ) -> NIOUpgradableHTTPClientPipelineConfiguration<Outcome> {
        var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: upgradeConfiguration(url, configuration))
        // Frames the server sends right behind its 101 may come in the same read: keep them.
        pipeline.leftOverBytesStrategy = .forwardBytes
        return pipeline
    }

    private static func upgradeConfiguration(
        _ url: WebSocketURL, _ configuration: WebSocketClientConfiguration
    ) -> NIOTypedHTTPClientUpgradeConfiguration<Outcome> {
        let pingInterval = configuration.pingInterval
        let buffered = max(2, configuration.maxBufferedFrames)
        let upgrader = NIOTypedWebSocketClientUpgrader<Outcome>(
            maxFrameSize: min(max(configuration.maxMessageSize, 125), Int(UInt32.max)),
            // ControlFrameHandler answers protocol errors, so the consumer hears of them first.
            enableAutomaticErrorHandling: false
        ) { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ControlFrameHandler(pingInterval: pingInterval))
                return .upgraded(
                    try FrameChannel(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: buffered / 2, highWatermark: buffered))))
            }
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.hostHeader)
        for header in configuration.additionalHeaders { headers.add(name: header.name, value: header.value) }
        headers.add(name: "Content-Length", value: "0")
        return NIOTypedHTTPClientUpgradeConfiguration(
            upgradeRequestHead: HTTPRequestHead(version: .http1_1, method: .GET, uri: url.target, headers: headers),
            upgraders: [upgrader]
        ) { channel in
            channel.eventLoop.makeCompletedFuture { .notUpgraded(try NIOAsyncChannel(wrappingChannelSynchronously: channel)) }
        }
    }

    private static func timedOut(_ url: WebSocketURL, _ configuration: WebSocketClientConfiguration) -> WebSocketClientError {
        WebSocketClientError(
            code: .timedOut, message: "ws://\(url.hostHeader)\(url.target): connecting and upgrading took longer than \(configuration.connectTimeout)")
    }
}
