import Foundation
import Kafka
import KafkaTestSupport
import NIOCore
import Synchronization
import TestSupport
import Testing
import WebSocketClient

/// Hostile input at both doors of the running system (`ordertrace up`): every case of the corpus
/// (`Tests/Corpus/hostile/cases.jsonl`) over the gateway's WebSocket, its `POST /v1/orders`, and
/// as a record written straight into client-orders. Refused input gets its reason; malformed
/// records end in dead-letters untouched; valid orders with hostile headers are filled, once;
/// nothing crashes, stalls or loops, and orders sent afterwards are filled.
@Suite("Hostile input at both doors of the running pipeline", .timeLimit(.minutes(10)))
struct HostileInputTests {
    @Test("the corpus is well formed and covers every door")
    func corpusIsWellFormed() throws {
        let cases = try HostileCase.load()
        #expect(cases.count >= 30)
        #expect(Set(cases.map(\.name)).count == cases.count, "case names must be unique")
        for door in HostileCase.Door.allCases {
            #expect(cases.filter { $0.expect[door] != nil }.count >= 30, "\(door) has fewer than 30 cases")
        }
        for hostile in cases {
            for door in hostile.expect.keys {
                #expect(hostile.clientOrderId(at: door).utf8.count <= 128)
            }
            if hostile.payloadBytes != nil {
                #expect(hostile.expect[.websocket].map { $0 == .rejected(reason: "binary") } ?? true, "\(hostile.name): bytes travel over the WebSocket as a binary message")
            }
        }
        #expect(HostileCase.expand("a{{repeat:3:2:}}}}b{{id}}{{user}}", id: "I", user: "U") == "a}}}}}}bIU")
    }

    /// What a door saw of one case, for the failure message.
    struct Finding: Sendable, CustomStringConvertible {
        var name: String
        var door: HostileCase.Door
        var problem: String
        var description: String { "\(name) [\(door)]: \(problem)" }
    }

    /// What the test's consumers read.
    final class Collected: Sendable {
        let updates = Mutex<[Update]>([])
        let letters = Mutex<[KafkaMessage]>([])
    }

    /// An update read from order-updates.
    struct Update: Sendable {
        var userId: String
        var clientOrderId: String
        var status: String
        var cumulativeQuantity: Int
        var leavesQuantity: Int
        var reason: String? = nil
        var batchId: String? = nil
        var fillId: String? = nil
        var baggage: String? = nil
        var traceparent: String? = nil
        var tracestate: String? = nil
    }

