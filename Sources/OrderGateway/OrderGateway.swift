import Hummingbird
import HummingbirdWebSocket
import Kafka
import KafkaTracing
import Logging
import Pipeline
import ServiceLifecycle
import Synchronization

/// The entry of the pipeline for clients (`http://127.0.0.1:8080` by default).
///
/// - `GET /v1/orders` upgraded to a WebSocket: each text message is one client order (the
///   `client-orders` JSON of `pipeline.md` without `userId`). An invalid one gets an immediate
///   `rejected` reply naming every problem; a valid one goes to `client-orders`. Every update of
///   the user's orders (`order-updates`) is pushed to each of the user's open sockets, as the
///   `order-updates` JSON object.
/// - `POST /v1/orders` with one order as the body: `202` `{"clientOrderId","userId","status":"received","traceId"}`
///   once Kafka has it; `400` with the problems; `401`; `413` above ``OrderGatewayConfiguration/maxMessageBytes``;
///   `503` when Kafka did not take it. A `baggage` request header is passed on, without the
///   business ids (`user.id`, `client.order_id`, `batch.id`, `exchange.order_id`, `fill.id`),
///   which only the pipeline sets.
/// - `GET /health`: `200` `{"status":"ok"}` once the server listens and the updates consumer has its
///   partitions, `503` before.
///
/// A user may hold ``OrderGatewayConfiguration/maxSocketsPerUser`` open WebSockets and all users
/// together ``OrderGatewayConfiguration/maxSockets``; one more upgrade gets `429` (per user) or
/// `503` (in all) with the reason, and no upgrade.
///
/// The user is the one the bearer token names (`Authorization: Bearer <token>`; browsers, which
/// cannot set headers on a WebSocket, may put `?access_token=<token>` on the WebSocket URL). A
/// missing or unknown token gets `401` (no upgrade). A `userId` in the payload is accepted only
/// when it names the token's user.
///
/// Each accepted order starts its own trace: a `client_order_received` SERVER span (a root,
/// whatever the current context) with the business ids as attributes and `user.id`,
/// `client.order_id` in the baggage; `send client-orders` is its child, and the span ends when
/// Kafka has the record. Orders of one connection reach Kafka in the order they were sent; the
/// connection keeps reading while earlier orders are in flight.
public struct OrderGateway: Service {
    /// The settings the gateway runs with.
    public let configuration: OrderGatewayConfiguration
    let producer: TracedKafkaProducer
    let updates: KafkaConsumer
    let logger: Logger
    private let onListening: @Sendable (Int) async -> Void
    let connections: ConnectionRegistry
    let tokens: TokenTable
    let latency = OrderLatency()
    private let listening = ListeningFlag()

    /// Creates the gateway. It does not run `producer` (run it as its own service, so it flushes
    /// on shutdown); it runs `updates` itself.
    ///
    /// - Parameters:
    ///   - producer: sends orders to ``OrderGatewayConfiguration/topics`` `clientOrders`.
    ///   - updates: the consumer of `order-updates`; make it with
    ///     ``updatesConsumerConfiguration(kafka:topics:)`` so that every gateway instance sees every update.
    ///   - onListening: called with the bound port once the server accepts connections.
    public init(
        configuration: OrderGatewayConfiguration,
        producer: KafkaProducer,
        updates: KafkaConsumer,
        logger: Logger = Logger(label: "ordertrace.gateway"),
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.producer = TracedKafkaProducer(producer)
        self.updates = updates
        self.logger = logger
        self.onListening = onListening
        self.connections = ConnectionRegistry(outboundCapacity: max(1, configuration.maxOutboundMessagesPerSocket))
        self.tokens = TokenTable(configuration.tokens)
    }

    /// The consumer settings for a gateway's updates: a group of its own (`gateway-<random>`), so
    /// that every gateway instance gets every update (each pushes to the sockets it holds),
    /// starting at the end of `order-updates` (a new instance has no sockets waiting for old ones).
    public static func updatesConsumerConfiguration(kafka: KafkaConfiguration, topics: PipelineTopics) -> KafkaConsumerConfiguration {
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        var configuration = KafkaConsumerConfiguration(kafka: kafka, groupID: "gateway-\(suffix)", topics: [topics.orderUpdates])
        configuration.initialOffset = .end
        // Updates are pushed to people: read them as they come, in small batches.
        configuration.maxBatchSize = 256
        return configuration
    }

    /// Whether the gateway serves: the server listens and the updates consumer holds its partitions.
    public var isReady: Bool {
        listening.value && !updates.assignment.isEmpty
    }

