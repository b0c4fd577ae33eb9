import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import LocalHTTP
import Logging
import OrderGateway
import OrderModel
import Pipeline
import Synchronization
import TopicAudit
import WebSocketClient

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Send a realistic stream of orders to a running system, then show where to look.",
        discussion: """
            Against `ordertrace up` (or any deployment with the demo users): the users alice, bob
            and carol send orders over the gateway's WebSocket, and more go straight into
            client-orders with kcat (our own producer when kcat is not installed), across eight
            symbols, both sides, market and limit; a few are invalid on purpose (refused with an
            error reply, or dead-lettered). It waits until every valid order is terminal, then
            prints a few orders with their explorer links, the consumer lag and the audit of every
            record written during the run (read as it was written, so a run longer than the
            embedded broker keeps is still audited in full).
            --rate and --duration make it a load generator. Exits 1 when an order does not end
            or the audit fails.
            """
    )

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "The gateway's WebSocket address.")
    var gateway = "ws://127.0.0.1:8080/v1/orders"

    @Option(help: "The explorer's address, for the links (default $EXPLORER_URL or http://127.0.0.1:8686).")
    var explorer: String?

    @Option(help: "Orders per second.")
    var rate: Double = 20

    @Option(help: "Seconds of sending.")
    var duration: Double = 10

    @Option(help: "Seconds to wait, after the last order, for every order to end.")
    var settle: Double = 60

    @Option(help: "Seed of the order stream (the same seed, the same orders).")
    var seed: UInt64 = 1

    @Option(help: "Where the system's metrics are, to check that no component lost a record (default: up's, http://127.0.0.1:9464/metrics).")
    var metrics = "http://127.0.0.1:9464/metrics"

    func validate() throws {
        guard rate > 0, rate <= 100_000 else { throw ValidationError("--rate must be above 0 and at most 100000") }
        guard duration > 0 else { throw ValidationError("--duration must be above 0") }
    }

    func run() async throws {
        var logger = Logs.bootstrap(defaultLevel: .warning)
        logger.logLevel = .warning
        let kafkaConfiguration = try kafka.configuration()
        let topics = PipelineTopics.fromEnvironment(ProcessInfo.processInfo.environment)
        let tokens = OrderGatewayConfiguration.demoTokens.sorted { $0.value < $1.value }
        let tracker = DemoTracker()
        let run = "d\(UInt32.random(in: 0...UInt32.max) % 100_000)"
        var stream = DemoOrderStream(seed: seed, run: run, users: tokens.map(\.value))
        let total = max(1, Int((rate * duration).rounded()))
        let direct = try DirectSender(kafka: kafkaConfiguration, topic: topics.clientOrders, logger: logger)
        say("demo: \(total) orders over \(String(format: "%.0f", duration)) s (\(String(format: "%g", rate))/s) as \(tokens.map(\.value).joined(separator: ", ")): over \(gateway) and with \(direct.name) into \(topics.clientOrders) on \(kafkaConfiguration.brokers.joined(separator: ","))")

        // One WebSocket a user, open for the whole demo: it sends that user's orders and hears
        // every update of every order of that user, whichever way it came in.
        var outboxes: [String: AsyncStream<String>.Continuation] = [:]
        var sockets: [(url: String, user: String, orders: AsyncStream<String>)] = []
        for (token, user) in tokens {
            let (orders, continuation) = AsyncStream.makeStream(of: String.self)
            outboxes[user] = continuation
            sockets.append((gateway + (gateway.contains("?") ? "&" : "?") + "access_token=\(token)", user, orders))
        }
        let plan = sockets
        let connections = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for socket in plan {
                    group.addTask { try await Self.connection(url: socket.url, user: socket.user, orders: socket.orders, tracker: tracker) }
                }
                try await group.waitForAll()
            }
        }
        // Wait until every socket is open before the clock starts.
        guard await tracker.waitForSockets(tokens.count, timeout: .seconds(15)) else {
            connections.cancel()
            throw CommandError(description: "demo: cannot open a WebSocket at \(gateway) (\(tracker.connectionError ?? "no answer")); is `ordertrace up` running?")
        }

        // The audit reads every record of the run as it is written: a long run outgrows what
        // the embedded broker keeps, and an audit at the end would see only the last of it.
        let follower = try await AuditFollower.start(topics: topics, kafka: kafkaConfiguration, logger: logger)
        let start = ContinuousClock.now
        for index in 0..<total {
            let due = start + .seconds(Double(index) / rate)
            if due > .now { try await Task.sleep(until: due) }
            let order = stream.next()
            tracker.sent(order)
            switch order.path {
            case .webSocket: outboxes[order.user]?.yield(order.text)
            case .kafka: try await direct.send(key: order.symbol, value: order.text)
            }
        }
        try await direct.finish()
        let sendingTook = ContinuousClock.now - start
        say("demo: sent \(total) orders in \(Self.seconds(sendingTook)) s; waiting for every valid order to end")
        let settled = await tracker.waitUntilSettled(timeout: .seconds(settle))
        for continuation in outboxes.values { continuation.finish() }
        connections.cancel()
        _ = try? await connections.value

        let summary = tracker.summary()
        say(summary.lines.joined(separator: "\n"))
        let explorerURL = (explorer ?? ProcessInfo.processInfo.environment["EXPLORER_URL"] ?? "http://127.0.0.1:8686").trimmingCharacters(in: ["/"])
        if await HTTPGet.fetch(explorerURL + "/api/orders?limit=1", timeout: .seconds(2))?.status == 200 {
            say("  follow an order in the explorer:")
            for example in summary.examples { say("    \(example.description)  \(explorerURL)/#id=\(example.clientOrderId)") }
            say("  consumer lag, live: \(explorerURL)/lag")
        } else {
            say("  a few orders (no explorer answers at \(explorerURL); `ordertrace trace <id>` once one runs):")
            for example in summary.examples { say("    \(example.description)") }
        }

        // Lag of the pipeline's groups, then the audit of what the topics hold.
        let admin = try KafkaAdmin(configuration: kafkaConfiguration, logger: logger)
        if let report = try? await admin.lag(groups: PipelineConsumerGroups.all(topics).map(\.group), topics: [], includeListedGroups: false) {
            say("  lag: " + report.groups.map { "\($0.group) \($0.lag)" }.joined(separator: ", ") + " (records; `ordertrace lag` for more)")
        }
        // A record the broker deleted before a component read it is an order lost: every
        // consumer counts such gaps.
        var lostByComponents = 0
        if let page = await HTTPGet.fetch(metrics, timeout: .seconds(5)), page.status == 200 {
            lostByComponents = Self.sum(of: "kafka_consumer_lost_messages_total", in: String(decoding: page.body, as: UTF8.self))
            say("  records the broker deleted before a component read them: \(lostByComponents) (\(metrics))")
        }
        let deadline = ContinuousClock.now + .seconds(30)
        var snapshot = try await follower.snapshot(timeout: .seconds(120))
        var violations = snapshot.violations(requireTerminal: true)
        while !violations.isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            snapshot = try await follower.snapshot(timeout: .seconds(120))
            violations = snapshot.violations(requireTerminal: true)
        }
        await follower.stop()
        snapshot.printSummary(violations: violations)
        if !settled {
            throw CommandError(description: "demo: \(summary.open) orders did not end within \(Int(settle)) s of the last one sent")
        }
        if !violations.isEmpty || lostByComponents > 0 { throw ExitCode(1) }
    }

    /// The sum of a metric's samples in Prometheus text.
    static func sum(of metric: String, in text: String) -> Int {
        var total = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix(metric) {
            let name = line.prefix { $0 != "{" && $0 != " " }
            guard name == metric, let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            total += value
        }
        return Int(total)
    }

    /// One user's socket: sends what comes on `orders`, records every update it hears.
    static func connection(url: String, user: String, orders: AsyncStream<String>, tracker: DemoTracker) async throws {
        do {
            try await WebSocketClient.connect(url: url, configuration: .init(maxMessageSize: 1 << 20)) { inbound, outbound in
                tracker.socketOpened()
                let sender = Task {
                    for await text in orders { try await outbound.write(.text(text)) }
                }
                defer { sender.cancel() }
                for try await message in inbound {
                    if case .text(let text) = message { tracker.heard(text) }
                }
            }
        } catch is CancellationError {
        } catch {
            tracker.connectionFailed("\(error)")
            throw error
        }
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}

