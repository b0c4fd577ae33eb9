import Foundation
import KafkaTestSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import OrderGateway
import Settings
import Synchronization
import TestSupport
import Testing
import WebSocketClient

@Suite("Gateway security: token comparison, socket limits", .timeLimit(.minutes(3)))
struct SecurityLimitsTests {
    @Test("a token is accepted only when it is exactly a configured one")
    func tokenTable() {
        let table = TokenTable(["demo-alice": "alice", "s3cret-bob": "bob"])
        #expect(table.user(for: "demo-alice") == "alice")
        #expect(table.user(for: "s3cret-bob") == "bob")
        for refused in ["", "demo-alic", "demo-alicee", "demo-alicf", "Demo-alice", "s3cret-bo", "s3cret-bob ", "demo-alice\0"] {
            #expect(table.user(for: refused) == nil, "\(refused.debugDescription)")
        }
        #expect(TokenTable([:]).user(for: "") == nil)
        #expect(TokenTable.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!TokenTable.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!TokenTable.constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!TokenTable.constantTimeEquals([], Array("a".utf8)))
        // Lengths that differ by 256 must not compare equal on the padding.
        #expect(!TokenTable.constantTimeEquals([UInt8](repeating: 0, count: 256), []))
    }

    @Test("GATEWAY_MAX_SOCKETS_PER_USER, GATEWAY_MAX_SOCKETS and GATEWAY_MAX_QUEUED_MESSAGES: defaults 16, 4096 and 1024; read; a bad value names the variable")
    func limitSettings() throws {
        let defaults = try OrderGatewayConfiguration.fromEnvironment(["ORDERTRACE_TOKENS": "t=u"])
        #expect(defaults.maxSocketsPerUser == 16)
        #expect(defaults.maxSockets == 4_096)
        let set = try OrderGatewayConfiguration.fromEnvironment(
            ["ORDERTRACE_TOKENS": "t=u", "GATEWAY_MAX_SOCKETS_PER_USER": "2", "GATEWAY_MAX_SOCKETS": " 10 "])
        #expect(set.maxSocketsPerUser == 2)
        #expect(set.maxSockets == 10)
        #expect(defaults.maxOutboundMessagesPerSocket == 1_024)
        let queued = try OrderGatewayConfiguration.fromEnvironment(["ORDERTRACE_TOKENS": "t=u", "GATEWAY_MAX_QUEUED_MESSAGES": "65536"])
        #expect(queued.maxOutboundMessagesPerSocket == 65_536)
        for (name, value) in [("GATEWAY_MAX_SOCKETS_PER_USER", "0"), ("GATEWAY_MAX_SOCKETS", "many"), ("GATEWAY_MAX_QUEUED_MESSAGES", "-1")] {
            let error = try #require(throws: ConfigurationError.self) {
                try OrderGatewayConfiguration.fromEnvironment(["ORDERTRACE_TOKENS": "t=u", name: value])
            }
            #expect(error.setting == name, "\(error)")
        }
    }

    @Test("past GATEWAY_MAX_SOCKETS_PER_USER a user's upgrade gets 429, past GATEWAY_MAX_SOCKETS anyone's gets 503; closing one frees a place")
    func socketLimits() async throws {
        try await GatewayHarness.run(configure: {
            $0.maxSocketsPerUser = 2
            $0.maxSockets = 3
        }) { gateway in
            let alice1 = TestSocket(url: gateway.socketURL, token: "demo-alice")
            let alice2 = TestSocket(url: gateway.socketURL, token: "demo-alice")
            #expect(await eventually(timeout: .seconds(30)) { gateway.gateway.openSocketCount == 2 })

            let perUser = await Self.refusal(gateway.socketURL, token: "demo-alice")
            #expect(perUser?.status == 429, "\(String(describing: perUser))")

            let bob = TestSocket(url: gateway.socketURL, token: "demo-bob")
            #expect(await eventually(timeout: .seconds(30)) { gateway.gateway.openSocketCount == 3 })
            let total = await Self.refusal(gateway.socketURL, token: "demo-carol")
            #expect(total?.status == 503, "\(String(describing: total))")

            // A refused token still gets 400, not a limit's answer.
            let unknown = await Self.refusal(gateway.socketURL, token: "nope")
            #expect(unknown?.status == 400, "\(String(describing: unknown))")

            // The reason, over plain HTTP.
            let answer = try await Self.upgradeResponse(port: gateway.port, token: "demo-carol")
            #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
            #expect(answer.lowercased().contains("retry-after: 5"), "\(answer)")
            #expect(answer.contains(#""reason":"the gateway holds its most open WebSockets (3, GATEWAY_MAX_SOCKETS)"#), "\(answer)")

            await alice2.close()
            #expect(await eventually(timeout: .seconds(30)) { gateway.gateway.openSocketCount == 2 })
            let carol = TestSocket(url: gateway.socketURL, token: "demo-carol")
            carol.send(#"{"clientOrderId":"c-limit","symbol":"MSFT","side":"sell","quantity":5,"orderType":"market"}"#)
            let record = try #require(try await gateway.read(gateway.topics.clientOrders, count: 1).first)
            #expect(String(decoding: record.value, as: UTF8.self).contains("c-limit"))
            for socket in [alice1, bob, carol] { await socket.close() }
        }
    }

    /// The HTTP status a refused upgrade got, or `nil` when it was not refused.
    private static func refusal(_ url: String, token: String) async -> (status: Int?, message: String)? {
        do {
            // A generous timeout: a refusal must be told from a machine too busy to answer in 10 s.
            try await WebSocketClient.connect(
                url: url, configuration: .init(additionalHeaders: [("Authorization", "Bearer \(token)")], connectTimeout: .seconds(60))
            ) { _, _ in }
            return nil
        } catch let error as WebSocketClientError {
            return (error.httpStatus, error.message)
        } catch {
            return (nil, "\(error)")
        }
    }

    /// The raw answer to a WebSocket upgrade request (the server closes the connection after it).
    private static func upgradeResponse(port: Int, token: String) async throws -> String {
        try await Task.detached { try rawExchange(port: port, token: token) }.value
    }

    private static func rawExchange(port: Int, token: String) throws -> String {
        let fd = try RawSocket.connect(port: port)
        defer { close(fd) }
        try RawSocket.sendUpgrade(fd, port: port, token: token)
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4_096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            response.append(contentsOf: buffer[..<count])
        }
        return String(decoding: response, as: UTF8.self)
    }
}