    @Test("every hostile input is refused with its reason, dead-lettered untouched, or processed; nothing dies; later orders fill")
    func hostileCorpusAtBothDoors() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let cases = try HostileCase.load()
        let collector = try await OTLPCollector.start()
        let kafkaPort = freePort(), gatewayPort = freePort(), exchangePort = freePort(), metricsPort = freePort()
        let dataDirectory = NSTemporaryDirectory() + "ordertrace-hostile-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let up = try UpProcess(
            arguments: [
                "--kafka-port", String(kafkaPort), "--gateway-port", String(gatewayPort), "--exchange-port", String(exchangePort),
                "--metrics-port", String(metricsPort), "--data-dir", dataDirectory, "--topics-dir", repositoryRoot.appendingPathComponent("topics").path,
            ],
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint.replacingOccurrences(of: "/v1/traces", with: ""),
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
                "OTEL_BSP_SCHEDULE_DELAY": "200",
                "LOG_LEVEL": "warning",
            ])
        var stopped = false
        defer { if !stopped { up.process.terminate() } }
        let healthy = await eventually(timeout: .seconds(90)) { await httpStatus("http://127.0.0.1:\(gatewayPort)/health") == 200 }
        try #require(healthy, "the gateway never became healthy:\n\(up.log)")

        let brokers = "127.0.0.1:\(kafkaPort)"
        let collected = Collected()
        let updatesConsumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(kafka: KafkaConfiguration(brokers: [brokers]), groupID: uniqueName("hostile-updates"), topics: ["order-updates"]),
            logger: testLogger)
        let deadLettersConsumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(kafka: KafkaConfiguration(brokers: [brokers]), groupID: uniqueName("hostile-dead-letters"), topics: ["dead-letters"]),
            logger: testLogger)
        let polling = [Task { try await updatesConsumer.run() }, Task { try await deadLettersConsumer.run() }]
        let reading = [
            Task {
                for await batch in updatesConsumer.batches() {
                    let read = batch.compactMap { message -> Update? in
                        guard let object = try? JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any] else { return nil }
                        return Update(
                            userId: object["userId"] as? String ?? "", clientOrderId: object["clientOrderId"] as? String ?? "",
                            status: object["status"] as? String ?? "", cumulativeQuantity: (object["cumulativeQuantity"] as? NSNumber)?.intValue ?? -1,
                            leavesQuantity: (object["leavesQuantity"] as? NSNumber)?.intValue ?? -1, reason: object["reason"] as? String,
                            batchId: object["batchId"] as? String, fillId: object["fillId"] as? String,
                            baggage: message.headers.string("baggage"), traceparent: message.headers.string("traceparent"),
                            tracestate: message.headers.string("tracestate"))
                    }
                    collected.updates.withLock { $0 += read }
                }
            },
            Task {
                for await batch in deadLettersConsumer.batches() {
                    collected.letters.withLock { $0 += batch }
                }
            },
        ]
        defer {
            for task in polling { task.cancel() }
            for task in reading { task.cancel() }
        }

        var findings: [Finding] = []
        var tried: [HostileCase.Door: Int] = [:]

        // The WebSocket door: one connection per case (its headers are the upgrade's).
        for hostile in cases {
            guard let outcome = hostile.expect[.websocket] else { continue }
            let problem = await Self.sendOverWebSocket(hostile, outcome: outcome, port: gatewayPort)
            tried[.websocket, default: 0] += hostile.sendTimes
            if let problem { findings.append(Finding(name: hostile.name, door: .websocket, problem: problem)) }
        }

        // The POST door.
        for hostile in cases {
            guard let outcome = hostile.expect[.post] else { continue }
            let door = HostileCase.Door.post
            for _ in 0..<hostile.sendTimes {
                tried[.post, default: 0] += 1
                let headers = [("Authorization", "Bearer \(door.token)"), ("Content-Type", "application/json")] + hostile.expandedHeaders(at: door)
                let response: RawHTTPResponse
                do {
                    response = try await rawHTTPPost(port: gatewayPort, path: "/v1/orders", headers: headers, body: hostile.payload(at: door))
                } catch {
                    findings.append(Finding(name: hostile.name, door: door, problem: "no answer: \(error)"))
                    continue
                }
                switch outcome {
                case .rejected(let reason):
                    if !(400..<500).contains(response.status) || !response.body.contains(reason) || !response.body.contains("\"rejected\"") {
                        findings.append(Finding(name: hostile.name, door: door, problem: "expected a 4xx rejection naming '\(reason)', got \(response.status) \(response.body.prefix(300))"))
                    }
                case .processed:
                    if response.status != 202 {
                        findings.append(Finding(name: hostile.name, door: door, problem: "expected 202, got \(response.status) \(response.body.prefix(300))"))
                    }
                case .deadLetter:
                    findings.append(Finding(name: hostile.name, door: door, problem: "the POST door has no dead letters"))
                }
            }
        }

        // The Kafka door: records straight into client-orders, each with a `corpus.case` header that
        // its dead letter keeps. Records that repeat a header are written with kcat.
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: KafkaConfiguration(brokers: [brokers])), logger: testLogger)
        let kcat = executableOnPath("kcat")
        for hostile in cases where hostile.expect[.kafka] != nil {
            let door = HostileCase.Door.kafka
            let headers = [(name: "corpus.case", value: hostile.name)] + hostile.expandedHeaders(at: door)
            for _ in 0..<hostile.sendTimes {
                tried[.kafka, default: 0] += 1
                if hostile.repeatsAHeader {
                    guard let kcat else {
                        findings.append(Finding(name: hostile.name, door: door, problem: "kcat is not installed: cannot write repeated headers"))
                        continue
                    }
                    let file = NSTemporaryDirectory() + "hostile-\(UInt32.random(in: 0...UInt32.max)).json"
                    try Data(hostile.payload(at: door)).write(to: URL(fileURLWithPath: file))
                    defer { try? FileManager.default.removeItem(atPath: file) }
                    let arguments = ["-P", "-b", brokers, "-t", "client-orders", "-k", "AAPL"] + headers.flatMap { ["-H", "\($0.name)=\($0.value)"] } + [file]
                    let result = try await offThePool { try runToEnd(kcat, arguments) }
                    if result.status != 0 { findings.append(Finding(name: hostile.name, door: door, problem: "kcat failed: \(result.output)")) }
                } else {
                    var recordHeaders = KafkaHeaders()
                    for header in headers { recordHeaders.set(header.name, header.value) }
                    try await producer.send(KafkaProducerRecord(topic: "client-orders", key: "AAPL", value: hostile.payload(at: door), headers: recordHeaders))
                }
            }
        }
        await producer.close()
        print("hostile corpus: \(cases.count) cases; inputs tried: websocket \(tried[.websocket, default: 0]), post \(tried[.post, default: 0]), kafka \(tried[.kafka, default: 0]), total \(tried.values.reduce(0, +))")

        // What must come of them: every processed order filled, every readable Kafka order rejected
        // with its reason, every malformed record dead-lettered.
        func filled(_ user: String, _ id: String) -> Bool {
            collected.updates.withLock { $0.contains { $0.userId == user && $0.clientOrderId == id && $0.status == "filled" } }
        }
        var processed: [(HostileCase, HostileCase.Door)] = []
        var kafkaRejected: [(HostileCase, String)] = []
        var kafkaDeadLettered: [(HostileCase, String)] = []
        for hostile in cases {
            for (door, outcome) in hostile.expect {
                switch outcome {
                case .processed: processed.append((hostile, door))
                case .rejected(let reason) where door == .kafka: kafkaRejected.append((hostile, reason))
                case .deadLetter(let reason): kafkaDeadLettered.append((hostile, reason))
                default: break
                }
            }
        }
        func deadLetters(of name: String) -> [KafkaMessage] {
            collected.letters.withLock { $0.filter { $0.headers.string("corpus.case") == name } }
        }
        let settled = await eventually(timeout: .seconds(120)) {
            processed.allSatisfy { filled($0.1.user, $0.0.clientOrderId(at: $0.1)) }
                && kafkaRejected.allSatisfy { hostile, _ in
                    collected.updates.withLock { $0.contains { $0.userId == "carol" && $0.clientOrderId == hostile.clientOrderId(at: .kafka) && $0.status == "rejected" } }
                }
                && kafkaDeadLettered.allSatisfy { !deadLetters(of: $0.0.name).isEmpty }
        }
        if !settled { findings.append(Finding(name: "(all)", door: .kafka, problem: "not every case reached its outcome within 120 s")) }

        for (hostile, door) in processed where !filled(door.user, hostile.clientOrderId(at: door)) {
            let seen = collected.updates.withLock { $0.filter { $0.clientOrderId == hostile.clientOrderId(at: door) }.map { "\($0.status) \($0.reason ?? "")" } }
            findings.append(Finding(name: hostile.name, door: door, problem: "never filled; updates: \(seen)"))
        }
        for (hostile, reason) in kafkaRejected {
            let id = hostile.clientOrderId(at: .kafka)
            let rejections = collected.updates.withLock { $0.filter { $0.userId == "carol" && $0.clientOrderId == id && $0.status == "rejected" } }
            if !rejections.contains(where: { $0.reason?.contains(reason) == true }) {
                findings.append(Finding(name: hostile.name, door: .kafka, problem: "no rejected update naming '\(reason)': \(rejections.map { $0.reason ?? "" })"))
            }
        }
        for (hostile, reason) in kafkaDeadLettered {
            let letters = deadLetters(of: hostile.name)
            // Kafka is at-least-once: a rebalance may dead-letter a record a second time, never
            // more, and every copy names the same source record.
            guard (1...2).contains(letters.count), let letter = letters.first,
                Set(letters.map { $0.headers.string("source.offset") ?? "" }).count == 1
            else {
                findings.append(Finding(name: hostile.name, door: .kafka, problem: "expected one dead letter, found \(letters.count)"))
                continue
            }
            if letter.value != hostile.payload(at: .kafka) {
                findings.append(Finding(name: hostile.name, door: .kafka, problem: "the dead letter's value is not the record's bytes (\(letter.value.count) vs \(hostile.payload(at: .kafka).count) bytes)"))
            }
            if letter.keyString != "AAPL" { findings.append(Finding(name: hostile.name, door: .kafka, problem: "the dead letter's key is \(letter.keyString ?? "nil")")) }
            let message = letter.headers.string("error.message") ?? ""
            if !message.contains(reason) || (letter.headers.string("error.type") ?? "").isEmpty {
                findings.append(Finding(name: hostile.name, door: .kafka, problem: "error headers do not name '\(reason)': type \(letter.headers.string("error.type") ?? "none"), message \(message.prefix(200))"))
            }
            if letter.headers.string("source.topic") != "client-orders" || Int(letter.headers.string("source.offset") ?? "") == nil
                || Int(letter.headers.string("source.partition") ?? "") == nil
            {
                findings.append(Finding(name: hostile.name, door: .kafka, problem: "source headers missing: \(letter.headers.map { $0.key })"))
            }
            for header in hostile.expandedHeaders(at: .kafka) where letter.headers.string(header.name) == nil {
                findings.append(Finding(name: hostile.name, door: .kafka, problem: "the dead letter lost the original header \(header.name)"))
            }
        }
        // Nothing else was dead-lettered (a record handled again and again would show here).
        let expectedLetters = Set(kafkaDeadLettered.map(\.0.name))
        for letter in collected.letters.withLock({ $0 }) where !expectedLetters.contains(letter.headers.string("corpus.case") ?? "") {
            findings.append(Finding(name: letter.headers.string("corpus.case") ?? "?", door: .kafka, problem: "unexpected dead letter: \(letter.headers.string("error.message") ?? "")"))
        }

        // Orders sent after the whole corpus are filled.
        let after = #"{"clientOrderId":"after-{{door}}","userId":"{{user}}","symbol":"MSFT","side":"sell","quantity":7,"orderType":"market"}"#
        func afterOrder(_ door: HostileCase.Door) -> [UInt8] {
            Array(after.replacingOccurrences(of: "{{door}}", with: door.short).replacingOccurrences(of: "{{user}}", with: door.user).utf8)
        }
        let afterCase = HostileCase(name: "after", note: "", payloadText: String(decoding: afterOrder(.websocket), as: UTF8.self), payloadBytes: nil, headers: [], sendTimes: 1, expect: [:])
        if let problem = await Self.sendOverWebSocket(afterCase, outcome: .processed, port: gatewayPort, clientOrderId: "after-ws") {
            findings.append(Finding(name: "after", door: .websocket, problem: problem))
        }
        do {
            let posted = try await rawHTTPPost(
                port: gatewayPort, path: "/v1/orders", headers: [("Authorization", "Bearer demo-bob")], body: afterOrder(.post))
            if posted.status != 202 { findings.append(Finding(name: "after", door: .post, problem: "\(posted.status) \(posted.body)")) }
        } catch {
            findings.append(Finding(name: "after", door: .post, problem: "no answer: \(error)"))
        }
        let afterProducer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: KafkaConfiguration(brokers: [brokers])), logger: testLogger)
        try await afterProducer.send(KafkaProducerRecord(topic: "client-orders", key: "MSFT", value: afterOrder(.kafka)))
        await afterProducer.close()
        let afterFilled = await eventually(timeout: .seconds(90)) {
            HostileCase.Door.allCases.allSatisfy { filled($0.user, "after-\($0.short)") }
        }
        #expect(afterFilled, "orders sent after the corpus were not all filled: \(collected.updates.withLock { $0.filter { $0.clientOrderId.hasPrefix("after-") }.map { "\($0.clientOrderId) \($0.status)" } })")

        // No order executed twice: one batch and one filling fill per order (a record delivered
        // twice repeats its ids), never more than its quantity.
        let everyUpdate = collected.updates.withLock { $0 }
        var batches: [String: Set<String>] = [:]
        var filledBy: [String: Set<String>] = [:]
        for update in everyUpdate {
            let order = "\(update.userId)/\(update.clientOrderId)"
            if let batchId = update.batchId { batches[order, default: []].insert(batchId) }
            if update.status == "filled" { filledBy[order, default: []].insert(update.fillId ?? "") }
            if update.cumulativeQuantity > 0 && update.leavesQuantity >= 0 && update.cumulativeQuantity + update.leavesQuantity != (update.clientOrderId.hasPrefix("after-") ? 7 : 3) {
                findings.append(Finding(name: update.clientOrderId, door: .kafka, problem: "cumulative \(update.cumulativeQuantity) + leaves \(update.leavesQuantity) is not the order's quantity"))
            }
        }
        for (order, fills) in filledBy where fills.count > 1 {
            findings.append(Finding(name: order, door: .kafka, problem: "filled \(fills.count) times: \(fills.sorted())"))
        }
        for (order, ids) in batches where ids.count > 1 {
            findings.append(Finding(name: order, door: .kafka, problem: "in \(ids.count) batches: \(ids.sorted())"))
        }
        // What hostile headers left in the updates' headers: within the W3C limits, a valid
        // context, and none of the business ids a client tried to forge.
        var forgedIDs: [String] = []
        for update in everyUpdate where update.clientOrderId.hasPrefix("hostile-") {
            let baggage = update.baggage ?? ""
            if baggage.utf8.count > 8_192 {
                findings.append(Finding(name: update.clientOrderId, door: .kafka, problem: "\(update.status) update carries baggage of \(baggage.utf8.count) bytes"))
            }
            if baggage.contains("mallory") || baggage.contains("FORGED") {
                forgedIDs.append("\(update.clientOrderId) \(update.status): \(baggage.prefix(300))")
            }
            if update.traceparent?.utf8.count != 55 || (update.tracestate?.utf8.count ?? 0) > 512 {
                findings.append(Finding(name: update.clientOrderId, door: .kafka, problem: "\(update.status) update's context: traceparent \(update.traceparent ?? "none"), tracestate of \(update.tracestate?.utf8.count ?? 0) bytes"))
            }
        }
        // A client-orders record's baggage cannot claim business ids: the order manager drops
        // them and sets the order's own.
        #expect(forgedIDs.isEmpty, "\(forgedIDs.count) updates carry forged business ids:\n\(forgedIDs.joined(separator: "\n"))")

        // Still alive: the supervisor stops everything when any component exits.
        #expect(up.process.isRunning, "ordertrace up is no longer running:\n\(up.log)")
        #expect(await httpStatus("http://127.0.0.1:\(gatewayPort)/health") == 200)
        #expect(findings.isEmpty, "\(findings.count) findings:\n\(findings.map(\.description).joined(separator: "\n"))\n\(up.log)")

        let status = await up.stop()
        stopped = true
        #expect(status == 0, "ordertrace up did not stop cleanly:\n\(up.log)")
        await collector.stop()

        // The traces: a Kafka record's usable traceparent is continued; without one the order
        // manager starts the order's trace and says why. At the gateway every order is a new root,
        // under the token's user whatever the baggage claimed.
        let spans = collector.spansWithService.map { Span($0.span, service: $0.service) }
        var traceFindings: [String] = []
        for hostile in cases {
            if hostile.expect[.kafka] == .processed {
                // The order's processing span, and the span it hangs under (found by id: the
                // business ids on that span come from the record's baggage).
                let id = hostile.clientOrderId(at: .kafka)
                let processing = spans.filter { $0.service == "ordertrace-order-manager" && $0.name == "order_manager_processing" && $0.attributes["client.order_id"] == id }
                let parents = processing.compactMap { child in spans.first { $0.spanID == child.parentSpanID && $0.traceID == child.traceID } }
                if processing.isEmpty || parents.count != processing.count {
                    traceFindings.append("\(hostile.name) [kafka]: \(processing.count) order_manager_processing spans, \(parents.count) of their parents exported")
                } else if let parent = hostile.kafkaParentTraceId {
                    if !parents.allSatisfy({ $0.name == "process client-orders" && $0.kind == "CONSUMER" && $0.traceID == parent }) {
                        traceFindings.append("\(hostile.name) [kafka]: the order's trace does not continue \(parent): \(parents.map { "\($0.name) \($0.traceID)" })")
                    }
                } else if !parents.allSatisfy({
                    $0.name == "client_order_received" && $0.kind == "CONSUMER" && $0.parentSpanID.isEmpty
                        && !($0.attributes["ordertrace.trace_context.problem"] ?? "").isEmpty
                }) {
                    traceFindings.append("\(hostile.name) [kafka]: not a new client_order_received root that says why: \(parents.map { "\($0.name) \($0.kind) \($0.attributes)" })")
                }
            }
            if hostile.expect[.post] == .processed {
                let id = hostile.clientOrderId(at: .post)
                let received = spans.filter { $0.name == "client_order_received" && $0.attributes["client.order_id"] == id }
                if received.isEmpty || !received.allSatisfy({ $0.service == "ordertrace-gateway" && $0.parentSpanID.isEmpty && $0.attributes["user.id"] == "bob" }) {
                    traceFindings.append("\(hostile.name) [post]: client_order_received: \(received.map { "\($0.service) parent \($0.parentSpanID) user \($0.attributes["user.id"] ?? "none")" })")
                }
            }
        }
        #expect(traceFindings.isEmpty, "\(traceFindings.count) trace findings:\n\(traceFindings.joined(separator: "\n"))")
        // Business ids that a client-orders record's baggage claims become no span's attributes,
        // so a search by them cannot find another user's order.
        let forgedSpans = spans.filter { $0.attributes.values.contains { $0.contains("mallory") || $0.contains("FORGED") } }
        #expect(forgedSpans.isEmpty, "\(forgedSpans.count) spans carry forged business ids:\n\(forgedSpans.map { "\($0.service) \($0.name) \($0.attributes)" }.joined(separator: "\n"))")
    }

    /// Sends one case over a WebSocket of its door's user (the case's headers on the upgrade) and
    /// checks the reply: a rejection naming the reason, or for a processed order an update of it
    /// that is not a rejection. Returns what went wrong, or `nil`.
    static func sendOverWebSocket(_ hostile: HostileCase, outcome: HostileCase.Outcome, port: Int, clientOrderId: String? = nil) async -> String? {
        let door = HostileCase.Door.websocket
        let id = clientOrderId ?? hostile.clientOrderId(at: door)
        let payload = hostile.payload(at: door)
        let configuration = WebSocketClientConfiguration(
            additionalHeaders: hostile.expandedHeaders(at: door), maxMessageSize: 1 << 20, connectTimeout: .seconds(60))
        do {
            return try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/v1/orders?access_token=\(door.token)", configuration: configuration) { inbound, outbound in
                for _ in 0..<hostile.sendTimes {
                    if hostile.payloadBytes != nil {
                        try await outbound.write(.binary(ByteBuffer(bytes: payload)))
                    } else {
                        try await outbound.write(.text(String(decoding: payload, as: UTF8.self)))
                    }
                }
                let watchdog = Task {
                    try await Task.sleep(for: .seconds(60))
                    try await outbound.close(.normalClosure, reason: "timeout")
                }
                defer { watchdog.cancel() }
                for try await message in inbound {
                    guard case .text(let text) = message,
                        let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
                    else { continue }
                    let status = object["status"] as? String ?? ""
                    let reason = object["reason"] as? String ?? ""
                    switch outcome {
                    case .rejected(let expected):
                        guard status == "rejected" else { continue }
                        return reason.contains(expected) ? nil : "rejected, but the reason does not name '\(expected)': \(reason.prefix(300))"
                    case .processed:
                        guard object["clientOrderId"] as? String == id || status == "rejected" else { continue }
                        return status == "rejected" ? "rejected: \(reason.prefix(300))" : nil
                    case .deadLetter:
                        return "the WebSocket door has no dead letters"
                    }
                }
                return "no reply within 60 s (close: \(String(describing: inbound.closeFrame)))"
            }
        } catch {
            return "the WebSocket failed: \(error)"
        }
    }
}
