import ExchangeSimServer
import ExchangeProtocol
import ExchangeSimulator
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import WebSocketClient

/// Starts the server on a free port for the duration of `body`.
func withServer<T: Sendable>(liquidityLevels: Int = ExchangeSimServerConfiguration().liquidityLevels, _ body: @Sendable (Int) async throws -> T) async throws -> T {
    let port = Mutex<Int?>(nil)
    let server = ExchangeSimServer(
        configuration: .init(port: 0, seed: 7, tickInterval: .milliseconds(10), liquidityLevels: liquidityLevels),
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        onListening: { bound in port.withLock { $0 = bound } })
    let group = ServiceGroup(services: [server], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    let running = Task { try await group.run() }
    defer { running.cancel() }
    var bound: Int?
    for _ in 0..<500 where bound == nil {
        bound = port.withLock { $0 }
        if bound == nil { try await Task.sleep(for: .milliseconds(10)) }
    }
    let result = try await body(try #require(bound))
    await group.triggerGracefulShutdown()
    return result
}

/// Sends `lines` over one connection and collects replies until `done` says so (or 10 s pass).
private func exchange(port: Int, send lines: [String], until done: @escaping @Sendable ([ExchangeMessage]) -> Bool) async throws -> [ExchangeMessage] {
    let received = Mutex<[ExchangeMessage]>([])
    try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/", configuration: .init(maxMessageSize: 1 << 16, connectTimeout: .seconds(60))) { inbound, outbound in
        for line in lines { try await outbound.write(.text(line)) }
        let deadline = ContinuousClock.now + .seconds(10)
        for try await message in inbound {
            guard case .text(let text) = message else { continue }
            let decoded = try ExchangeMessage.decode(Array(text.utf8))
            let all = received.withLock { $0.append(decoded); return $0 }
            if done(all) || ContinuousClock.now > deadline { break }
        }
    }
    return received.withLock { $0 }
}

/// Whether a reply ends an order: it was canceled, or its last execution left nothing.
private func ended(_ message: ExchangeMessage) -> Bool {
    if case .canceled = message { return true }
    if case .execution(let execution) = message { return execution.leavesQuantity == 0 }
    return false
}

@Suite("The exchange simulator over WebSocket", .timeLimit(.minutes(1)))
struct ExchangeSimServerTests {
    @Test("a market order is acknowledged first, then executed until done; execution ids are unique")
    func orderIsFilled() async throws {
        let replies = try await withServer { port in
            try await exchange(
                port: port,
                send: [#"{"type":"new_order","orderId":"x-1","symbol":"AAPL","side":"buy","quantity":2500,"orderType":"market"}"#]
            ) { messages in messages.contains(where: ended) }
        }
        guard case .ack(let ack)? = replies.first else {
            Issue.record("first reply is not an ack: \(replies)")
            return
        }
        #expect(ack.orderId == "x-1")
        let executions = replies.compactMap { if case .execution(let e) = $0 { return e } else { return nil } }
        #expect(!executions.isEmpty)
        #expect(executions.map(\.quantity).reduce(0, +) == executions.last?.cumulativeQuantity)
        #expect(Set(executions.map(\.executionId)).count == executions.count)
    }

    @Test("unreadable input gets an error reply and the connection goes on serving")
    func malformedInput() async throws {
        let replies = try await withServer { port in
            try await exchange(
                port: port,
                send: [
                    "not json",
                    #"{"type":"new_order","orderId":"x-2","symbol":"AAPL","side":"hold","quantity":1,"orderType":"market"}"#,
                    #"{"type":"new_order","orderId":"x-3","symbol":"NOPE","side":"buy","quantity":1,"orderType":"market"}"#,
                ]
            ) { messages in messages.count >= 3 }
        }
        guard replies.count >= 3 else {
            Issue.record("too few replies: \(replies)")
            return
        }
        if case .error = replies[0] {} else { Issue.record("expected an error for non-JSON, got \(replies[0])") }
        if case .error(let error) = replies[1] { #expect(error.orderId == "x-2") } else { Issue.record("expected an error for side 'hold', got \(replies[1])") }
        if case .reject(let reject) = replies[2] { #expect(reject.orderId == "x-3") } else { Issue.record("expected a reject for an unknown symbol, got \(replies[2])") }
    }

    @Test(
        "the liquidity levels decide how much one market order can take: 5 levels of at most 1,000 cannot fill 5,001 (the rest is canceled), 50 levels of at least 100 fill 5,000",
        arguments: [(levels: 5, quantity: 5_001, fills: false), (levels: 50, quantity: 5_000, fills: true)])
    func liquidityLevels(_ setting: (levels: Int, quantity: Int, fills: Bool)) async throws {
        let replies = try await withServer(liquidityLevels: setting.levels) { port in
            try await exchange(
                port: port,
                send: [#"{"type":"new_order","orderId":"d-1","symbol":"MSFT","side":"sell","quantity":\#(setting.quantity),"orderType":"market"}"#]
            ) { messages in messages.contains(where: ended) }
        }
        let executed = replies.compactMap { if case .execution(let e) = $0 { return e.quantity } else { return nil } }.reduce(0, +)
        let canceled = replies.compactMap { if case .canceled(let c) = $0 { return c } else { return nil } }
        if setting.fills {
            #expect(executed == Int64(setting.quantity))
            #expect(canceled.isEmpty)
        } else {
            #expect(executed > 0 && executed < Int64(setting.quantity))
            #expect(canceled.map(\.canceledQuantity) == [Int64(setting.quantity) - executed])
        }
    }
}
