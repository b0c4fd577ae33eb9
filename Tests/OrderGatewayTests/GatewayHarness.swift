import Foundation
import Glibc
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import KafkaTestSupport
import Logging
import OrderGateway
import Pipeline
import ServiceLifecycle
import Synchronization
import TestSupport
import WebSocketClient
import Testing

/// A gateway on a free port, on its own embedded broker, with the demo tokens.
struct GatewayHarness: Sendable {
    let port: Int
    let topics: PipelineTopics
    let broker: EmbeddedBroker
    let gateway: OrderGateway

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var socketURL: String { "ws://127.0.0.1:\(port)/v1/orders" }

    /// Starts the broker (topics made), the producer and the gateway; stops them after `body`.
    /// Runs in the caller's tracer scope.
    static func run<T: Sendable>(
        configure: (inout OrderGatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (GatewayHarness) async throws -> T
    ) async throws -> T {
        let topics = PipelineTopics()
        let definitions = [
            KafkaTopicDefinition(name: topics.clientOrders, partitions: 2),
            KafkaTopicDefinition(name: topics.orderUpdates, partitions: 2),
        ]
        return try await withEmbeddedBroker(topics: definitions) { broker in
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            var updatesConfiguration = OrderGateway.updatesConsumerConfiguration(
                kafka: KafkaConfiguration(brokers: [broker.bootstrapServers]), topics: topics)
            updatesConfiguration.sessionTimeout = .seconds(6)
            updatesConfiguration.heartbeatInterval = .milliseconds(500)
            let updates = try KafkaConsumer(configuration: updatesConfiguration, logger: testLogger)
            var configuration = OrderGatewayConfiguration(port: 0, tokens: OrderGatewayConfiguration.demoTokens, topics: topics)
            configuration.maxMessageBytes = 4_096
            configure(&configuration)
            let port = Mutex<Int?>(nil)
            let gateway = OrderGateway(
                configuration: configuration, producer: producer, updates: updates, logger: quietLogger,
                onListening: { bound in port.withLock { $0 = bound } })
            let group = ServiceGroup(services: [producer, gateway], logger: quietLogger)
            let running = Task { try await group.run() }
            do {
                let ready = await eventually(timeout: .seconds(30)) { gateway.isReady }
                try #require(ready, "the gateway did not become ready")
                let harness = GatewayHarness(port: try #require(port.withLock { $0 }), topics: topics, broker: broker, gateway: gateway)
                let result = try await body(harness)
                await group.triggerGracefulShutdown()
                try await running.value
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await running.value
                throw error
            }
        }
    }

    /// One HTTP request; returns the status and the body.
    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = Data(body.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Every record of `topic` from the beginning, until `count` arrived.
    func read(_ topic: String, count: Int) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(broker, group: uniqueName("reader"), topics: [topic]), logger: testLogger)
        return try await withRunningConsumer(consumer) { await collect(consumer, count: count) }
    }
}

/// A WebSocket client that sends what it is given and keeps every text message it receives.
final class TestSocket: Sendable {
    let received = Mutex<[String]>([])
    enum Outgoing: Sendable {
        case text(String)
        case binary([UInt8])
    }
    private let outgoing: AsyncStream<Outgoing>
    private let continuation: AsyncStream<Outgoing>.Continuation
    private let task: Mutex<Task<WebSocketCloseFrame?, any Error>?> = Mutex(nil)

    init(url: String, token: String?) {
        (outgoing, continuation) = AsyncStream.makeStream(of: Outgoing.self)
        let outgoing = self.outgoing
        let task = Task {
            try await WebSocketClient.connect(
                url: url,
                // A loaded machine (the whole suite on two cores) can take longer than the 10 s default.
                configuration: .init(additionalHeaders: token.map { [("Authorization", "Bearer \($0)")] } ?? [], maxMessageSize: 1 << 20, connectTimeout: .seconds(60))
            ) { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await item in outgoing {
                            switch item {
                            case .text(let text): try await outbound.write(.text(text))
                            case .binary(let bytes): try await outbound.write(.binary(.init(bytes: bytes)))
                            }
                        }
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    for try await message in inbound {
                        if case .text(let text) = message { self.received.withLock { $0.append(text) } }
                    }
                    group.cancelAll()
                }
                return inbound.closeFrame
            }
        }
        self.task.withLock { $0 = task }
    }

    func send(_ text: String) { continuation.yield(.text(text)) }
    func send(binary bytes: [UInt8]) { continuation.yield(.binary(bytes)) }

    /// Waits until a received message satisfies `match` (or `timeout` passes); returns it.
    func waitFor(timeout: Duration = .seconds(20), _ match: @escaping @Sendable (String) -> Bool) async -> String? {
        _ = await eventually(timeout: timeout) { self.received.withLock { $0.contains(where: match) } }
        return received.withLock { $0.first(where: match) }
    }

    /// Closes the socket and returns how it ended.
    @discardableResult
    func close() async -> Result<WebSocketCloseFrame?, any Error> {
        continuation.finish()
        guard let task = task.withLock({ $0 }) else { return .success(nil) }
        return await task.result
    }
}

/// A plain TCP socket to the gateway, for what a WebSocket client library does not do: read the
/// raw answer to an upgrade, or stop reading.
enum RawSocket {
    /// Connects to 127.0.0.1:`port` with a receive timeout, and a receive buffer of
    /// `receiveBuffer` bytes (set before connecting) when given. The caller closes it.
    static func connect(port: Int, timeout: Int = 30, receiveBuffer: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var interval = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    /// Writes the request that upgrades `GET /v1/orders` to a WebSocket for `token`.
    static func sendUpgrade(_ fd: Int32, port: Int, token: String) throws {
        let request = [
            "GET /v1/orders HTTP/1.1", "Host: 127.0.0.1:\(port)", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Authorization: Bearer \(token)", "", "",
        ].joined(separator: "\r\n")
        let bytes = Array(request.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw POSIXError(.EIO) }
    }
}
