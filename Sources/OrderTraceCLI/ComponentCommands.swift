import Algo
import ExchangeGateway
import OrderGateway
import Allocator
import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import KafkaTracing
import Logging
import OrderManager
import Pipeline
import ServiceLifecycle

struct OrderManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order-manager",
        abstract: "Validate client orders and pool them per (symbol, side) into batches (fan-in).",
        discussion: "Environment: BATCH_MAX_ORDERS (100), BATCH_MAX_QUANTITY (1000000), BATCH_LINGER_MS (50). Consumer group: order-manager."
    )

    @OptionGroup var options: ComponentOptions

    func run() async throws {
        try await options.run("order-manager", consumerGroup: PipelineConsumerGroups.orderManager, consumerTopics: { [$0.clientOrders] }) { environment, _, consumer, producer, logger in
            let configuration = try OrderManagerConfiguration.fromEnvironment(environment)
            return OrderManager(configuration: configuration, consumer: consumer!, producer: producer, logger: logger)
        }
    }
}

struct AlgoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "algo",
        abstract: "Work each batch as several exchange orders (fan-out).",
        discussion: "Environment: ALGO_SLICES (3), ALGO_MIN_SLICE_QUANTITY (1). Consumer group: algo."
    )

    @OptionGroup var options: ComponentOptions

    func run() async throws {
        try await options.run("algo", consumerGroup: PipelineConsumerGroups.algo, consumerTopics: { [$0.batches] }) { environment, _, consumer, producer, logger in
            let configuration = try AlgoConfiguration.fromEnvironment(environment)
            return Algo(configuration: configuration, consumer: consumer!, producer: producer, logger: logger)
        }
    }
}

struct AllocatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocator",
        abstract: "Allocate every fill to the client orders of its batch and publish their new states.",
        discussion: "Environment: ALLOCATOR_DB (default $ORDERTRACE_DATA_DIR/allocator.sqlite; data dir default .ordertrace), ALLOCATOR_CHANGELOG (on or off), ALLOCATOR_MAX_STEP_UPDATES (the most updates one step holds until they are delivered, default 20000). Consumer group: allocator."
    )

    @OptionGroup var options: ComponentOptions

    func run() async throws {
        try await options.run("allocator", consumerGroup: PipelineConsumerGroups.allocator, consumerTopics: { [$0.batches, $0.fills] }) { environment, _, consumer, producer, logger in
            let configuration = try AllocatorConfiguration.fromEnvironment(environment)
            return Allocator(configuration: configuration, consumer: consumer!, producer: producer, logger: logger)
        }
    }
}

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "The clients' entry: WebSocket and POST at /v1/orders, order updates pushed to their owner.",
        discussion: """
            Listens on GATEWAY_HOST:GATEWAY_PORT (default 127.0.0.1:8080). The user is the one the
            bearer token names (Authorization: Bearer <token>, or ?access_token=<token> on the
            WebSocket URL). Tokens: ORDERTRACE_TOKENS ("token=user,...") and/or
            ORDERTRACE_TOKENS_FILE (one "token user" per line). With neither, the gateway does not
            start, unless ORDERTRACE_DEMO=1 asks for the demo tokens demo-alice, demo-bob and
            demo-carol (users alice, bob, carol), which it accepts on a loopback address only.
            Open WebSockets: GATEWAY_MAX_SOCKETS_PER_USER (default 16, then 429) and
            GATEWAY_MAX_SOCKETS (default 4096, then 503).
            """
    )

    @OptionGroup var options: ComponentOptions

    func run() async throws {
        try await options.run("gateway") { environment, kafka, _, producer, logger in
            let configuration = try OrderGatewayConfiguration.fromEnvironment(environment, logger: logger)
            let updates = try KafkaConsumer(
                configuration: OrderGateway.updatesConsumerConfiguration(kafka: kafka, topics: configuration.topics), logger: logger)
            return OrderGateway(
                configuration: configuration, producer: producer, updates: updates, logger: logger,
                onListening: { port in say("gateway: listening on http://\(configuration.host):\(port)/v1/orders") })
        }
    }
}

struct ExchangeGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exchange-gateway",
        abstract: "Send exchange orders to the exchange over WebSocket and publish its executions as fills.",
        discussion: """
            Environment: EXCHANGE_URL (ws://127.0.0.1:9100/), EXCHANGE_SESSION (the exchange session's
            name, stable across restarts, one per replica; default: the topic prefix + exchange-gateway),
            EXCHANGE_ORDER_TIMEOUT_MS (10000: an acknowledged order still open after this is canceled),
            EXCHANGE_ANSWER_TIMEOUT_MS (5000), EXCHANGE_MAX_UNANSWERED_TRIES (3), EXCHANGE_MAX_OPEN_ORDERS
            (10000), EXCHANGE_RECONNECT_BACKOFF_MS, EXCHANGE_RECONNECT_MAX_BACKOFF_MS. Consumer group:
            exchange-gateway.
            """
    )

    @OptionGroup var options: ComponentOptions

    func run() async throws {
        try await options.run("exchange-gateway", consumerGroup: PipelineConsumerGroups.exchangeGateway, consumerTopics: { [$0.exchangeOrders] }) { environment, _, consumer, producer, logger in
            let configuration = try ExchangeGatewayConfiguration.fromEnvironment(environment)
            return ExchangeGateway(configuration: configuration, consumer: consumer!, producer: producer, logger: logger)
        }
    }
}
