import Foundation
import Glibc
import Kafka
import KafkaTestSupport
import LocalHTTP
import OrderModel
import Pipeline
import Synchronization
import Testing
import TopicAudit

/// Several replicas of the order manager, the algo, the exchange gateway and the allocator in
/// their consumer groups (the allocators sharing their state's folder), on a three-broker embedded broker with topics of 6 partitions, while orders stream in:
/// one replica of each stops gracefully or is killed with SIGKILL, and new ones join. Partitions
/// move each time; afterwards every order has ended exactly once.
@Suite("Replicas: partitions move between replicas while orders flow", .timeLimit(.minutes(10)))
struct ReplicaTests {
    enum Step: CustomStringConvertible {
        case start(String, as: String)
        case stop(String)
        case kill(String)

        var description: String {
            switch self {
            case .start(let component, let name): "start \(name) (\(component))"
            case .stop(let name): "SIGTERM \(name)"
            case .kill(let name): "SIGKILL \(name)"
            }
        }
    }

    static let steps: [Step] = [
        .stop("order-manager-1"),
        .kill("exchange-gateway-1"),
        .stop("allocator-1"),
        .start("order-manager", as: "order-manager-3"),
        .kill("algo-1"),
        .start("allocator", as: "allocator-3"),
        .start("exchange-gateway", as: "exchange-gateway-3"),
        .kill("allocator-2"),
        .kill("order-manager-2"),
        .start("algo", as: "algo-3"),
    ]

