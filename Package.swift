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
    traits: [
        // swift-otel as a second tracer (`ORDERTRACE_TRACER=otel`) and its tests. Off by default: the
        // lean tracer is the default, and swift-otel's dependency tree (gRPC, swift-protobuf,
        // AsyncHTTPClient, BoringSSL) is most of a cold build. `swift build --traits OTel`, or
        // `make test-otel`.
        .trait(name: "OTel", description: "swift-otel as a second tracer (ORDERTRACE_TRACER=otel)"),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-service-context.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.0.0"),
        // Only the traits we use: the default ConfigurationSupport would bring swift-configuration
        // and swift-system into every build.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // SQLite for the allocator's state (and the trace explorer's): one SQLite layer for the
        // whole project. On Linux it links the system's libsqlite3 (libsqlite3-dev).
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        // Prometheus text for swift-metrics: every process's `/metrics`.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        // Latency distributions of `ordertrace bench pipeline` (the benchmarks only).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
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
        // W3C Trace Context: span contexts and `traceparent` as bytes, contexts stored as text
        // (a batch member's), the link limit, and the seam through which the messaging layer
        // starts spans with any tracer (`MessagingTracer`).
        .target(
            name: "TraceContext",
            dependencies: [
                "OTLPWire", "Baggage",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ]
        ),
        // Tracing over Kafka: trace context and baggage in headers, `send` and `process` spans.
        // Knows no tracer: spans go through `MessagingTracer`.
        .target(
            name: "KafkaTracing",
            dependencies: [
                "Kafka", "Baggage", "TraceContext", "OTLPWire",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // A process's tracer: the choice (lean or swift-otel), the OTLP exporter, the resource, the
        // sampler and the flush at exit, from the OpenTelemetry environment.
        .target(
            name: "TracingSetup",
            dependencies: [
                "LeanTracing", "OTLPExporter", "OTLPWire", "TraceContext", "Settings",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel", condition: .when(traits: ["OTel"])),
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
                "OTLPWire", "Baggage", "TraceContext", "Settings",
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
            ]
        ),
        // Settings every configuration shares: the one configuration error, environment parsing.
        .target(name: "Settings"),
        // Bounded in-memory collections the components share: the set of recently seen ids that
        // recognises duplicates without remembering every id.
        .target(name: "BoundedCollections"),
        .target(
            name: "LocalHTTP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The one hand-written JSON layer: a strict, fast scanner over borrowed bytes, a compact
        // writer, and exact decimal text <-> integer ticks. No Foundation.
        .target(name: "WireJSON"),
        // The messages of the pipeline, their JSON coding and validation, allocation, audit.
        .target(name: "OrderModel", dependencies: ["WireJSON"]),
        // The exchange's wire protocol: the messages between a client and the exchange, their JSON,
        // its errors and limits. Both the exchange gateway and the simulator speak it.
        .target(name: "ExchangeProtocol", dependencies: ["WireJSON"]),
        // The simulated external exchange: order books, seeded liquidity, matching.
        .target(name: "ExchangeSimulator", dependencies: ["ExchangeProtocol", "BoundedCollections", "Settings"]),
        // A WebSocket client (RFC 6455) for plain ws:// on SwiftNIO alone: the exchange gateway's
        // connection to the exchange, and the tests' clients of the gateway and the simulator.
        .target(
            name: "WebSocketClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
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
        // dead letters, offset tracking.
        .target(
            name: "Pipeline",
            dependencies: [
                .product(name: "Metrics", package: "swift-metrics"),
                "Kafka", "KafkaTracing", "TraceContext",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // gateway: WebSocket and HTTP entry for clients; pushes each order's updates to its owner.
        .target(
            name: "OrderGateway",
            dependencies: [
                .product(name: "Metrics", package: "swift-metrics"),
                "Kafka", "KafkaTracing", "TraceContext", "OTLPWire", "Baggage", "OrderModel", "Pipeline", "Settings", "WireJSON", "BoundedCollections",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // exchange-gateway: WebSocket client of the exchange; executions become fills.
        .target(
            name: "ExchangeGateway",
            dependencies: [
                "Kafka", "KafkaTracing", "TraceContext", "OTLPWire", "Baggage", "OrderModel", "Pipeline", "Settings", "ExchangeProtocol", "BoundedCollections",
                "WebSocketClient",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // order-manager: validation, dead letters, batching per (symbol, side) (fan-in).
        .target(
            name: "OrderManager",
            dependencies: [
                .product(name: "Metrics", package: "swift-metrics"),
                "Kafka", "KafkaTracing", "TraceContext", "OTLPWire", "Baggage", "OrderModel", "Pipeline", "Settings", "BoundedCollections",
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
                "Kafka", "KafkaTracing", "TraceContext", "OTLPWire", "Baggage", "OrderModel", "Pipeline", "Settings",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // allocator: allocates fills to the members of their batch (many-to-many), state in SQLite
        // through GRDB.
        .target(
            name: "Allocator",
            dependencies: [
                "Kafka", "KafkaTracing", "TraceContext", "OTLPWire", "Baggage", "OrderModel", "Pipeline", "Settings",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Every process's Prometheus `/metrics` (swift-metrics on swift-prometheus), and `up`'s one
        // address for all of them.
        .target(
            name: "MetricsEndpoint",
            dependencies: [
                "LocalHTTP",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The lag monitor: samples consumer groups, judges them (LagStatus), keeps metrics, logs
        // status changes.
        .target(
            name: "LagMonitor",
            dependencies: [
                "Kafka", "LagStatus",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Consumer-lag status: Burrow's rules over a window of samples, plus LOSS and AT RISK.
        .target(name: "LagStatus"),
        // The audit's reading of the topics: to their ends, or following them as a run goes on.
        .target(
            name: "TopicAudit",
            dependencies: [
                "Kafka", "OrderModel", "Pipeline",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The explorer's store: spans in per-trace chunks in SQLite, indexes on trace, span, link
        // target and business ids, retention by age and size.
        .target(
            name: "TraceStore",
            dependencies: [
                "OTLPWire",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // An order's lineage: the graph across traces (parent and link edges with their roles)
        // and the completeness report, read from a `TraceStore`.
        .target(
            name: "Lineage",
            dependencies: ["TraceStore", "OTLPWire"]
        ),
        // `ordertrace explorer`: the OTLP/HTTP receiver, the JSON API and the web UI.
        .target(
            name: "Explorer",
            dependencies: [
                "TraceStore", "Lineage", "OTLPWire", "CZlib", "Settings", "WireJSON", "LagStatus", "LocalHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Web")]
        ),
        // What the `ordertrace` executable and its benchmarks share: output, logging setup,
        // command-line errors, free ports (the end-to-end tests take theirs from it too).
        .target(
            name: "CommandLineSupport",
            dependencies: [
                "Kafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Counts the heap allocations of each thread (the executable's malloc, calloc and realloc
        // forward to glibc's), for the allocations per operation of `ordertrace bench hotpaths`.
        .target(
            name: "CMallocCounter",
            path: "Benchmarks/CMallocCounter"
        ),
        // `ordertrace bench`: our Kafka client against kcat, the lean tracer against swift-otel,
        // the cost of tracing on the Kafka hot path, the lag monitor's CPU cost.
        .target(
            name: "OrderTraceBenchmarks",
            dependencies: [
                "CommandLineSupport", "Kafka", "KafkaTracing", "LeanTracing", "TraceContext", "TracingSetup", "Baggage", "OTLPReceiver", "OTLPWire", "OrderModel",
                "OTLPExporter", "LagMonitor", "MetricsEndpoint", "CMallocCounter", "WebSocketClient", "LocalHTTP",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OTel", package: "swift-otel", condition: .when(traits: ["OTel"])),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Benchmarks/OrderTraceBenchmarks",
            exclude: ["python_otlp_sink.py"]
        ),
        // The `ordertrace` executable: parses arguments and wires services together.
        .executableTarget(
            name: "OrderTraceCLI",
            dependencies: [
                "CommandLineSupport",
                "OrderTraceBenchmarks",
                "Kafka",
                "KafkaTracing",
                "TracingSetup",
                "Baggage",
                "ExchangeSimServer",
                "OrderModel", "Pipeline", "OrderGateway", "OrderManager", "Algo", "ExchangeGateway", "Allocator", "Explorer", "MetricsEndpoint", "LocalHTTP", "LagMonitor", "WebSocketClient", "TopicAudit",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // tcmalloc (Debian's libtcmalloc-minimal4) serves every allocation of an ordertrace
            // process instead of glibc's malloc: 7% less CPU per traced order for the pipeline, 14%
            // for the allocator (BENCHMARKS.md). By file name: the package ships no
            // libtcmalloc_minimal.so to link against without its -dev package.
            linkerSettings: [.linkedLibrary(":libtcmalloc_minimal.so.4", .when(platforms: [.linux]))]
        ),
        // The benchmarks' pure parts: the latency plot and the result line.
        .testTarget(name: "OrderTraceBenchmarksTests", dependencies: ["OrderTraceBenchmarks"]),
        // Test helpers that need neither Kafka nor a tracer: seeded randomness, temporary files.
        .target(
            name: "TestSupport",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        .target(
            name: "KafkaTestSupport",
            dependencies: [
                "Kafka", "OTLPReceiver", "LeanTracing", "TraceContext", "OTLPWire", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/KafkaTestSupport"
        ),
        .testTarget(
            name: "KafkaTests",
            dependencies: [
                "Kafka", "KafkaTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "KafkaTracingTests",
            dependencies: [
                "KafkaTracing", "TraceContext", "TracingSetup", "Kafka", "Baggage", "KafkaTestSupport", "OTLPReceiver", "LeanTracing", "OTLPWire",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel", condition: .when(traits: ["OTel"])),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "OrderModelTests",
            dependencies: ["OrderModel", "TestSupport"]
        ),
        .testTarget(name: "SettingsTests", dependencies: ["Settings"]),
        .testTarget(
            name: "ExchangeProtocolTests",
            dependencies: ["ExchangeProtocol"]
        ),
        .testTarget(
            name: "ExchangeSimulatorTests",
            dependencies: ["ExchangeSimulator", "ExchangeProtocol", "Settings"]
        ),
        .testTarget(
            name: "WebSocketClientTests",
            dependencies: [
                "WebSocketClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ExchangeSimServerTests",
            dependencies: [
                "ExchangeSimServer", "ExchangeSimulator", "ExchangeProtocol",
                "WebSocketClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "OrderGatewayTests",
            dependencies: [
                "OrderGateway", "Kafka", "KafkaTracing", "Baggage", "OrderModel", "Pipeline", "Settings", "KafkaTestSupport", "TestSupport", "WireJSON", "BoundedCollections",
                .product(name: "Hummingbird", package: "hummingbird"),
                "WebSocketClient",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                "LeanTracing",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ExchangeGatewayTests",
            dependencies: [
                "ExchangeGateway", "ExchangeSimServer", "KafkaTestSupport", "TestSupport", "Kafka", "KafkaTracing", "ExchangeProtocol",
                "Baggage", "OrderModel", "Pipeline", "Settings",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "OrderManagerTests",
            dependencies: ["OrderManager", "OrderModel", "Pipeline", "Settings", "Kafka", "TestSupport"]
        ),
        .testTarget(
            name: "AlgoTests",
            dependencies: ["Algo", "OrderModel", "Settings", "TestSupport"]
        ),
        .testTarget(
            name: "AllocatorTests",
            dependencies: [
                "Allocator", "Pipeline", "OrderModel", "Kafka", "KafkaTestSupport", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The components together: order manager, algorithm and allocator on one embedded broker.
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "OrderManager", "Algo", "Allocator", "Pipeline", "OrderModel", "Kafka", "KafkaTestSupport", "TestSupport", "BoundedCollections",
                "LeanTracing", .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Runs the built `ordertrace up` and checks the whole system from the outside.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "KafkaTestSupport", "TestSupport", "Kafka", "OrderModel", "LagStatus",
                "WebSocketClient", "LocalHTTP", "Pipeline", "TopicAudit", "CommandLineSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The explorer: store, lineage, receiver, API, CLI text and the UI in headless Chromium.
        .testTarget(
            name: "ExplorerTests",
            dependencies: [
                "Explorer", "Lineage", "TraceStore", "OTLPWire", "OTLPExporter", "TestSupport", "KafkaTestSupport", "WireJSON", "CZlib",
                "LagMonitor", "LagStatus", "Kafka",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "LagStatusTests", dependencies: ["LagStatus"]),
        .testTarget(name: "TopicAuditTests", dependencies: ["TopicAudit", "OrderModel", "Pipeline", "Kafka", "KafkaTestSupport"]),
        .testTarget(
            name: "LagMonitorTests",
            dependencies: ["LagMonitor", "LagStatus", "Kafka", "KafkaTestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "MetricsEndpointTests",
            dependencies: [
                "MetricsEndpoint", "LocalHTTP",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "OTLPWireTests", dependencies: ["OTLPWire", "TestSupport"], exclude: ["Decode"]),
        .testTarget(
            name: "OTLPExporterTests",
            dependencies: [
                "OTLPExporter", "OTLPReceiver", "CZlib", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "LeanTracingTests",
            dependencies: [
                "LeanTracing", "TracingSetup", "TraceContext", "Settings", "OTLPWire", "Baggage", "OTLPReceiver", "KafkaTestSupport", "TestSupport",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "TraceContextTests", dependencies: ["TraceContext"]),
        .testTarget(name: "TracingSetupTests", dependencies: ["TracingSetup", "Settings"]),
        .testTarget(
            name: "BaggageTests",
            dependencies: ["Baggage", "TestSupport", .product(name: "ServiceContextModule", package: "swift-service-context")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
