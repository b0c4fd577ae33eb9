import Logging
import NIOCore
import NIOPosix

/// Accepts TCP connections on a fixed address and pipes each one to a target address.
///
/// The embedded broker's listeners have random ports; this gives clients a fixed bootstrap
/// address (`127.0.0.1:9092`). After bootstrap, clients follow the brokers' advertised
/// addresses and talk to them directly, so only metadata requests pass through here.
final class TCPForwarder: Sendable {
    private let serverChannels: [Channel]
    let port: Int

    /// Binds `host:port` (port 0 picks a free one) and, for `127.0.0.1`, also `[::1]` on the same
    /// port when it can, so `localhost` works whichever address a client tries first.
    static func start(host: String, port: Int, target: SocketAddress, logger: Logger) async throws -> TCPForwarder {
        let group = MultiThreadedEventLoopGroup.singleton
        func bootstrap() -> ServerBootstrap {
            ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { inbound in
                    ClientBootstrap(group: inbound.eventLoop)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .connect(to: target)
                        .flatMap { outbound in
                            let (toOutbound, toInbound) = GlueHandler.matchedPair()
                            return inbound.pipeline.addHandler(toOutbound).flatMap {
                                outbound.pipeline.addHandler(toInbound)
                            }
                        }
                        .flatMapErrorThrowing { error in
                            logger.warning("forwarder: cannot reach the broker at \(target): \(error)")
                            inbound.close(promise: nil)
                            throw error
                        }
                }
        }
        let (channels, boundPort) = try await bindLocalListeners(host: host, port: port, bootstrap)
        return TCPForwarder(channels: channels, port: boundPort)
    }

    private init(channels: [Channel], port: Int) {
        self.serverChannels = channels
        self.port = port
    }

    func stop() async {
        for channel in serverChannels {
            try? await channel.close()
        }
    }
}

/// Joins two channels: what one reads, the other writes, with backpressure both ways
/// (a side stops reading while its partner cannot write).
private final class GlueHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }
    private func partnerWriteEOF() { context?.close(mode: .output, promise: nil) }
    private func partnerCloseFull() { context?.close(promise: nil) }
    private var partnerWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.partnerWrite(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.partnerCloseFull()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            partner?.partnerWriteEOF()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        partner?.partnerCloseFull()
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
