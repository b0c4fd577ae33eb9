import NIOCore
import NIOHTTP1
import NIOPosix

/// One `GET` of a plain-HTTP URL on a connection of its own, read whole; what `up` uses to read
/// its components' `/metrics` and `/ready`. SwiftNIO rather than Foundation's `URLSession`,
/// whose libcurl handles can crash a process at exit on Linux (a race with OpenSSL's exit
/// handler, swift-corelibs-foundation#5469): a supervisor that exits must exit cleanly.
public enum HTTPGet {
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    /// The response, or nil when the URL is not `http://host:port/path`, nothing answers, the
    /// body passes `maxBodyBytes`, or the whole exchange takes longer than `timeout`.
    public static func fetch(_ url: String, timeout: Duration = .seconds(5), maxBodyBytes: Int = 64 << 20) async -> Response? {
        guard let target = Target(url) else { return nil }
        let group = MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: Response.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(timeout / .nanoseconds(1))))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise, maxBodyBytes: maxBodyBytes))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: target.host, port: target.port).get()
            let deadline = eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout / .nanoseconds(1)))) {
                promise.fail(ChannelError.connectTimeout(.nanoseconds(Int64(timeout / .nanoseconds(1)))))
                channel.close(promise: nil)
            }
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.path)
            head.headers.add(name: "Host", value: "\(target.host):\(target.port)")
            head.headers.add(name: "Connection", value: "close")
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            defer {
                deadline.cancel()
                channel.close(promise: nil)
            }
            return try await promise.futureResult.get()
        } catch {
            promise.fail(error)
            return nil
        }
    }

    struct Target {
        var host: String
        var port: Int
        var path: String

        init?(_ url: String) {
            guard url.hasPrefix("http://") else { return nil }
            let rest = url.dropFirst("http://".count)
            let authority = rest.prefix { $0 != "/" }
            path = rest.count > authority.count ? String(rest.dropFirst(authority.count)) : "/"
            guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else {
                return nil
            }
            host = String(authority[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self.port = port
            guard !host.isEmpty else { return nil }
        }
    }
}

/// Collects one response: head and body, up to a limit.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<HTTPGet.Response>
    private let maxBodyBytes: Int
    private var status: Int?
    private var body: [UInt8] = []

    init(promise: EventLoopPromise<HTTPGet.Response>, maxBodyBytes: Int) {
        self.promise = promise
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(let buffer):
            guard body.count + buffer.readableBytes <= maxBodyBytes else {
                promise.fail(ChannelError.inputClosed)
                context.close(promise: nil)
                return
            }
            body += buffer.readableBytesView
        case .end:
            if let status, status >= 200 {
                promise.succeed(.init(status: status, body: body))
                context.close(promise: nil)
            } else {
                status = nil
                body = []
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.inputClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
