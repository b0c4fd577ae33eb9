import Foundation
import Synchronization

/// One order of the demo: how it travels, and its text.
struct DemoOrder: Sendable {
    enum Path: Sendable { case webSocket, kafka }
    var clientOrderId: String?
    var user: String
    var symbol: String
    var path: Path
    var text: String
    var summary: String
}

/// The demo's orders: a seeded stream, the same for the same seed. Eight symbols near the
/// simulated exchange's prices, both sides, 60% market and 40% limit (within 1% of the price, so
/// most trade), 70% over the WebSocket and 30% straight into Kafka; one in 25 invalid on purpose.
struct DemoOrderStream {
    static let listing: [(symbol: String, price: Double)] = [
        ("AAPL", 190), ("MSFT", 420), ("NVDA", 120), ("AMZN", 185), ("GOOG", 170), ("META", 500), ("TSLA", 250), ("JPM", 200),
    ]
    private var state: UInt64
    private var count = 0
    let run: String
    let users: [String]

    init(seed: UInt64, run: String, users: [String]) {
        state = seed
        self.run = run
        self.users = users
    }

    /// SplitMix64.
    private mutating func random() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func below(_ bound: Int) -> Int { Int(random() % UInt64(bound)) }

    mutating func next() -> DemoOrder {
        count += 1
        let id = "\(run)-\(count)"
        let user = users[below(users.count)]
        let (symbol, price) = Self.listing[below(Self.listing.count)]
        let side = below(2) == 0 ? "buy" : "sell"
        let quantity = (1 + below(30)) * 10
        let path: DemoOrder.Path = below(10) < 7 ? .webSocket : .kafka
        let userField = path == .kafka ? #""userId":"\#(user)","# : ""
        if below(25) == 0 {
            // Invalid on purpose: over the WebSocket a quantity of 0 (an error reply); into Kafka,
            // every other time a record that is not JSON (dead-lettered, no order to follow).
            if path == .kafka && below(2) == 0 {
                return DemoOrder(clientOrderId: nil, user: user, symbol: symbol, path: path, text: "demo \(id): not an order", summary: "not JSON")
            }
            let text = #"{"clientOrderId":"\#(id)",\#(userField)"symbol":"\#(symbol)","side":"\#(side)","quantity":0,"orderType":"market"}"#
            return DemoOrder(clientOrderId: id, user: user, symbol: symbol, path: path, text: text, summary: "\(symbol) \(side) 0 (invalid)")
        }
        if below(10) < 6 {
            let text = #"{"clientOrderId":"\#(id)",\#(userField)"symbol":"\#(symbol)","side":"\#(side)","quantity":\#(quantity),"orderType":"market"}"#
            return DemoOrder(clientOrderId: id, user: user, symbol: symbol, path: path, text: text, summary: "\(symbol) \(side) \(quantity) market")
        }
        // Within 1% of the price, on either side of it.
        let offset = (Double(below(201)) - 100) / 10_000
        let limit = String(format: "%.2f", price * (1 + offset))
        let text = #"{"clientOrderId":"\#(id)",\#(userField)"symbol":"\#(symbol)","side":"\#(side)","quantity":\#(quantity),"orderType":"limit","limitPrice":\#(limit)}"#
        return DemoOrder(clientOrderId: id, user: user, symbol: symbol, path: path, text: text, summary: "\(symbol) \(side) \(quantity) limit \(limit)")
    }
}

/// What the demo sent and what came back on the users' sockets.
final class DemoTracker: Sendable {
    struct Example: Sendable, CustomStringConvertible {
        var clientOrderId: String
        var user: String
        var summary: String
        var status: String
        var description: String { "\(clientOrderId) (\(user), \(summary), \(status))" }
    }

    struct Summary {
        var lines: [String]
        var examples: [Example]
        var open: Int
    }

    private struct Key: Hashable {
        var user: String
        var id: String
    }

