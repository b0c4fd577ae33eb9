import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The request context of the WebSocket router: Hummingbird's, plus the connection's channel, so
/// that a refused upgrade can be answered with its own status (``UpgradeRefusals``).
struct GatewayWebSocketContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<Self>
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}

/// WebSocket upgrades refused for a reason of the gateway's own (a socket limit), by connection.
///
/// Hummingbird answers every refused upgrade with an empty `400`; ``RefusedUpgradeResponder``
/// turns that answer into the status and reason recorded here for the connection. An entry lives
/// until its answer is written or its connection closes.
final class UpgradeRefusals: Sendable {
    private let refusals = Mutex<[ObjectIdentifier: SocketRefusal]>([:])

    func record(_ refusal: SocketRefusal, for channel: any Channel) {
        let id = ObjectIdentifier(channel)
        refusals.withLock { $0[id] = refusal }
        channel.closeFuture.whenComplete { _ in self.refusals.withLock { _ = $0.removeValue(forKey: id) } }
    }

    func take(for channel: any Channel) -> SocketRefusal? {
        let id = ObjectIdentifier(channel)
        return refusals.withLock { $0.removeValue(forKey: id) }
    }
}

extension SocketRefusal {
    /// `429` past the per-user limit (the user can close a socket), `503` past the total.
    var status: HTTPResponse.Status {
        switch self {
        case .perUser: .tooManyRequests
        case .total: .serviceUnavailable
        }
    }

    var json: String {
        #"{"status":"rejected","reason":"\#(reason)"}"#
    }
}

/// Rewrites Hummingbird's empty `400` for a refused WebSocket upgrade into the status and reason
/// ``UpgradeRefusals`` holds for the connection; passes everything else through.
final class RefusedUpgradeResponder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let refusals: UpgradeRefusals
    private var replacedHead = false

    init(refusals: UpgradeRefusals) {
        self.refusals = refusals
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status == .badRequest:
            guard let refusal = refusals.take(for: context.channel) else { break }
            let body = ByteBuffer(string: refusal.json)
            head.status = refusal.status
            head.headerFields[.contentType] = "application/json; charset=utf-8"
            head.headerFields[.contentLength] = String(body.readableBytes)
            if case .total = refusal { head.headerFields[.retryAfter] = "5" }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            return
        default:
            break
        }
        context.write(data, promise: promise)
    }
}
