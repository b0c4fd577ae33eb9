import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// A Hummingbird WebSocket server on a port of its own (port 0), for the length of `body`:
///
/// - `/echo`: sends every message back as it came (text or binary).
/// - `/private`: like `/echo`, but only with `Authorization: Bearer good`; otherwise the upgrade is
///   refused (Hummingbird answers every refused upgrade with 400).
/// - `/query`: when the client's first message comes, sends the request's query string and closes.
/// - `/fragments`: sends "hello, fragmented world" as three text frames and 0...255 as two binary
///   frames, then waits for the client to close.
/// - `/big?bytes=N&fragments=F`: sends one message of N bytes in F frames, then waits.
/// - `/close`: closes with 1001 "bye" when the client's first message comes.
func withTestServer<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
    let quiet = Logger(label: "test-server", factory: { _ in SwiftLogNoOpLogHandler() })
    let router = Router(context: BasicWebSocketRequestContext.self)
    router.ws("/echo") { inbound, outbound, _ in
        try await echo(inbound, outbound)
    }
    router.ws("/private") { request, _ in
        request.headers[.authorization] == "Bearer good" ? .upgrade([:]) : .dontUpgrade
    } onUpgrade: { inbound, outbound, _ in
        try await echo(inbound, outbound)
    }
    router.ws("/query") { inbound, outbound, context in
        _ = try await inbound.first { _ in true }
        try await outbound.write(.text(context.request.uri.query ?? ""))
    }
    router.ws("/fragments") { inbound, outbound, _ in
        try await outbound.withTextMessageWriter { write in
            try await write("hello, ")
            try await write("fragmented ")
            try await write("world")
        }
        try await outbound.withBinaryMessageWriter { write in
            try await write(ByteBuffer(bytes: Array(0...127)))
            try await write(ByteBuffer(bytes: Array(128...255)))
        }
        for try await _ in inbound {}
    }
    router.ws("/big") { inbound, outbound, context in
        let query = context.request.uri.queryParameters
        let bytes = query["bytes"].flatMap { Int($0) } ?? 0
        let fragments = max(1, query["fragments"].flatMap { Int($0) } ?? 1)
        let piece = (bytes + fragments - 1) / fragments
        try await outbound.withBinaryMessageWriter { write in
            var left = bytes
            while left > 0 {
                try await write(ByteBuffer(repeating: 0x61, count: min(piece, left)))
                left -= piece
            }
        }
        for try await _ in inbound {}
    }
    router.ws("/close") { inbound, outbound, _ in
        _ = try await inbound.first { _ in true }
        try await outbound.close(.goingAway, reason: "bye")
    }
    let http = Router()

    let port = Mutex<Int?>(nil)
    let app = Application(
        router: http,
        server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: .init(ws: .init(maxFrameSize: 1 << 20))),
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
        logger: quiet)
    let group = ServiceGroup(services: [app], logger: quiet)
    let running = Task { try await group.run() }
    defer { running.cancel() }
    var bound: Int?
    for _ in 0..<3_000 where bound == nil {
        bound = port.withLock { $0 }
        if bound == nil { try await Task.sleep(for: .milliseconds(10)) }
    }
    guard let bound else { throw TestServerError() }
    let result = try await body(bound)
    await group.triggerGracefulShutdown()
    return result
}

struct TestServerError: Error, CustomStringConvertible {
    var description: String { "the test server did not start listening within 30 s" }
}

private func echo(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async throws {
    for try await message in inbound.messages(maxSize: 1 << 20) {
        switch message {
        case .text(let text): try await outbound.write(.text(text))
        case .binary(let bytes): try await outbound.write(.binary(bytes))
        }
    }
}