    /// Open WebSockets.
    public var openSocketCount: Int { connections.count }

    var socketLimits: SocketLimits {
        SocketLimits(perUser: max(1, configuration.maxSocketsPerUser), total: max(1, configuration.maxSockets))
    }

    /// Runs the HTTP/WebSocket server, the updates consumer and the delivery of updates until
    /// graceful shutdown.
    /// - Throws: the server's error when it cannot listen (the address is taken, say).
    public func run() async throws {
        if configuration.tokens.isEmpty {
            logger.warning("no bearer tokens are configured: every request will get 401")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.runServer() }
            group.addTask { try await self.deliverUpdates() }
            while try await group.next() != nil {}
        }
    }

    private func runServer() async throws {
        let gateway = self
        let webSocketRouter = Router(context: GatewayWebSocketContext.self)
        let refusals = UpgradeRefusals()
        webSocketRouter.ws(
            "/v1/orders",
            shouldUpgrade: { request, context in
                guard let user = gateway.authenticatedUser(request, allowQueryToken: true) else { return .dontUpgrade }
                if let refusal = gateway.connections.refusal(userId: user, limits: gateway.socketLimits) {
                    gateway.logger.notice(
                        "WebSocket refused", metadata: [GatewayLogKey.userID: "\(user)", GatewayLogKey.error: "\(refusal.reason)"])
                    refusals.record(refusal, for: context.channel)
                    return .dontUpgrade
                }
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                guard let user = gateway.authenticatedUser(context.request, allowQueryToken: true) else { return }
                await gateway.serveSocket(user: user, inbound: inbound, outbound: outbound, channel: context.requestContext.channel)
            })

        let router = Router()
        router.get("/health") { _, _ in
            gateway.isReady
                ? jsonResponse(.ok, #"{"status":"ok"}"#)
                : jsonResponse(
                    .serviceUnavailable,
                    #"{"status":"starting","listening":\#(gateway.listening.value),"updatesAssigned":\#(!gateway.updates.assignment.isEmpty)}"#)
        }
        router.post("/v1/orders") { request, _ in
            try await gateway.handlePost(request)
        }
        // Reached by a WebSocket upgrade that was refused, or by a plain GET.
        router.get("/v1/orders") { request, _ in
            if gateway.authenticatedUser(request, allowQueryToken: true) == nil { return unauthorizedResponse() }
            return jsonResponse(
                .upgradeRequired,
                #"{"status":"rejected","reason":"open a WebSocket here, or POST one order"}"#)
        }

        let configuration = self.configuration
        let listening = self.listening
        let onListening = self.onListening
        let logger = self.logger
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: webSocketRouter,
                configuration: .init(
                    http1: .init(additionalChannelHandlers: [RefusedUpgradeResponder(refusals: refusals)]),
                    ws: .init(maxFrameSize: max(configuration.maxFrameBytes, configuration.maxMessageBytes), closeTimeout: .seconds(5)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "ordertrace-gateway"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                listening.value = true
                logger.info("gateway listening", metadata: [GatewayLogKey.port: "\(port)"])
                await onListening(port)
            },
            logger: logger
        )
        try await app.runService()
        listening.value = false
    }

    /// The user a request's bearer token names, or `nil`. Tokens are compared in constant time
    /// (``TokenTable``).
    func authenticatedUser(_ request: Request, allowQueryToken: Bool) -> String? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            return tokens.user(for: String(parts[1]).trimmingSpaces())
        }
        if allowQueryToken, let token = request.uri.queryParameters.get("access_token") {
            return tokens.user(for: token)
        }
        return nil
    }
}

/// Whether the server listens.
final class ListeningFlag: Sendable {
    private let state = Mutex(false)
    var value: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}

/// Log metadata keys of the gateway.
enum GatewayLogKey {
    static let port = "gateway.port"
    static let userID = "user.id"
    static let clientOrderID = "client.order_id"
    static let socketID = "gateway.socket"
    static let error = "error.message"
    static let topicPartition = "kafka.partition"
    static let offset = "kafka.offset"
}

func jsonResponse(_ status: HTTPResponse.Status, _ text: String, headers extra: HTTPFields = [:]) -> Response {
    var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
    headers.append(contentsOf: extra)
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
}

func unauthorizedResponse() -> Response {
    jsonResponse(
        .unauthorized,
        #"{"status":"rejected","reason":"missing or unknown bearer token: send Authorization: Bearer <token>"}"#,
        headers: [.wwwAuthenticate: #"Bearer realm="ordertrace""#])
}

extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}
