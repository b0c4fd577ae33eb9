import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny OTLP/HTTP receiver for tests: accepts `POST /v1/traces` with a JSON body, answers
/// `{}`, and keeps every span it was sent, decoded with Foundation (not with our code).
final class OTLPReceiver: @unchecked Sendable {
    private let lock = NSLock()
    private var bodies: [Data] = []
    private var channel: Channel?
    private(set) var port = 0

    var endpoint: String { "http://127.0.0.1:\(port)/v1/traces" }

    static func start() async throws -> OTLPReceiver {
        let receiver = OTLPReceiver()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(receiver: receiver))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        receiver.channel = channel
        receiver.port = channel.localAddress?.port ?? 0
        return receiver
    }

    func stop() async {
        try? await channel?.close()
    }

    fileprivate func received(_ body: Data) {
        lock.lock()
        bodies.append(body)
        lock.unlock()
    }

    /// Every span received so far, as OTLP/JSON objects.
    var spans: [[String: Any]] {
        lock.lock()
        let copy = bodies
        lock.unlock()
        var result: [[String: Any]] = []
        for body in copy {
            guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { continue }
            for resource in object["resourceSpans"] as? [[String: Any]] ?? [] {
                for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                    result += scope["spans"] as? [[String: Any]] ?? []
                }
            }
        }
        return result
    }

    /// The resource attributes of the first export.
    var resourceAttributes: [String: String] {
        lock.lock()
        let first = bodies.first
        lock.unlock()
        guard let first, let object = try? JSONSerialization.jsonObject(with: first) as? [String: Any],
            let resource = (object["resourceSpans"] as? [[String: Any]])?.first?["resource"] as? [String: Any]
        else { return [:] }
        return OTLPJSON.attributes(resource["attributes"])
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let receiver: OTLPReceiver
        var body = Data()

        init(receiver: OTLPReceiver) { self.receiver = receiver }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head:
                body = Data()
            case .body(var buffer):
                if let bytes = buffer.readBytes(length: buffer.readableBytes) { body.append(contentsOf: bytes) }
            case .end:
                receiver.received(body)
                var headers = HTTPHeaders()
                headers.add(name: "content-type", value: "application/json")
                headers.add(name: "content-length", value: "2")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "{}")))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

/// Reading OTLP/JSON values.
enum OTLPJSON {
    static func attributes(_ value: Any?) -> [String: String] {
        var result: [String: String] = [:]
        for attribute in value as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any], let first = value.first else { continue }
            result[key] = "\(first.value)"
        }
        return result
    }

    static func kind(_ span: [String: Any]) -> String {
        switch span["kind"] {
        case let number as Int: ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"][number]
        case let text as String: text.replacingOccurrences(of: "SPAN_KIND_", with: "")
        default: "?"
        }
    }
}
