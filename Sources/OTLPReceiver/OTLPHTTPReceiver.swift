import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small OTLP/HTTP endpoint: accepts `POST` requests (`/v1/traces`), hands each body to a
/// callback, and answers success (`{}` for JSON, an empty body for protobuf).
///
/// It is the receiving end for tests, benchmarks and, later, the trace explorer. It does not
/// decode: the callback gets the body bytes and content type.
///
/// Tests of an exporter can start it with ``start(host:port:onRequest:)`` instead, to see each
/// request whole (method, target, headers, the connection it came on) and to choose each answer
/// (status, headers such as `Retry-After`, body, closing the connection).
public final class OTLPHTTPReceiver: Sendable {
    public typealias Handler = @Sendable (_ body: [UInt8], _ contentType: String) -> Void
    /// Sees one request and chooses its answer; `nil` answers success as ``start(host:port:onExport:)`` does.
    /// Called on an event loop: it must not block.
    public typealias Responder = @Sendable (_ request: ReceivedRequest) -> ReceiverResponse?

    private let channel: Channel
    private let connections: ConnectionCounter
    /// The port it listens on.
    public let port: Int
    /// The URL to export traces to.
    public var tracesEndpoint: String { "http://127.0.0.1:\(port)/v1/traces" }
    /// How many TCP connections it has accepted so far.
    public var acceptedConnections: Int { connections.count }

    /// Listens on `host:port` (port 0 picks a free one).
    public static func start(host: String = "127.0.0.1", port: Int = 0, onExport: @escaping Handler) async throws -> OTLPHTTPReceiver {
        try await start(host: host, port: port, onRequest: { request in
            onExport(request.body, request.contentType)
            return nil
        })
    }

    /// Listens on `host:port` (port 0 picks a free one) and answers each request as `onRequest`
    /// chooses.
    public static func start(host: String = "127.0.0.1", port: Int = 0, onRequest: @escaping Responder) async throws -> OTLPHTTPReceiver {
        let connections = ConnectionCounter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = connections.next()
                return channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(RequestHandler(connection: number, respond: onRequest))
                }
            }
            .bind(host: host, port: port).get()
        return OTLPHTTPReceiver(channel: channel, port: channel.localAddress?.port ?? port, connections: connections)
    }

    private init(channel: Channel, port: Int, connections: ConnectionCounter) {
        self.channel = channel
        self.port = port
        self.connections = connections
    }

    public func stop() async {
        try? await channel.close()
    }
}

/// Numbers the accepted connections: shared by the receiver and its channel initializer.
private final class ConnectionCounter: Sendable {
    private let accepted = Mutex(0)

    /// How many connections were accepted so far.
    var count: Int { accepted.withLock { $0 } }

    /// Counts one more connection and returns its number (from 1).
    func next() -> Int {
        accepted.withLock { count in
            count += 1
            return count
        }
    }
}

/// One request as the receiver got it.
public struct ReceivedRequest: Sendable {
    /// `POST`, normally.
    public var method: String
    /// The request target: path and query, e.g. `/v1/traces`.
    public var uri: String
    /// Every header, in order, names as sent.
    public var headers: [(name: String, value: String)]
    /// The body as sent (still compressed if it was).
    public var body: [UInt8]
    /// The `Content-Type` header, or "".
    public var contentType: String
    /// Which accepted connection it came on: 1 for the first, in accept order.
    public var connection: Int

    /// The first value of header `name` (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name.lowercased() == lowered }?.value
    }
}

/// The answer a ``OTLPHTTPReceiver/Responder`` chooses.
public struct ReceiverResponse: Sendable {
    /// The status code, e.g. 200, 400, 503.
    public var status: Int
    /// Headers to send, e.g. `("Retry-After", "1")`; `Content-Length` is added.
    public var headers: [(String, String)]
    /// The body to send.
    public var body: [UInt8]
    /// Close the connection after this answer, with `Connection: close` if `announceClose`.
    public var closeConnection: Bool
    /// Whether a closing answer says so (`Connection: close`) or the connection just ends.
    public var announceClose: Bool

    public init(
        status: Int = 200,
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        closeConnection: Bool = false,
        announceClose: Bool = true
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.closeConnection = closeConnection
        self.announceClose = announceClose
    }
}

private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let connection: Int
    private let respond: OTLPHTTPReceiver.Responder
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(connection: Int, respond: @escaping OTLPHTTPReceiver.Responder) {
        self.connection = connection
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            let head = self.head ?? HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")
            let contentType = head.headers.first(name: "content-type") ?? ""
            let request = ReceivedRequest(
                method: head.method.rawValue,
                uri: head.uri,
                headers: head.headers.map { (name: $0.name, value: $0.value) },
                body: body,
                contentType: contentType,
                connection: connection
            )
            self.head = nil
            body = []
            if let response = respond(request) {
                write(response, context: context)
            } else {
                writeSuccess(contentType: contentType, context: context)
            }
        }
    }

    private func writeSuccess(contentType: String, context: ChannelHandlerContext) {
        let isJSON = contentType.contains("json")
        let reply = isJSON ? "{}" : ""
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: isJSON ? "application/json" : "application/x-protobuf")
        headers.add(name: "content-length", value: String(reply.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func write(_ response: ReceiverResponse, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers)
        headers.replaceOrAdd(name: "content-length", value: String(response.body.count))
        if response.closeConnection && response.announceClose {
            headers.replaceOrAdd(name: "connection", value: "close")
        }
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        }
        if response.closeConnection {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
