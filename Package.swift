// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "OrderTrace",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ordertrace", targets: ["OrderTraceCLI"]),
        .library(name: "Kafka", targets: ["Kafka"]),
        .library(name: "Baggage", targets: ["Baggage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-service-context.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // librdkafka, as Debian's librdkafka-dev installs it (pkg-config `rdkafka`).
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The Kafka client: producer, consumer, admin and the embedded broker.
        // Only `RDKafkaClient` talks to librdkafka.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // W3C Baggage: parse, serialize, limits, ServiceContext access, the attribute allow-list.
        .target(
            name: "Baggage",
            dependencies: [.product(name: "ServiceContextModule", package: "swift-service-context")]
        ),
        // Tracing over Kafka: W3C trace context and baggage in headers, messaging spans, the
        // tracing bootstrap (swift-otel, OTLP export).
        .target(
            name: "KafkaTracing",
            dependencies: [
                "Kafka",
                "Baggage",
                "LeanTracing",
                "OTLPWire",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // OTLP's trace data as plain values, and its protobuf and JSON encodings.
        .target(name: "OTLPWire"),
        // The lean tracer: spans behind the swift-distributed-tracing API, sharded bounded
        // buffers, W3C propagation, export over OTLP/HTTP.
        // zlib, as Debian's zlib1g-dev installs it: gzip for OTLP export.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // An OTLP/HTTP client: one keep-alive connection, retries with backoff, gzip.
        .target(
            name: "OTLPExporter",
            dependencies: [
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "LeanTracing",
            dependencies: [
                "OTLPWire", "OTLPExporter", "Baggage",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // An OTLP/HTTP endpoint (tests, benchmarks, the trace explorer).
        .target(
            name: "OTLPReceiver",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        // Bounded in-memory collections the components share: the set of recently seen ids that
        // recognises duplicates without remembering every id.
        .target(name: "BoundedCollections"),
        // The one hand-written JSON layer: a strict, fast scanner over borrowed bytes, a compact
        // writer, and exact decimal text <-> integer ticks. No Foundation.
        .target(name: "WireJSON"),
        // The messages of the pipeline, their JSON coding and validation, allocation, audit.
        .target(name: "OrderModel", dependencies: ["WireJSON"]),
        // The exchange's wire protocol: the messages between a client and the exchange, their JSON,
        // its errors and limits. Both the exchange gateway and the simulator speak it.
        .target(name: "ExchangeProtocol", dependencies: ["WireJSON"]),
        // The simulated external exchange: order books, seeded liquidity, matching.
        .target(name: "ExchangeSimulator", dependencies: ["ExchangeProtocol", "BoundedCollections"]),
        // `ordertrace exchange-sim`: the simulator behind a WebSocket server.
        .target(
            name: "ExchangeSimServer",
            dependencies: [
                "ExchangeSimulator", "ExchangeProtocol",
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What the pipeline's components share: topic names, business attribute keys,
        // dead letters, offset tracking, configuration errors.
        .target(
            name: "Pipeline",
            dependencies: [
                "Kafka", "KafkaTracing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // SQLite, as Debian's libsqlite3-dev installs it: the allocator's durable state.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // gateway: WebSocket and HTTP entry for clients; pushes each order's updates to its owner.
        .target(
            name: "OrderGateway",
            dependencies: [
                "Kafka", "KafkaTracing", "Baggage", "OrderModel", "Pipeline", "WireJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // exchange-gateway: WebSocket client of the exchange; executions become fills.
        .target(
            name: "ExchangeGateway",
            dependencies: [
                "Kafka", "KafkaTracing", "Baggage", "OrderModel", "Pipeline", "ExchangeProtocol", "BoundedCollections",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // order-manager: validation, dead letters, batching per (symbol, side) (fan-in).
        .target(
            name: "OrderManager",
            dependencies: [
                "Kafka", "KafkaTracing", "Baggage", "OrderModel", "Pipeline", "BoundedCollections",
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // algo: works each batch as several exchange orders (fan-out).
        .target(
            name: "Algo",
            dependencies: [
                "Kafka", "KafkaTracing", "Baggage", "OrderModel", "Pipeline",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // allocator: allocates fills to the members of their batch (many-to-many), state in SQLite.
        .target(
            name: "Allocator",
            dependencies: [
                "Kafka", "KafkaTracing", "Baggage", "OrderModel", "Pipeline", "CSQLite",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The `ordertrace` executable: parses arguments and wires services together.
        .executableTarget(
            name: "OrderTraceCLI",
            dependencies: [
                "Kafka",
                "KafkaTracing",
                "Baggage",
                "OTLPReceiver",
                "ExchangeSimServer",
                "OrderModel", "Pipeline", "OrderGateway", "OrderManager", "Algo", "ExchangeGateway", "Allocator",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "KafkaTestSupport",
            dependencies: [
                "Kafka", "OTLPReceiver", "LeanTracing", "OTLPWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/KafkaTestSupport"
        ),
        .testTarget(
            name: "KafkaTests",
            dependencies: ["Kafka", "KafkaTestSupport"]
        ),
        .testTarget(
            name: "KafkaTracingTests",
            dependencies: [
                "KafkaTracing", "Kafka", "Baggage", "KafkaTestSupport", "OTLPReceiver", "LeanTracing", "OTLPWire",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Interop"]
        ),
        .testTarget(
            name: "OrderModelTests",
            dependencies: ["OrderModel"]
        ),
        .testTarget(
            name: "ExchangeProtocolTests",
            dependencies: ["ExchangeProtocol"]
        ),
        .testTarget(
            name: "ExchangeSimulatorTests",
            dependencies: ["ExchangeSimulator", "ExchangeProtocol"]
        ),
        .testTarget(
            name: "ExchangeSimServerTests",
            dependencies: [
                "ExchangeSimServer", "ExchangeSimulator", "ExchangeProtocol",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "OrderGatewayTests",
            dependencies: [
                "OrderGateway", "Kafka", "KafkaTracing", "Baggage", "OrderModel", "Pipeline", "WireJSON", "KafkaTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ExchangeGatewayTests",
            dependencies: [
                "ExchangeGateway", "ExchangeProtocol", "ExchangeSimServer", "KafkaTestSupport", "Kafka", "KafkaTracing",
                "Baggage", "OrderModel", "Pipeline",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "OrderManager", "Algo", "Allocator", "Pipeline", "OrderModel", "BoundedCollections", "Kafka",
                "KafkaTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Runs the built `ordertrace up` and checks the whole system from the outside.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "KafkaTestSupport", "Kafka", "OrderModel",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "OTLPWireTests", dependencies: ["OTLPWire"], exclude: ["Decode"]),
        .testTarget(
            name: "OTLPExporterTests",
            dependencies: [
                "OTLPExporter", "OTLPReceiver", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "LeanTracingTests",
            dependencies: [
                "LeanTracing", "OTLPWire", "Baggage", "OTLPReceiver", "KafkaTestSupport",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "BaggageTests",
            dependencies: ["Baggage", .product(name: "ServiceContextModule", package: "swift-service-context")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
