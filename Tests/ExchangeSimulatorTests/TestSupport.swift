import ExchangeProtocol
import ExchangeSimulator

/// A configuration with one symbol (AAPL at 190), a still reference price and the given liquidity, so
/// expected executions can be worked out by hand.
func handWorkedConfiguration(
    liquidity: ExchangeSimulatorConfiguration.Liquidity = .none,
    seed: UInt64 = 1
) -> ExchangeSimulatorConfiguration {
    var configuration = ExchangeSimulatorConfiguration(seed: seed)
    configuration.instruments = [ExchangeInstrument(symbol: "AAPL", referencePrice: price("190"))]
    configuration.walk.maxStepTicks = 0
    configuration.liquidity = liquidity
    return configuration
}

/// A price from its decimal text; traps on a typo in a test.
func price(_ text: String) -> ExchangePrice {
    guard let price = ExchangePrice(text) else { fatalError("bad price literal \(text)") }
    return price
}

func limit(_ id: String, _ side: ExchangeSide, _ quantity: Int64, _ limitPrice: String, symbol: String = "AAPL")
    -> ExchangeClientMessage
{
    .newOrder(
        ExchangeNewOrder(orderId: id, symbol: symbol, side: side, quantity: quantity, orderType: .limit(price(limitPrice)))
    )
}

func market(_ id: String, _ side: ExchangeSide, _ quantity: Int64, symbol: String = "AAPL") -> ExchangeClientMessage {
    .newOrder(ExchangeNewOrder(orderId: id, symbol: symbol, side: side, quantity: quantity, orderType: .market))
}

/// One line per message, compact enough to compare whole sequences worked out by hand.
func describe(_ messages: [ExchangeMessage]) -> [String] {
    messages.map(describe)
}

func describe(_ message: ExchangeMessage) -> String {
    switch message {
    case .ack(let ack):
        return "ack \(ack.orderId)"
    case .execution(let e):
        return "\(e.executionId) \(e.orderId) \(e.quantity)@\(e.price) cum=\(e.cumulativeQuantity) "
            + "leaves=\(e.leavesQuantity) \(e.status.rawValue)"
    case .reject(let reject):
        return "reject \(reject.orderId) \(reject.code)"
    case .canceled(let canceled):
        return "canceled \(canceled.orderId) cum=\(canceled.cumulativeQuantity) "
            + "canceled=\(canceled.canceledQuantity) \(canceled.reason.rawValue)"
    case .cancelReject(let cancelReject):
        return "cancel_reject \(cancelReject.orderId)"
    case .error(let error):
        return "error \(error.code)"
    case .orderStatus(let status):
        return "order_status \(status.orderId) \(status.status.rawValue) cum=\(status.cumulativeQuantity) leaves=\(status.leavesQuantity)"
    }
}

/// "price x quantity" per level, best first.
func describe(_ levels: [ExchangeBookDepth.Level]) -> [String] {
    levels.map { "\($0.quantity)@\($0.price)" }
}

/// The message bytes of a JSON text.
func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

/// The tests' own seeded generator (xorshift64*), independent of the simulator's, so scripts of inputs are
/// the same whatever seed the simulator gets.
struct ScriptRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed == 0 ? 0x9e37_79b9_7f4a_7c15 : seed
    }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_f491_4f6c_dd1d
    }

    /// A uniform value in `range` (modulo bias is irrelevant for test scripts).
    mutating func int(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// True with probability `percent`/100.
    mutating func chance(_ percent: UInt64) -> Bool {
        next() % 100 < percent
    }
}