    private struct State {
        var sockets = 0
        var connectionError: String?
        var sent: [Key: (order: DemoOrder, at: ContinuousClock.Instant)] = [:]
        var order: [Key] = []
        var notJSON = 0
        var byPath: [String: Int] = [:]
        var terminal: [Key: (status: String, at: ContinuousClock.Instant)] = [:]
        /// Terminal updates that came before their order was recorded as sent.
        var early: [Key: (status: String, at: ContinuousClock.Instant)] = [:]
        var updates = 0
    }

    private let state = Mutex(State())

    func socketOpened() { state.withLock { $0.sockets += 1 } }
    func connectionFailed(_ error: String) { state.withLock { $0.connectionError = error } }
    var connectionError: String? { state.withLock { $0.connectionError } }

    func waitForSockets(_ count: Int, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (open, failed) = state.withLock { ($0.sockets, $0.connectionError != nil) }
            if open >= count { return true }
            if failed { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    func sent(_ order: DemoOrder) {
        let now = ContinuousClock.now
        state.withLock { state in
            state.byPath[order.path == .webSocket ? "WebSocket" : "Kafka", default: 0] += 1
            guard let id = order.clientOrderId else {
                state.notJSON += 1
                return
            }
            let key = Key(user: order.user, id: id)
            state.sent[key] = (order, now)
            state.order.append(key)
            if let early = state.early.removeValue(forKey: key) { state.terminal[key] = early }
        }
    }

    /// An update pushed on a socket (or the gateway's error reply).
    func heard(_ text: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let id = object["clientOrderId"] as? String, let user = object["userId"] as? String,
            let status = object["status"] as? String
        else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            state.updates += 1
            guard ["filled", "canceled", "rejected"].contains(status) else { return }
            let key = Key(user: user, id: id)
            if state.sent[key] != nil {
                if state.terminal[key] == nil { state.terminal[key] = (status, now) }
            } else {
                state.early[key] = (status, now)
            }
        }
    }

    /// Waits until every order sent has a terminal status, or `timeout`.
    func waitUntilSettled(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let open = state.withLock { $0.sent.count - $0.terminal.count }
            if open == 0 { return true }
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    func summary() -> Summary {
        state.withLock { state in
            var byStatus: [String: Int] = [:]
            var latencies: [Double] = []
            for (key, end) in state.terminal {
                byStatus[end.status, default: 0] += 1
                if let start = state.sent[key]?.at {
                    let elapsed = end.at - start
                    latencies.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                }
            }
            latencies.sort()
            func percentile(_ p: Double) -> String {
                guard !latencies.isEmpty else { return "-" }
                let value = latencies[min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)]
                return value < 1 ? String(format: "%.0f ms", value * 1000) : String(format: "%.2f s", value)
            }
            let open = state.sent.count - state.terminal.count
            var lines = [
                "demo: \(state.byPath.sorted { $0.key > $1.key }.map { "\($0.value) over \($0.key)" }.joined(separator: ", ")); "
                    + "\(state.notJSON) not JSON (to dead-letters)",
                "  ended: " + byStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    + (open > 0 ? "; NOT ENDED \(open)" : "") + " (\(state.updates) updates heard)",
                "  sent to ended (p50 / p95 / p99): \(percentile(0.5)) / \(percentile(0.95)) / \(percentile(0.99))",
            ]
            if open > 0 {
                let stuck = state.order.filter { state.terminal[$0] == nil }.prefix(5).map { "\($0.id) (\($0.user))" }
                lines.append("  not ended, e.g.: " + stuck.joined(separator: ", "))
            }
            // A few to follow: one of each ending, WebSocket and Kafka both.
            var examples: [Example] = []
            var seen: Set<String> = []
            for key in state.order {
                guard let end = state.terminal[key], let sent = state.sent[key] else { continue }
                let kind = "\(end.status)-\(sent.order.path)"
                guard !seen.contains(kind) else { continue }
                seen.insert(kind)
                let path = sent.order.path == .webSocket ? "WebSocket" : "Kafka"
                examples.append(Example(clientOrderId: key.id, user: key.user, summary: "\(sent.order.summary), via \(path)", status: end.status))
                if examples.count == 5 { break }
            }
            return Summary(lines: lines, examples: examples, open: open)
        }
    }
}
