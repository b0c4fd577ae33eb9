import NIOCore
import NIOHTTP1

/// A request for ``HTTPClientHandler``: written into the channel, answered through `response`.
struct PendingRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var response: EventLoopPromise<ResponseSummary>
}

/// What the exporter needs of a response; its body is read and discarded but for a prefix.
struct ResponseSummary: Sendable {
    var status: HTTPResponseStatus
    /// The `Retry-After` header, if any.
    var retryAfter: String?
    /// Whether the connection may carry another request.
    var keepAlive: Bool
    /// The first ``HTTPClientHandler/bodyPrefixLimit`` bytes of the body, for error messages.
    var bodyPrefix: [UInt8]
}

/// The connection closed, or failed, before the response was complete.
struct ConnectionClosedError: Error, CustomStringConvertible {
    var description: String { "connection closed before the response was complete" }
}

/// One request at a time on an HTTP/1.1 connection: writes it as head, body and end, and
/// completes its promise when the whole response has been read (or the connection fails).
///
/// Sits after NIO's HTTP client codec (`addHTTPClientHandlers`).
final class HTTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = HTTPClientRequestPart

    static let bodyPrefixLimit = 512

    private var pending: EventLoopPromise<ResponseSummary>?
    private var head: HTTPResponseHead?
    private var bodyPrefix: [UInt8] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard pending == nil else {
            // The exporter serializes requests; a second one in flight is a bug, not a state.
            request.response.fail(ChannelError.inappropriateOperationForState)
            promise?.fail(ChannelError.inappropriateOperationForState)
            return
        }
        pending = request.response
        head = nil
        bodyPrefix = []
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            head = responseHead
        case .body(let buffer):
            let room = Self.bodyPrefixLimit - bodyPrefix.count
            if room > 0 {
                bodyPrefix += buffer.getBytes(at: buffer.readerIndex, length: min(room, buffer.readableBytes)) ?? []
            }
        case .end:
            guard let responseHead = head else { return }
            head = nil
            if responseHead.status.code < 200 {
                // An informational response (100 Continue, 103 Early Hints): the real one follows.
                bodyPrefix = []
                return
            }
            guard let promise = pending else {
                // A response nobody asked for: the connection is no longer in step.
                context.close(promise: nil)
                return
            }
            pending = nil
            let summary = ResponseSummary(
                status: responseHead.status,
                retryAfter: responseHead.headers.first(name: "retry-after"),
                keepAlive: responseHead.isKeepAlive,
                bodyPrefix: bodyPrefix
            )
            bodyPrefix = []
            promise.succeed(summary)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failPending(ConnectionClosedError())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failPending(error)
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failPending(ConnectionClosedError())
    }

    private func failPending(_ error: any Error) {
        if let promise = pending {
            pending = nil
            promise.fail(error)
        }
    }
}
