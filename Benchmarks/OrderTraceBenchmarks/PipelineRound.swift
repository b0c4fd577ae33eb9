import Foundation
import Histogram
import OrderModel
import Synchronization

/// The orders of one round: market orders over 8 symbols, both sides; every fifth over the
/// WebSocket (20%, round robin over the demo users), the rest (80%) as records produced straight
/// into client-orders, keyed by symbol, as `kcat -P -K:` would (users k00...k15).
struct PipelineOrders {
    enum Door: Equatable { case webSocket(user: Int), kafka }

    static let symbols = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "JPM"]
    static let webSocketUsers = 3

    let prefix: String
    let count: Int

    func door(_ index: Int) -> Door {
        index % 5 == 4 ? .webSocket(user: (index / 5) % Self.webSocketUsers) : .kafka
    }

    func symbol(_ index: Int) -> String { Self.symbols[index % Self.symbols.count] }

    func clientOrderID(_ index: Int) -> String { prefix + String(index) }

    /// The order's JSON; `user` only for Kafka records (the gateway takes it from the token).
    func text(_ index: Int) -> String {
        let side = (index / Self.symbols.count) % 2 == 0 ? "buy" : "sell"
        // 1 to 10: small enough that the simulated exchange's liquidity (5 levels of 100-1,000 a
        // side, laid again every 250 ms) fills nearly all of them even at full speed.
        let quantity = 1 + index % 10
        var user = ""
        if door(index) == .kafka {
            let number = index % 16
            user = #""userId":"k\#(number < 10 ? "0" : "")\#(number)","#
        }
        return #"{"clientOrderId":"\#(clientOrderID(index))",\#(user)"symbol":"\#(symbol(index))","side":"\#(side)","quantity":\#(quantity),"orderType":"market"}"#
    }
}

/// What one round sent and what came back on order-updates, per order: times in nanoseconds
/// since the round's start.
final class RoundTracker: Sendable {
    let orders: PipelineOrders
    let start = ContinuousClock.now
    private let state: Mutex<State>

    struct State {
        var sent: [Int64]
        var accepted: [Int64]
        var batched: [Int64]
        var terminal: [Int64]
        var terminalCount = 0
        var lastTerminal: Int64 = 0
        var firstSent: Int64 = .max
        var statuses: [String: Int] = [:]
        /// Updates of this round's orders read, of every status, and batches with a member of it.
        var updateCount = 0
        var batchCount = 0
    }

    init(orders: PipelineOrders) {
        self.orders = orders
        let unset = [Int64](repeating: -1, count: orders.count)
        state = Mutex(State(sent: unset, accepted: unset, batched: unset, terminal: unset))
    }

    private func now() -> Int64 {
        let elapsed = ContinuousClock.now - start
        return elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
    }

    func markSent<Indices: Sequence<Int>>(_ indices: Indices) {
        let time = now()
        state.withLock { state in
            for index in indices where state.sent[index] < 0 {
                state.sent[index] = time
                state.firstSent = min(state.firstSent, time)
            }
        }
    }

    /// The order index of a client order id of this round, if it is one.
    func index(of clientOrderId: String) -> Int? {
        guard clientOrderId.hasPrefix(orders.prefix), let index = Int(clientOrderId.dropFirst(orders.prefix.count)), index >= 0, index < orders.count
        else { return nil }
        return index
    }

    /// Updates read from order-updates, all at the time of this call.
    func observe(_ updates: [(index: Int, status: OrderStatus)]) {
        guard !updates.isEmpty else { return }
        let time = now()
        state.withLock { state in
            state.updateCount += updates.count
            for (index, status) in updates {
                switch status {
                case .accepted: if state.accepted[index] < 0 { state.accepted[index] = time }
                case .batched, .partiallyFilled: break
                case .filled, .canceled, .rejected:
                    guard state.terminal[index] < 0 else { continue }
                    state.terminal[index] = time
                    state.terminalCount += 1
                    state.lastTerminal = max(state.lastTerminal, time)
                    state.statuses[status.rawValue, default: 0] += 1
                }
            }
        }
    }

