import Foundation
import Synchronization
import Testing
import WebSocketClient

/// One reply as plain JSON, so these tests read any message type the exchange sends.
private typealias Reply = [String: Any]

private func parse(_ text: String) -> Reply {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? Reply ?? [:]
}

private func int(_ value: Any?) -> Int64 { (value as? NSNumber)?.int64Value ?? -1 }

/// Opens one connection to `path`, sends `lines`, and collects the raw replies until `done` says so
/// (or 60 s pass); then closes the connection.
private func converse(port: Int, path: String, send lines: [String], until done: @escaping @Sendable ([String]) -> Bool) async throws -> [String] {
    let received = Mutex<[String]>([])
    try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)\(path)", configuration: .init(maxMessageSize: 1 << 16, connectTimeout: .seconds(60))) { inbound, outbound in
        for line in lines { try await outbound.write(.text(line)) }
        let deadline = ContinuousClock.now + .seconds(60)
        for try await message in inbound {
            guard case .text(let text) = message else { continue }
            let all = received.withLock { $0.append(text); return $0 }
            if done(all) || ContinuousClock.now > deadline { break }
        }
    }
    return received.withLock { $0 }
}

/// Polls `condition` every 20 ms for up to 60 s.
private func poll(_ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

private let resting = #"{"type":"new_order","orderId":"rest-1","symbol":"AAPL","side":"buy","quantity":1000000,"orderType":"limit","limitPrice":191}"#
private let market = #"{"type":"new_order","orderId":"mkt-1","symbol":"AAPL","side":"buy","quantity":100,"orderType":"market"}"#

private func executions(_ replies: [Reply], of orderId: String) -> [Reply] {
    replies.filter { $0["type"] as? String == "execution" && $0["orderId"] as? String == orderId }
}

@Suite("Named exchange sessions outlive their connections", .timeLimit(.minutes(3)))
struct NamedSessionTests {
    @Test("an order id sent again on a new connection of the same session is not executed again; the reply is its state")
    func sameIdOnNewConnection() async throws {
        try await withServer { port in
            let path = "/?session=gateway-a"
            // First connection: a market order that fills, and a large limit order that partly fills and rests.
            let first = try await converse(port: port, path: path, send: [market, resting]) { texts in
                let replies = texts.map(parse)
                let marketDone = executions(replies, of: "mkt-1").contains { int($0["leavesQuantity"]) == 0 }
                return marketDone && executions(replies, of: "rest-1").count >= 2
            }.map(parse)
            let firstRest = executions(first, of: "rest-1")
            #expect(first.filter { $0["type"] as? String == "ack" }.count == 2)
            #expect(!firstRest.isEmpty)

            // Second connection, same session: both orders again, with their original ids and quantities.
            let second = try await converse(port: port, path: path, send: [market, resting]) { texts in
                texts.map(parse).filter { $0["type"] as? String == "order_status" }.count >= 2
                    || texts.map(parse).contains { $0["type"] as? String == "ack" }
            }.map(parse)
            #expect(!second.contains { $0["type"] as? String == "ack" }, "an order was placed again: \(second)")
            #expect(!second.contains { $0["type"] as? String == "reject" }, "\(second)")
            let statuses = Dictionary(
                second.filter { $0["type"] as? String == "order_status" }.map { ($0["orderId"] as? String ?? "", $0) },
                uniquingKeysWith: { first, _ in first })

            let marketStatus = try #require(statuses["mkt-1"], "no order_status for mkt-1: \(second)")
            #expect(marketStatus["status"] as? String == "filled")
            #expect(int(marketStatus["cumulativeQuantity"]) == 100)
            #expect(int(marketStatus["leavesQuantity"]) == 0)
            let marketExecutions = (marketStatus["executions"] as? [Reply]) ?? []
            #expect(marketExecutions.map { int($0["quantity"]) }.reduce(0, +) == 100)
            #expect(Set(marketExecutions.compactMap { $0["executionId"] as? String }) == Set(executions(first, of: "mkt-1").compactMap { $0["executionId"] as? String }))

            let restStatus = try #require(statuses["rest-1"], "no order_status for rest-1: \(second)")
            let restExecutions = (restStatus["executions"] as? [Reply]) ?? []
            let cumulative = int(restStatus["cumulativeQuantity"])
            #expect(restStatus["status"] as? String == "partially_filled")
            #expect(cumulative + int(restStatus["leavesQuantity"]) == 1_000_000)
            #expect(restExecutions.map { int($0["quantity"]) }.reduce(0, +) == cumulative)
            // Everything the first connection saw is in the status, and the status has no execution twice.
            let statusIds = restExecutions.compactMap { $0["executionId"] as? String }
            #expect(Set(statusIds).count == statusIds.count)
            #expect(Set(firstRest.compactMap { $0["executionId"] as? String }).isSubset(of: Set(statusIds)))
            #expect(restExecutions.allSatisfy { ($0["price"] as? NSNumber) != nil })

            // Execution ids never repeat across the connections of the session.
            let allIds = (first + second).filter { $0["type"] as? String == "execution" }.compactMap { $0["executionId"] as? String }
            #expect(Set(allIds).count == allIds.count)
        }
    }

    @Test("a reconnecting client gets the later executions of the session's open orders")
    func laterExecutionsGoToTheNewConnection() async throws {
        try await withServer { port in
            let path = "/?session=gateway-b"
            let first = try await converse(port: port, path: path, send: [resting]) { texts in
                executions(texts.map(parse), of: "rest-1").count >= 1
            }.map(parse)
            let seen = Set(executions(first, of: "rest-1").compactMap { $0["executionId"] as? String })
            // No message at all on the second connection: the session's resting order keeps trading on it.
            let second = try await converse(port: port, path: path, send: []) { texts in
                executions(texts.map(parse), of: "rest-1").count >= 2
            }.map(parse)
            let later = executions(second, of: "rest-1")
            #expect(later.count >= 2)
            #expect(Set(later.compactMap { $0["executionId"] as? String }).isDisjoint(with: seen))
            let lastFirst = int(executions(first, of: "rest-1").last?["cumulativeQuantity"])
            #expect(later.allSatisfy { int($0["cumulativeQuantity"]) > lastFirst })
        }
    }

    @Test("connections with the same session name share it: one that repeats another's order gets its state and its later executions; the other stays open and gets none of them")
    func sharedSession() async throws {
        try await withServer { port in
            let url = "ws://127.0.0.1:\(port)/?session=gateway-c"
            let firstReplies = Mutex<[String]>([])
            let firstEnded = Mutex(false)
            let first = Task {
                try? await WebSocketClient.connect(url: url, configuration: .init(maxMessageSize: 1 << 16, connectTimeout: .seconds(60))) { inbound, outbound in
                    try await outbound.write(.text(resting))
                    for try await message in inbound {
                        if case .text(let text) = message { firstReplies.withLock { $0.append(text) } }
                    }
                }
                firstEnded.withLock { $0 = true }
            }
            defer { first.cancel() }
            #expect(await poll { firstReplies.withLock { $0 }.contains { parse($0)["type"] as? String == "ack" } })
            // The second connection sees the first one's order (the same session), and from its
            // repeat on, the order's executions come to it.
            let second = try await converse(port: port, path: "/?session=gateway-c", send: [resting]) { texts in
                let replies = texts.map(parse)
                guard let status = replies.firstIndex(where: { $0["type"] as? String == "order_status" }) else { return false }
                return executions(Array(replies[(status + 1)...]), of: "rest-1").count >= 2
            }.map(parse)
            #expect(second.contains { $0["type"] as? String == "order_status" && $0["orderId"] as? String == "rest-1" })
            let status = try #require(second.firstIndex { $0["type"] as? String == "order_status" })
            let later = Set(executions(Array(second[(status + 1)...]), of: "rest-1").compactMap { $0["executionId"] as? String })
            #expect(later.count >= 2)
            let firstExecutions = Set(executions(firstReplies.withLock { $0 }.map(parse), of: "rest-1").compactMap { $0["executionId"] as? String })
            #expect(later.isDisjoint(with: firstExecutions), "an execution went to both connections")
            #expect(!firstEnded.withLock { $0 }, "the first connection stays open")
        }
    }

    @Test("connections without a session name are sessions of their own, as before")
    func unnamedConnectionsAreSeparate() async throws {
        try await withServer { port in
            let first = try await converse(port: port, path: "/", send: [market]) { texts in
                executions(texts.map(parse), of: "mkt-1").contains { int($0["leavesQuantity"]) == 0 }
            }.map(parse)
            let second = try await converse(port: port, path: "/", send: [market]) { texts in
                executions(texts.map(parse), of: "mkt-1").contains { int($0["leavesQuantity"]) == 0 }
            }.map(parse)
            #expect(first.first?["type"] as? String == "ack")
            #expect(second.first?["type"] as? String == "ack")
        }
    }
}
