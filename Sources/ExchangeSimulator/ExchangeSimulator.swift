import BoundedCollections
import ExchangeProtocol
import Settings

/// One client's session with the simulated exchange: order books per symbol, simulated liquidity, and the
/// messages the client must see, in order.
///
/// The session is pure logic. It has no clock and does no I/O: a server feeds it decoded client messages
/// (``handle(_:)``, or ``handle(bytes:)`` straight from a WebSocket frame) and the passage of simulated time
/// (``tick(now:)``), and sends every returned ``ExchangeMessage`` back to the client in the order returned.
///
/// ```swift
/// var exchange = try ExchangeSimulator(configuration: .init(seed: 7))
/// exchange.handle(bytes: Array(#"{"type":"new_order","orderId":"o1","symbol":"AAPL","side":"buy","quantity":5000,"orderType":"limit","limitPrice":190.05}"#.utf8))
/// // [ack, execution (partially_filled), ...]
/// exchange.tick(now: .milliseconds(250))   // the liquidity refreshes: more executions of o1
/// ```
///
/// Determinism: sessions with equal configurations that get the same calls with the same arguments return
/// the same messages. Time only moves through `tick(now:)`; ``handle(_:)`` works at the time of the last tick.
///
/// A `new_order` whose id the session knows (open, or done and remembered) is never placed again: it gets an
/// `order_status` with the order's state and executions (or a `duplicate_order_id` reject when it is a
/// different order under a used id).
///
/// Memory is bounded: an order that is filled, canceled or rejected leaves the books at once (its id, state and
/// executions are kept, for repeated ids, up to ``ExchangeSimulatorConfiguration/orderIdMemory`` orders), and at most
/// ``ExchangeSimulatorConfiguration/maxOpenOrders`` orders rest at a time.
public struct ExchangeSimulator: Sendable {
    /// The configuration the session was created with.
    public let configuration: ExchangeSimulatorConfiguration

    /// The simulated time of the last ``tick(now:)``, from the session's start (`.zero`).
    public internal(set) var now: Duration = .zero

    var instruments: [InstrumentState]
    let instrumentIndex: [String: Int]
    /// Open orders by id. Done orders are removed at once.
    var openOrders: [String: LiveOrder] = [:]
    /// Done orders, with their executions, to answer a `new_order` that repeats their id (bounded by
    /// ``ExchangeSimulatorConfiguration/orderIdMemory``).
    var doneOrders: RecentDictionary<String, DoneOrder>
    var executionCount: UInt64 = 0
    /// How many walk steps and liquidity refreshes have happened since time zero.
    var walkSteps: Int64 = 0
    var refreshes: Int64 = 0
    let walkIntervalNanoseconds: Int64
    let refreshIntervalNanoseconds: Int64
    /// Scratch space for matching, kept to avoid an allocation per order.
    var fillBuffer: [OrderBook.Fill] = []

    /// Creates a session at simulated time zero, with the simulated liquidity already laid.
    ///
    /// - Throws: `ConfigurationError` when the configuration is invalid (see
    ///   ``ExchangeSimulatorConfiguration/validate()``).
    public init(configuration: ExchangeSimulatorConfiguration = ExchangeSimulatorConfiguration())
        throws(ConfigurationError)
    {
        try configuration.validate()
        self.configuration = configuration
        instruments = configuration.instruments.map { InstrumentState($0, seed: configuration.seed) }
        var index: [String: Int] = [:]
        for (position, instrument) in configuration.instruments.enumerated() {
            index[instrument.symbol] = position
        }
        instrumentIndex = index
        doneOrders = RecentDictionary(capacity: configuration.orderIdMemory)
        walkIntervalNanoseconds = Self.nanoseconds(configuration.walk.interval)
        refreshIntervalNanoseconds = Self.nanoseconds(configuration.liquidity.refreshInterval)
        var unused: [ExchangeMessage] = []
        for position in instruments.indices {
            refreshLiquidity(of: position, into: &unused)
        }
    }

    /// Handles one client message and returns what the client must be sent, in order.
    ///
    /// A `new_order` gets a `reject`, or an `ack` followed by the executions it triggers at once (and a
    /// `canceled` for the unfilled rest of a market order). A `new_order` repeating a known order gets its
    /// `order_status` (after its older executions, when they are too many for one message) and is not placed. A `cancel` gets a `canceled`, or a `cancel_reject`
    /// when the order is not open. Executions of resting orders that this order traded with come in between,
    /// right after the execution of the incoming order for the same trade.
    public mutating func handle(_ message: ExchangeClientMessage) -> [ExchangeMessage] {
        var output: [ExchangeMessage] = []
        switch message {
        case .newOrder(let order):
            place(order, into: &output)
        case .cancel(let orderId):
            cancel(orderId, into: &output)
        }
        return output
    }

    /// Decodes one client message from the bytes of one WebSocket text frame and handles it.
    ///
    /// Bytes that do not decode give a single ``ExchangeMessage/error(_:)`` and change nothing; this never
    /// traps, whatever the input.
    public mutating func handle(bytes: some Collection<UInt8>) -> [ExchangeMessage] {
        do {
            return handle(try ExchangeClientMessage.decode(bytes))
        } catch {
            return [.error(error)]
        }
    }

    /// The number of open (resting) orders.
    public var openOrderCount: Int { openOrders.count }

    /// The listed symbols, in configuration order.
    public var symbols: [String] { instruments.map(\.symbol) }

    /// An open order, or `nil` when no order with this id is open (never placed, or done and evicted).
    public func openOrder(_ orderId: String) -> ExchangeOrderSnapshot? {
        guard let order = openOrders[orderId] else { return nil }
        return ExchangeOrderSnapshot(
            orderId: order.orderId,
            symbol: instruments[order.instrument].symbol,
            side: order.side,
            quantity: order.quantity,
            orderType: order.orderType,
            cumulativeQuantity: order.cumulativeQuantity,
            leavesQuantity: order.leavesQuantity
        )
    }

    /// What the session would answer to a `new_order` repeating `orderId`: the order's state and executions,
    /// or `nil` when the id is not known (never used, or done and forgotten).
    public func orderStatus(_ orderId: String) -> ExchangeOrderStatus? {
        var output: [ExchangeMessage] = []
        guard appendStatus(of: orderId, into: &output), case .orderStatus(let status)? = output.last else { return nil }
        return status
    }

    /// The ids of all open orders, sorted.
    public var openOrderIds: [String] { openOrders.keys.sorted() }

    /// The current reference price of a symbol, or `nil` if it is not listed.
    public func referencePrice(of symbol: String) -> ExchangePrice? {
        instrumentIndex[symbol].map { instruments[$0].referencePrice }
    }

    /// The best `maxLevels` levels of each side of a symbol's book, or `nil` if it is not listed.
    public func depth(of symbol: String, maxLevels: Int = 10) -> ExchangeBookDepth? {
        guard let position = instrumentIndex[symbol] else { return nil }
        let instrument = instruments[position]
        func view(_ side: ExchangeSide) -> [ExchangeBookDepth.Level] {
            instrument.book.levels(side, maxLevels: maxLevels).map {
                ExchangeBookDepth.Level(price: $0.price, quantity: $0.quantity, orderCount: $0.orderCount)
            }
        }
        return ExchangeBookDepth(
            symbol: symbol,
            referencePrice: instrument.referencePrice,
            bids: view(.buy),
            asks: view(.sell)
        )
    }

    /// `duration` in whole nanoseconds, saturating at the bounds of `Int64`.
    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (fromSeconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflow2) = fromSeconds.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return total
    }
}