    /// Members of batches read from the batches topic, all at the time of this call: the end of
    /// their batch window, as the reader sees it (one hop after the order manager closed the
    /// batch, as the `accepted` update is one hop after it pooled the order). `batches`: how
    /// many batches they were members of.
    func observeBatched(_ indices: [Int], batches: Int) {
        guard !indices.isEmpty else { return }
        let time = now()
        state.withLock { state in
            state.batchCount += batches
            for index in indices where state.batched[index] < 0 { state.batched[index] = time }
        }
    }

    var terminalCount: Int { state.withLock { $0.terminalCount } }

    /// Waits (polling) until every order is terminal; false when none more ended for `stall`,
    /// or as soon as `alive` says the system is gone.
    func waitUntilAllTerminal(stall: Duration, alive: () -> Bool) async -> Bool {
        var lastCount = -1
        var lastProgress = ContinuousClock.now
        while true {
            let count = terminalCount
            if count >= orders.count { return true }
            if !alive() { return false }
            if count != lastCount {
                lastCount = count
                lastProgress = .now
            } else if ContinuousClock.now - lastProgress > stall {
                return false
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Client orders per second, from the first send to the last terminal update.
    var throughput: Double {
        state.withLock { state in
            let seconds = Double(state.lastTerminal - state.firstSent) / 1e9
            return seconds > 0 ? Double(state.terminalCount) / seconds : 0
        }
    }

    var statuses: [String: Int] { state.withLock { $0.statuses } }

    /// Updates read and batches seen of this round's orders.
    var counts: (updates: Int, batches: Int) { state.withLock { ($0.updateCount, $0.batchCount) } }

    /// Latencies in microseconds: from send to terminal update (`raw`), and the same minus the
    /// time the order waited in its batch window, from its `accepted` update to its batch's
    /// record (`adjusted`, never below 0); and the three stages of that time where all three
    /// marks were seen: send to `accepted` (`intake`), the batch window (`window`), and the
    /// batch's record to the terminal update (`afterBatch`).
    func latencies() -> RoundLatencies {
        var latencies = RoundLatencies()
        state.withLock { state in
            for index in 0..<orders.count where state.sent[index] >= 0 && state.terminal[index] >= 0 {
                let total = max(0, state.terminal[index] - state.sent[index])
                var window: Int64 = 0
                if state.accepted[index] >= 0, state.batched[index] >= state.accepted[index] {
                    window = state.batched[index] - state.accepted[index]
                    latencies.intake.record(max(0, state.accepted[index] - state.sent[index]))
                    latencies.window.record(window)
                    latencies.afterBatch.record(max(0, state.terminal[index] - state.batched[index]))
                }
                latencies.raw.record(total)
                latencies.adjusted.record(max(0, total - window))
            }
        }
        return latencies
    }
}

/// The latency histograms of a paced round (microseconds; see `RoundTracker.latencies()`).
struct RoundLatencies {
    var raw = Self.histogram()
    var adjusted = Self.histogram()
    var intake = Self.histogram()
    var window = Self.histogram()
    var afterBatch = Self.histogram()

    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    mutating func add(_ other: RoundLatencies) {
        raw.add(other.raw)
        adjusted.add(other.adjusted)
        intake.add(other.intake)
        window.add(other.window)
        afterBatch.add(other.afterBatch)
    }
}

extension Histogram<UInt64> {
    /// Records a time in nanoseconds as microseconds.
    fileprivate mutating func record(_ nanoseconds: Int64) {
        _ = record(UInt64(nanoseconds / 1_000))
    }
}

/// The one line a `bench pipeline` run ends with.
enum PipelineResult {
    static func line(traced: Double, untraced: Double, p50Milliseconds: Double, p99Milliseconds: Double) -> String {
        let ratio = untraced > 0 ? traced / untraced : 0
        return String(
            format: "bench: traced=%.0f untraced=%.0f ratio=%.2f p50_ms=%.2f p99_ms=%.2f", traced, untraced, ratio, p50Milliseconds, p99Milliseconds)
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