/// Orders into client-orders without the gateway: through kcat when it is installed (as a
/// person would), else through our producer.
final class DirectSender: Sendable {
    let name: String
    private let kcat: (process: Process, input: FileHandle)?
    private let producer: KafkaProducer?
    private let runner: Task<Void, any Error>?
    private let topic: String

    init(kafka: KafkaConfiguration, topic: String, logger: Logger) throws {
        self.topic = topic
        let kcatPath = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map { "\($0)/kcat" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        if let kcatPath {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: kcatPath)
            process.arguments = ["-P", "-b", kafka.brokers.joined(separator: ","), "-t", topic, "-K", "\t", "-z", "lz4"]
                + kafka.properties.sorted { $0.key < $1.key }.flatMap { ["-X", "\($0.key)=\($0.value)"] }
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            kcat = (process, pipe.fileHandleForWriting)
            producer = nil
            runner = nil
            name = "kcat"
        } else {
            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: logger)
            self.producer = producer
            runner = Task { try await producer.run() }
            kcat = nil
            name = "ordertrace's producer (kcat is not installed)"
        }
    }

    func send(key: String, value: String) async throws {
        if let kcat {
            try kcat.input.write(contentsOf: Data("\(key)\t\(value)\n".utf8))
        } else if let producer {
            _ = try await producer.send(KafkaProducerRecord(topic: topic, key: key, value: Array(value.utf8)))
        }
    }

    /// Everything sent is in Kafka once this returns.
    func finish() async throws {
        if let kcat {
            try kcat.input.close()
            while kcat.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            guard kcat.process.terminationStatus == 0 else {
                throw CommandError(description: "demo: kcat exited with status \(kcat.process.terminationStatus)")
            }
        } else if let producer {
            await producer.flush(timeout: .seconds(30))
            runner?.cancel()
        }
    }
}
