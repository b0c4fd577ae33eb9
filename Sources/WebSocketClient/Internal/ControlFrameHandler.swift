import NIOCore
import NIOWebSocket

/// Sits between the frame codec and the async channel and does what must not wait for the
/// consumer: answers pings with pongs, takes pongs, keeps the connection alive with pings, and
/// lets nothing be written after a close frame. Every frame it writes is masked, as a client's must be.
///
/// Runs on the channel's event loop only.
final class ControlFrameHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let pingInterval: TimeAmount?
    private let pingIntervalText: String
    /// A close frame went out: nothing more may.
    private var closeWritten = false
    /// The payload of the ping not answered yet.
    private var pendingPing: ByteBuffer?
    /// The pipeline asked for data since the last ping went out (reading was not held back).
    private var readRequestedSincePing = false
    /// A read is outstanding: the consumer wants data and none has come yet.
    private var readPending = false
    private var keepAlive: Scheduled<Void>?

    init(pingInterval: Duration?) {
        self.pingInterval = pingInterval.map { TimeAmount($0) }
        self.pingIntervalText = pingInterval.map { "\($0)" } ?? "-"
    }

    func handlerAdded(context: ChannelHandlerContext) {
        scheduleKeepAlive(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        keepAlive?.cancel()
        keepAlive = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        keepAlive?.cancel()
        keepAlive = nil
        context.fireChannelInactive()
    }

    // MARK: Inbound

    /// A frame the decoder refused ends the connection: the consumer hears why first, then the
    /// server gets a close frame (1009 for a frame over the size limit, 1002 otherwise).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.fireErrorCaught(error)
        guard error is NIOWebSocketError else { return }
        if !closeWritten {
            let code: WebSocketErrorCode = (error as? NIOWebSocketError) == .invalidFrameLength ? .messageTooLarge : .protocolError
            write(context: context, Self.closeFrame(code, reason: nil))
            context.flush()
        }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            guard frame.fin else { return protocolError(context: context, "a fragmented ping") }
            guard !closeWritten else { return }
            write(context: context, WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData))
            context.flush()
        case .pong:
            if let pendingPing, frame.unmaskedData == pendingPing { self.pendingPing = nil }
        default:
            context.fireChannelRead(data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readPending = false
        context.fireChannelReadComplete()
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        guard !closeWritten else {
            promise?.fail(WebSocketClientError(code: .closed, message: "the connection is closing: nothing more can be sent"))
            return
        }
        if frame.opcode == .connectionClose { closeWritten = true }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        readPending = true
        readRequestedSincePing = true
        context.read()
    }

    // MARK: Keep-alive

    private func scheduleKeepAlive(context: ChannelHandlerContext) {
        guard let pingInterval else { return }
        keepAlive = context.eventLoop.assumeIsolated().scheduleTask(in: pingInterval) { [self] in
            self.keepAliveTick(context: context)
        }
    }

    private func keepAliveTick(context: ChannelHandlerContext) {
        guard !closeWritten, context.channel.isActive else { return }
        if pendingPing != nil {
            // Unanswered. Only evidence while reading went on: the consumer may have held it back.
            if readPending || readRequestedSincePing {
                write(context: context, Self.closeFrame(.goingAway, reason: "ping not answered"))
                context.flush()
                context.fireErrorCaught(
                    WebSocketClientError(code: .pingTimeout, message: "the server did not answer a ping within \(pingIntervalText)"))
                context.close(promise: nil)
                return
            }
        } else {
            var payload = context.channel.allocator.buffer(capacity: 8)
            payload.writeInteger(UInt64.random(in: 0...UInt64.max))
            pendingPing = payload
            readRequestedSincePing = readPending
            write(context: context, WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: payload))
            context.flush()
        }
        scheduleKeepAlive(context: context)
    }

    // MARK: Helpers

    private func write(context: ChannelHandlerContext, _ frame: WebSocketFrame) {
        if frame.opcode == .connectionClose { closeWritten = true }
        context.write(wrapOutboundOut(frame), promise: nil)
    }

    private func protocolError(context: ChannelHandlerContext, _ what: String) {
        if !closeWritten {
            write(context: context, Self.closeFrame(.protocolError, reason: nil))
            context.flush()
        }
        context.fireErrorCaught(WebSocketClientError(code: .protocolError, message: "the server sent \(what)"))
        context.close(promise: nil)
    }

    /// A masked close frame with `code` and, if given, `reason`.
    static func closeFrame(_ code: WebSocketErrorCode, reason: String?) -> WebSocketFrame {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        if let reason { data.writeString(reason) }
        return WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
    }
}