    /// `topics/` with every topic at `partitions` partitions, in a new folder.
    static func topicsDirectory(partitions: Int) throws -> String {
        let directory = NSTemporaryDirectory() + "ordertrace-topics-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let source = repositoryRoot.appendingPathComponent("topics")
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) where file.hasSuffix(".json") {
            let text = try String(contentsOf: source.appendingPathComponent(file), encoding: .utf8)
            let changed = text.replacingOccurrences(of: #""partitions"\s*:\s*\d+"#, with: "\"partitions\": \(partitions)", options: .regularExpression)
            #expect(changed != text || text.contains("\"partitions\": \(partitions)"), "\(file) names its partitions")
            try changed.write(toFile: directory + "/" + file, atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test("2 to 3 replicas of the order manager, the algo, the exchange gateway and the allocator on 6 partitions: graceful stops, SIGKILLs and joins while orders flow; every order ends exactly once")
    func replicasComeAndGo() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let topicsDirectory = try Self.topicsDirectory(partitions: 6)
        defer { try? FileManager.default.removeItem(atPath: topicsDirectory) }
        let dataDirectory = NSTemporaryDirectory() + "ordertrace-replicas-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let kafkaPort = freePort()
        let broker = try OrdertraceProcess(
            command: "broker", arguments: ["--port", String(kafkaPort), "--topics-dir", topicsDirectory], environment: [:])
        defer { broker.process.terminate() }
        try #require(await eventually(timeout: .seconds(60)) { broker.fullOutput.contains("ready.") }, "\(broker.log)")
        let brokers = "127.0.0.1:\(kafkaPort)"

        let exchange = try OrdertraceProcess(command: "exchange-sim", arguments: ["--port", "0", "--seed", "5"], environment: [:])
        defer { exchange.process.terminate() }
        var exchangePort = 0
        let listening = await eventually(timeout: .seconds(60)) {
            guard let range = exchange.fullOutput.range(of: #"listening on ws://127\.0\.0\.1:(\d+)/"#, options: .regularExpression) else { return false }
            exchangePort = Int(exchange.fullOutput[range].split(separator: ":").last!.dropLast()) ?? 0
            return exchangePort > 0
        }
        try #require(listening, "\(exchange.log)")
        // The explorer receives every replica's spans: the lineage of orders whose partitions
        // moved is checked at the end.
        let explorer = try OrdertraceProcess(
            command: "explorer", arguments: [],
            environment: ["EXPLORER_PORT": String(freePort()), "EXPLORER_OTLP_PORT": String(freePort()), "EXPLORER_DB": dataDirectory + "/explorer.sqlite", "OTEL_SDK_DISABLED": "true"])
        defer { explorer.process.terminate() }
        var otlpURL = "", explorerURL = ""
        let explorerUp = await eventually(timeout: .seconds(60)) {
            guard explorer.process.isRunning else { return true }
            let lines = explorer.fullOutput.split(separator: "\n")
            guard let otlp = lines.first(where: { $0.contains("explorer: receiving OTLP at ") }),
                let ui = lines.first(where: { $0.contains("explorer: open http://") })
            else { return false }
            otlpURL = String(otlp.split(separator: " ").last!).replacingOccurrences(of: "/v1/traces", with: "")
            explorerURL = String(ui.split(separator: " ")[2]).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            return true
        }
        try #require(explorerUp && !otlpURL.isEmpty, "\(explorer.log)")
        let environment = [
            "ORDERTRACE_PARENT_PID": String(getpid()),
            "KAFKA_BROKERS": brokers, "EXCHANGE_URL": "ws://127.0.0.1:\(exchangePort)/", "ORDERTRACE_DATA_DIR": dataDirectory,
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlpURL, "METRICS_PORT": "0", "BATCH_LINGER_MS": "100", "EXCHANGE_ORDER_TIMEOUT_MS": "2000",
        ]
        // Every process ever started, by name: a stopped one keeps its output for the counts below.
        let processes = Mutex<[String: OrdertraceProcess]>([:])
        defer { for process in processes.withLock({ Array($0.values) }) where process.process.isRunning { process.process.terminate() } }
        // What happened when, for the failure messages: each start and each step.
        let timeline = Mutex<[(time: Date, event: String)]>([])
        func note(_ event: String) { timeline.withLock { $0.append((Date(), event)) } }
        // Each SIGKILL: which process, and when.
        let kills = Mutex<[(name: String, time: Date)]>([])
        func start(_ component: String, as name: String) async throws {
            note("start \(name)")
            // Each allocator keeps its state in a folder of its own, as on a machine of its own:
            // a partition that moves to it is rebuilt from the changelog.
            var own = environment
            if component == "allocator" { own["ALLOCATOR_DB"] = "\(dataDirectory)/\(name)/allocator.sqlite" }
            let process = try OrdertraceProcess(command: component, arguments: [], environment: own)
            processes.withLock { $0[name] = process }
            try #require(await FaultTests.waitUntilReady(process, component), "\(name) never became ready:\n\(process.log)")
        }
        for component in ["order-manager", "algo", "exchange-gateway", "allocator"] {
            for replica in 1...2 { try await start(component, as: "\(component)-\(replica)") }
        }

        let kafka = KafkaConfiguration(brokers: [brokers])
        let follower = try await AuditFollower.start(topics: PipelineTopics(), kafka: kafka, logger: testLogger)
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: testLogger)
        let producing = Task { try await producer.run() }
        defer { producing.cancel() }

        // 1,500 orders at about 60 a second; a step every 150 orders.
        let orders = 1_500
        let every = orders / Self.steps.count
        var deliveries: [Task<Void, any Error>] = []
        for index in 0..<orders {
            let order = FaultTests.order(index)
            deliveries.append(Task { try await producer.send(KafkaProducerRecord(topic: "client-orders", key: order.symbol, value: order.encodeJSON())) })
            try await Task.sleep(for: .milliseconds(16))
            guard index % every == every / 2, index / every < Self.steps.count else { continue }
            note("step \(index / every) after order \(index): \(Self.steps[index / every])")
            switch Self.steps[index / every] {
            case .start(let component, let name):
                try await start(component, as: name)
            case .stop(let name), .kill(let name):
                let victim = try #require(processes.withLock { $0[name] })
                if case .kill = Self.steps[index / every] {
                    kills.withLock { $0.append((name, Date())) }
                    kill(victim.process.processIdentifier, SIGKILL)
                } else {
                    kill(victim.process.processIdentifier, SIGTERM)
                }
                #expect(await eventually(timeout: .seconds(120)) { !victim.process.isRunning }, "\(name) did not stop:\n\(victim.log)")
            }
        }
        for delivery in deliveries { try await delivery.value }

        var snapshot = AuditSnapshot()
        var violations: [InvariantViolation] = []
        let settled = await eventually(timeout: .seconds(300)) {
            guard let taken = try? await follower.snapshot(timeout: .seconds(60)) else { return false }
            snapshot = taken
            violations = taken.violations(requireTerminal: true)
            return taken.clientOrders.count == orders && violations.isEmpty
        }
        await follower.stop()
        let all = processes.withLock { $0 }
        #expect(settled, "\(snapshot.clientOrders.count) of \(orders) orders read; \(violations.count) violations: \(violations.prefix(10))")

        let (lost, batchedTwice, overExecuted, batched) = FaultTests.outcomes(snapshot, orders: orders)
        // Each replica logs every assignment it gets: "assigned N partitions".
        var assignments = 0, partitionsAssigned = 0
        for process in all.values {
            for line in process.fullOutput.split(separator: "\n") {
                guard let range = line.range(of: #"assigned (\d+) partitions"#, options: .regularExpression) else { continue }
                assignments += 1
                partitionsAssigned += Int(line[range].split(separator: " ")[1]) ?? 0
            }
        }
        // Allocator partitions that moved to a replica were rebuilt from the changelog there
        // ("rebuilt from N changelog records"); a file still current is opened as it is.
        var rebuilds = 0, rebuiltRecords = 0
        for (name, process) in all where name.hasPrefix("allocator") {
            for line in process.fullOutput.split(separator: "\n") {
                guard let range = line.range(of: #"rebuilt from (\d+) changelog records"#, options: .regularExpression) else { continue }
                let count = Int(line[range].split(separator: " ")[2]) ?? 0
                if count > 0 { rebuilds += 1 }
                rebuiltRecords += count
            }
        }
        print(
            "replicas: \(Self.steps.count) steps (\(Self.steps.map(\.description).joined(separator: ", "))); \(assignments) assignments of \(partitionsAssigned) partitions in all; allocator partitions rebuilt from the changelog \(rebuilds) times (\(rebuiltRecords) records); \(orders) orders: \(orders - lost) ended, \(lost) lost, \(batchedTwice) batched twice, \(batched) batched, \(overExecuted) batches executed past their quantity"
        )
        #expect(rebuilds > 0, "no allocator partition was rebuilt from a non-empty changelog")
        #expect(lost == 0)
        #expect(batchedTwice == 0)
        #expect(overExecuted == 0)
        // Every step moved partitions: each start, stop or kill made at least one assignment.
        #expect(assignments >= 8 + Self.steps.count, "\(assignments) assignments")
        // Batch ids of different replicas never collide.
        #expect(Set(snapshot.batches.map(\.batchId)).count == snapshot.batches.count)

        // Traces stay whole across the moves: every 10th order's lineage is complete (received,
        // batched, sent to the exchange, filled or ended, completed), whichever replicas did it.
        // A process killed with SIGKILL loses the spans it had not exported yet (the tracer
        // exports every 100 ms), so orders sent in the step before a SIGKILL are left out
        // (counted, not checked). An order worked much later than it was sent (its batch waited
        // for a move, or its exchange orders were read again after one and ran to their timeout)
        // can be at the killed process too: an incomplete order is excused when everything it
        // lacks is made by the killed process's component and its lineage shows it being worked
        // within a second before the kill (`judge`); the excused are counted and named. Graceful
        // stops, joins and the moves after each kill are checked. An order read twice (its first
        // reader stopped before committing it) has a second trace that only says it was already
        // batched: the order is complete when one of its traces is.
        let killedAt = Self.steps.enumerated().compactMap { index, step -> Int? in
            if case .kill = step { index * every + every / 2 } else { nil }
        }
        let killTimes = kills.withLock { $0 }
        let all10th = Array(stride(from: 0, to: orders, by: 10))
        let checked = all10th.filter { index in !killedAt.contains { index > $0 - every && index <= $0 } }
        let sample = checked.map { FaultTests.order($0).clientOrderId }
        var incomplete: [String] = []
        var excused: [String: String] = [:]
        var problems: [String: [String]] = [:]
        let whole = await eventually(timeout: .seconds(180)) {
            incomplete = []
            excused = [:]
            for id in sample {
                switch await Self.judge(id, explorerURL: explorerURL, kills: killTimes) {
                case .complete: continue
                case .lostAtKill(let reason): excused[id] = reason
                case .incomplete(let found):
                    incomplete.append(id)
                    problems[id] = found
                }
            }
            return incomplete.isEmpty
        }
        print(
            "replicas: lineage of \(sample.count) sampled orders checked (\(all10th.count - checked.count) sent just before a SIGKILL left out): \(sample.count - incomplete.count - excused.count) complete, \(excused.count) incomplete as worked at a process when it was killed \(excused.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" })"
        )
        let spanWarnings = all.sorted { $0.key < $1.key }.flatMap { name, process in
            process.fullOutput.split(separator: "\n").filter { $0.contains("spans") && ($0.contains("warning") || $0.contains("error")) }.prefix(3).map { "\(name): \($0)" }
        }
        var explanation = ""
        if !whole {
            explanation = await Self.explain(
                incomplete.prefix(5), explorerURL: explorerURL, processes: all.merging(["explorer": explorer]) { $1 }, every: every, timeline: timeline.withLock { $0 })
            print("replicas: incomplete lineages:\n\(explanation)")
        }
        #expect(
            whole,
            "span warnings: \(spanWarnings); \(incomplete.count) of \(sample.count) sampled orders have an incomplete lineage, e.g. \(incomplete.prefix(5).map { "\($0): \(problems[$0] ?? ["not found"])" })\n\(explanation)")
        // The excuse stays an exception: a killed allocator takes the spans of the step it was
        // working (7 of 90 sampled orders in one run), so at most a quarter of the sample.
        #expect(excused.count <= sample.count / 4, "\(excused.count) of \(sample.count) sampled orders excused as worked at a killed process")

        let survivors = all.filter { $0.value.process.isRunning }
        let ended = Self.steps.filter { if case .start = $0 { false } else { true } }.count
        #expect(survivors.count == all.count - ended, "\(survivors.keys.sorted())")
        for process in survivors.values { kill(process.process.processIdentifier, SIGTERM) }
        for (name, process) in survivors {
            let exited = await eventually(timeout: .seconds(120)) { !process.process.isRunning }
            #expect(exited, "\(name) did not stop on SIGTERM:\n\(process.log)")
            if !exited { kill(process.process.processIdentifier, SIGKILL) }
        }
    }

    /// Why these orders' lineages are incomplete, as far as the explorer and the processes' output
    /// tell: per order, its reports' problems, every trace the lineage loaded with its spans
    /// (name and service, batch ids), the order manager that made each batch (the batch id's
    /// prefix holds its process's start time) and which processes logged the order or its batches;
    /// then the timeline of starts and steps and what the explorer refused. Every process's output
    /// and each lineage document are kept in a folder named at the end.
    static func explain(
        _ ids: some Sequence<String>, explorerURL: String, processes: [String: OrdertraceProcess], every: Int,
        timeline: [(time: Date, event: String)]
    ) async -> String {
        let folder = NSTemporaryDirectory() + "ordertrace-replica-failure-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, process) in processes { try? process.fullOutput.write(toFile: "\(folder)/\(name).log", atomically: true, encoding: .utf8) }
        let origin = timeline.first?.time ?? Date()
        func seconds(_ date: Date) -> String { String(format: "%.2fs", date.timeIntervalSince(origin)) }
        let starts = timeline.filter { $0.event.hasPrefix("start order-manager") }
        // "b" + the start time in milliseconds, base 36 (8 digits) + a random part.
        func maker(ofBatch batchID: String) -> String {
            guard batchID.count > 9, let milliseconds = Int(batchID.dropFirst().prefix(8), radix: 36) else { return "?" }
            let made = Date(timeIntervalSince1970: Double(milliseconds) / 1_000)
            let candidate = starts.last { $0.time <= made.addingTimeInterval(1) }
            return candidate.map { String($0.event.dropFirst("start ".count)) } ?? "?"
        }
        func short(_ text: Any?) -> String { String((text as? String ?? "").prefix(8)) }
        var lines: [String] = []
        for id in ids {
            let index = Int(id.dropFirst(2)) ?? -1
            lines.append("\(id): sent in step \(index / every) (order \(index % every) of \(every); a step acts after order \(every / 2))")
            guard let response = await HTTPGet.fetch("\(explorerURL)/api/lineage?id=\(id)", timeout: .seconds(20)) else {
                lines.append("  no answer from /api/lineage")
                continue
            }
            try? Data(response.body).write(to: URL(fileURLWithPath: "\(folder)/lineage-\(id).json"))
            guard response.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
                lines.append("  /api/lineage: \(response.status) \(String(decoding: response.body.prefix(300), as: UTF8.self))")
                continue
            }
            var batchIDs: Set<String> = []
            for report in object["orders"] as? [[String: Any]] ?? [] where report["clientOrderId"] as? String == id {
                let batches = report["batchIds"] as? [String] ?? []
                batchIDs.formUnion(batches)
                lines.append(
                    "  report: trace \(short(report["traceId"])) batches \(batches.map { "\($0) (by \(maker(ofBatch: $0)))" }) complete \(report["complete"] ?? "?"): \(report["problems"] ?? [])")
            }
            let spans = object["spans"] as? [[String: Any]] ?? []
            for trace in object["traces"] as? [[String: Any]] ?? [] {
                let traceID = trace["traceId"] as? String ?? ""
                let names = spans.filter { $0["traceId"] as? String == traceID }.map { span in
                    let attributes = span["attributes"] as? [String: Any] ?? [:]
                    if let batch = attributes["batch.id"] as? String { batchIDs.insert(batch) }
                    let extra = [attributes["batch.id"], attributes["messaging.destination.partition.id"].map { "p\($0)" }].compactMap { $0.map { "\($0)" } }
                    let at = (span["start"] as? NSNumber).map { seconds(Date(timeIntervalSince1970: $0.doubleValue / 1_000_000)) } ?? "?"
                    return "\(span["name"] ?? "?")@\(span["service"] ?? "?") \(at)" + (extra.isEmpty ? "" : "[\(extra.joined(separator: " "))]")
                }
                lines.append(
                    "  trace \(short(traceID)) \(trace["kind"] ?? "?") root \(trace["rootName"] ?? "?") seed \(trace["seed"] ?? "?") loaded \(trace["loaded"] ?? "?") \(trace["spanCount"] ?? "?") spans: \(names.joined(separator: ", "))")
            }
            if let missing = object["missing"] as? [String: Any] {
                for kind in ["parents", "links"] {
                    for reference in missing[kind] as? [[String: Any]] ?? [] {
                        lines.append("  missing \(kind == "parents" ? "parent" : "link target") \(short(reference["traceId"]))/\(reference["spanId"] ?? "?") of \(short(reference["referencedByTraceId"]))/\(reference["referencedBy"] ?? "?")")
                    }
                }
            }
            let order = try? NSRegularExpression(pattern: "[/ \"]\(NSRegularExpression.escapedPattern(for: id))[^0-9]")
            for (name, process) in processes.sorted(by: { $0.key < $1.key }) {
                let said = process.fullOutput.split(separator: "\n").filter { line in
                    let text = String(line)
                    return batchIDs.contains { text.contains($0) }
                        || order?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                }
                guard !said.isEmpty else { continue }
                lines.append("  \(name) logged \(said.count) lines about it, e.g. \(said.prefix(2).map { String($0.prefix(220)) })")
            }
        }
        lines.append("timeline: " + timeline.map { "\(seconds($0.time)) \($0.event)" }.joined(separator: "; "))
        if let statistics = await HTTPGet.fetch("\(explorerURL)/api/stats", timeout: .seconds(10)) {
            lines.append("explorer stats: \(String(decoding: statistics.body, as: UTF8.self))")
        }
        let refusals = processes.sorted { $0.key < $1.key }.flatMap { name, process in
            process.fullOutput.split(separator: "\n").filter { $0.contains("503") || $0.contains("spans dropped") || $0.contains("could not export") }.prefix(2).map { "\(name): \($0.prefix(200))" }
        }
        lines.append("refused or dropped spans: \(refusals.isEmpty ? "none logged" : refusals.joined(separator: "; "))")
        lines.append("every process's output and the lineage documents: \(folder)")
        return lines.joined(separator: "\n")
    }

