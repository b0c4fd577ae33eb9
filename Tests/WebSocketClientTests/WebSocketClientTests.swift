import NIOCore
import NIOPosix
import Testing
import WebSocketClient

@Suite("WebSocketClient against a real server", .timeLimit(.minutes(2)))
struct WebSocketClientTests {
    @Test("text and binary messages go there and back")
    func roundTrip() async throws {
        try await withTestServer { port in
            let replies = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/echo") { inbound, outbound in
                try await outbound.write(.text("hello"))
                try await outbound.write(.binary(ByteBuffer(bytes: [0, 1, 2, 255])))
                try await outbound.write(.text(String(repeating: "é", count: 40_000)))
                var replies: [WebSocketMessage] = []
                for try await message in inbound {
                    replies.append(message)
                    if replies.count == 3 { break }
                }
                return replies
            }
            #expect(replies == [.text("hello"), .binary(ByteBuffer(bytes: [0, 1, 2, 255])), .text(String(repeating: "é", count: 40_000))])
        }
    }

    @Test("the path's query string reaches the server")
    func query() async throws {
        try await withTestServer { port in
            let reply = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/query?access_token=abc&x=1") { inbound, outbound in
                try await outbound.write(.text("go"))
                return try await inbound.first { _ in true }
            }
            #expect(reply == .text("access_token=abc&x=1"))
        }
    }

    @Test("fragmented messages are put together")
    func fragments() async throws {
        try await withTestServer { port in
            let messages = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/fragments") { inbound, _ in
                var messages: [WebSocketMessage] = []
                for try await message in inbound {
                    messages.append(message)
                    if messages.count == 2 { break }
                }
                return messages
            }
            #expect(messages == [.text("hello, fragmented world"), .binary(ByteBuffer(bytes: Array(0...255)))])
        }
    }

    @Test("a message over the limit fails the inbound sequence with messageTooLarge", arguments: [1, 3])
    func tooLarge(fragments: Int) async throws {
        try await withTestServer { port in
            let error = await #expect(throws: WebSocketClientError.self) {
                try await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(port)/big?bytes=3000&fragments=\(fragments)", configuration: .init(maxMessageSize: 2_000)
                ) { inbound, _ in
                    for try await _ in inbound {}
                }
            }
            #expect(error?.code == .messageTooLarge, "\(String(describing: error))")
            // A message within the limit still comes through.
            let size = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/big?bytes=2000&fragments=\(fragments)", configuration: .init(maxMessageSize: 2_000)
            ) { inbound, _ -> Int? in
                guard case .binary(let bytes)? = try await inbound.first(where: { _ in true }) else { return nil }
                return bytes.readableBytes
            }
            #expect(size == 2_000)
        }
    }

    @Test("a close from the server ends the inbound sequence and tells its code and reason")
    func serverCloses() async throws {
        try await withTestServer { port in
            let (count, close) = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/close") { inbound, outbound in
                try await outbound.write(.text("close, please"))
                var count = 0
                for try await _ in inbound { count += 1 }
                // A close frame went back: writing now fails.
                let error = await #expect(throws: WebSocketClientError.self) { try await outbound.write(.text("late")) }
                #expect(error?.code == .closed)
                return (count, inbound.closeFrame)
            }
            #expect(count == 0)
            #expect(close == WebSocketCloseFrame(code: .goingAway, reason: "bye"))
        }
    }

    @Test("closing from the client ends the inbound sequence once the server answers")
    func clientCloses() async throws {
        try await withTestServer { port in
            let replies = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/echo") { inbound, outbound in
                try await outbound.write(.text("one"))
                try await outbound.close(.normalClosure, reason: "done")
                var replies: [WebSocketMessage] = []
                for try await message in inbound { replies.append(message) }
                return replies
            }
            // The echo may or may not have come before the server's close frame.
            #expect(replies.allSatisfy { $0 == .text("one") })
        }
    }

    @Test("extra request headers reach the server; without them the upgrade is refused with its status")
    func headersAndRefusedUpgrade() async throws {
        try await withTestServer { port in
            let url = "ws://127.0.0.1:\(port)/private"
            let error = await #expect(throws: WebSocketClientError.self) {
                try await WebSocketClient.connect(url: url) { _, _ in }
            }
            #expect(error?.code == .upgradeFailed)
            #expect(error?.httpStatus == 400)
            #expect(error?.message.contains("400 Bad Request instead of 101") == true, "\(String(describing: error))")

            let reply = try await WebSocketClient.connect(
                url: url, configuration: .init(additionalHeaders: [("Authorization", "Bearer good")])
            ) { inbound, outbound in
                try await outbound.write(.text("in"))
                return try await inbound.first { _ in true }
            }
            #expect(reply == .text("in"))
        }
    }

    @Test("a closed port fails with connectionFailed")
    func refused() async throws {
        // Bind a port, then free it: nothing listens there any more.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        let error = await #expect(throws: WebSocketClientError.self) {
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/") { _, _ in }
        }
        #expect(error?.code == .connectionFailed, "\(String(describing: error))")
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
    }

    @Test("wss:// and malformed URLs are refused before connecting", arguments: [
        ("wss://127.0.0.1:1/", WebSocketClientError.Code.unsupportedScheme),
        ("http://127.0.0.1:1/", .invalidURL),
        ("ws://", .invalidURL),
        ("ws://127.0.0.1:99999/", .invalidURL),
    ])
    func badURLs(url: String, code: WebSocketClientError.Code) async throws {
        let error = await #expect(throws: WebSocketClientError.self) {
            try await WebSocketClient.connect(url: url) { _, _ in }
        }
        #expect(error?.code == code, "\(url): \(String(describing: error))")
    }
}
