import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small OTLP/HTTP endpoint: accepts `POST` requests (`/v1/traces`), hands each body to a
/// callback, and answers success (`{}` for JSON, an empty body for protobuf).
///
/// It is the receiving end for tests, benchmarks and, later, the trace explorer. It does not
/// decode: the callback gets the body bytes and content type.
public final class OTLPHTTPReceiver: Sendable {
    public typealias Handler = @Sendable (_ body: [UInt8], _ contentType: String) -> Void

    private let channel: Channel
    /// The port it listens on.
    public let port: Int
    /// The URL to export traces to.
    public var tracesEndpoint: String { "http://127.0.0.1:\(port)/v1/traces" }

    /// Listens on `host:port` (port 0 picks a free one).
    public static func start(host: String = "127.0.0.1", port: Int = 0, onExport: @escaping Handler) async throws -> OTLPHTTPReceiver {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(RequestHandler(onExport: onExport))
                }
            }
            .bind(host: host, port: port).get()
        return OTLPHTTPReceiver(channel: channel, port: channel.localAddress?.port ?? port)
    }

    private init(channel: Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    public func stop() async {
        try? await channel.close()
    }
}

private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let onExport: OTLPHTTPReceiver.Handler
    private var body: [UInt8] = []
    private var contentType = ""

    init(onExport: @escaping OTLPHTTPReceiver.Handler) {
        self.onExport = onExport
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            body = []
            contentType = head.headers.first(name: "content-type") ?? ""
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            onExport(body, contentType)
            let isJSON = contentType.contains("json")
            let reply = isJSON ? "{}" : ""
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: isJSON ? "application/json" : "application/x-protobuf")
            headers.add(name: "content-length", value: String(reply.utf8.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