    enum Judgement {
        case complete
        /// Incomplete, and what it lacks went with a process killed while working it.
        case lostAtKill(String)
        /// Incomplete: the problems of its reports (`not found` when the explorer has none).
        case incomplete([String])
    }

    /// Judges the lineage of client order `id` as the explorer reports it (`/api/lineage`).
    ///
    /// An incomplete order is `lostAtKill` when everything it lacks is made by one component (the
    /// order manager receives and batches, the algo sends exchange orders, the allocator matches
    /// fills and completes; a missing parent or link target counts as the component of the span
    /// that refers to it), a process of that component was killed with SIGKILL, and a span of
    /// the order's lineage ended within a second before that kill: the order was being worked
    /// there, and the spans its process had not exported yet went with it.
    static func judge(_ id: String, explorerURL: String, kills: [(name: String, time: Date)]) async -> Judgement {
        guard let response = await HTTPGet.fetch("\(explorerURL)/api/lineage?id=\(id)", timeout: .seconds(20)), response.status == 200,
            let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            case let own = (object["orders"] as? [[String: Any]] ?? []).filter({ $0["clientOrderId"] as? String == id }), !own.isEmpty
        else { return .incomplete(["not found"]) }
        if own.contains(where: { $0["complete"] as? Bool == true }) { return .complete }
        let problems = own.flatMap { $0["problems"] as? [String] ?? [] }
        let spans = object["spans"] as? [[String: Any]] ?? []
        let makers = [
            "client_order_received never arrived": "order-manager", "not batched": "order-manager", "its batch's order_batching": "order-manager",
            "its spans never arrived": "order-manager", "no exchange_order_send": "algo", "no fills seen": "allocator", "not completed": "allocator",
        ]
        func component(of problem: String) -> String? {
            if problem.hasPrefix("span "), let spanID = problem.split(separator: " ").dropFirst().first {
                let service = spans.first { $0["spanId"] as? String == String(spanID) }?["service"] as? String
                return service.map { $0.hasPrefix("ordertrace-") ? String($0.dropFirst("ordertrace-".count)) : $0 }
            }
            return makers.first { problem.hasPrefix($0.key) }?.value
        }
        let components = Set(problems.map(component(of:)))
        guard components.count == 1, let maker = components.first ?? nil else { return .incomplete(problems) }
        for (name, time) in kills where name.split(separator: "-").dropLast().joined(separator: "-") == maker {
            let killed = time.timeIntervalSince1970
            let worked = spans.compactMap { span -> (gap: Double, name: String)? in
                guard let start = (span["start"] as? NSNumber)?.doubleValue else { return nil }
                let end = (start + ((span["duration"] as? NSNumber)?.doubleValue ?? 0)) / 1_000_000
                guard end <= killed, end >= killed - 1 else { return nil }
                return (killed - end, "\(span["name"] ?? "?")@\(span["service"] ?? "?")")
            }.min { $0.gap < $1.gap }
            if let worked {
                return .lostAtKill("\(problems.count) problems, all of the \(maker) (\(worked.name) ended \(String(format: "%.2f", worked.gap)) s before SIGKILL \(name))")
            }
        }
        return .incomplete(problems)
    }
}
