import BoundedCollections
import ExchangeProtocol
import OrderModel
import ServiceContextModule

/// The exchange gateway's memory of its open exchange orders: a pure, synchronous state machine
/// (no I/O, no clock: every input that needs the time is given `now`).
///
/// For each open exchange order it keeps the order, the `ServiceContext` of its
/// `external_exchange_ws_send` span (so replies, which carry no trace headers, are parented on it),
/// the id it has on the wire in the current exchange session, whether that session acknowledged it,
/// and what executed so far across sessions. Its inputs return what to do:
///
/// - ``open(_:context:now:)``: a new exchange order from Kafka gives the `new_order` to send (or
///   nothing when the id is open or recently done: Kafka is at-least-once).
/// - ``receive(_:)``: a reply of the exchange gives the ``Fill`` to publish, with its parent context.
/// - ``disconnected()`` / ``connected()``: a new session knows nothing of the old one, so every open
///   order is sent again for its remaining quantity under a new wire id (`<exchangeOrderId>~2`, ...).
/// - ``expire(now:)``: orders open longer than `orderTimeout` get a `cancel`, so every order ends.
///
/// An order is done (evicted, its context dropped) when it is filled, rejected or canceled; its id
/// is then remembered (bounded) to recognise redelivered records. At most `maxOpenOrders` are open:
/// the caller checks ``hasRoom`` and waits (backpressure) instead of dropping.
public struct OpenExchangeOrders: Sendable {
    /// One open exchange order.
    public struct OpenOrder: Sendable {
        /// The exchange order as read from Kafka.
        public let order: ExchangeOrder
        /// The context of its `external_exchange_ws_send` span (with its baggage): the parent of
        /// every span about a reply.
        public let context: ServiceContext
        /// When it was opened.
        public let openedAt: ContinuousClock.Instant
        /// Its id in the current (or next) exchange session.
        public internal(set) var wireOrderId: String
        /// In how many sessions it was sent (0: not sent yet).
        public internal(set) var attempt: Int
        /// Whether it was sent in the current session.
        public internal(set) var isSent: Bool
        /// Whether the current session acknowledged it.
        public internal(set) var isAcked: Bool
        /// When a `cancel` was sent in the current session, if one was.
        public internal(set) var cancelSentAt: ContinuousClock.Instant?
        /// Units executed so far, over all sessions.
        public internal(set) var cumulativeQuantity: Int64
        /// Σ quantity × price of its executions, in ticks.
        public internal(set) var notional: Int128
        let sequence: UInt64

        /// Units still open: the original quantity less what executed.
        public var leavesQuantity: Int64 { order.quantity - cumulativeQuantity }
    }

    /// What to do with a new exchange order.
    public enum OpenDecision: Sendable, Hashable {
        /// Send this `new_order` now (the exchange is connected).
        case send(ExchangeNewOrder)
        /// Kept; it is sent when the exchange connects (see ``connected()``).
        case queued
        /// The id is open or recently done: a redelivered record. Nothing to send.
        case duplicate
        /// ``hasRoom`` is false: not taken. Wait for an order to finish and try again.
        case full
    }

    /// A message to send again on a new session, with the order's stored context.
    public struct Resend: Sendable {
        /// The order's id in the pipeline.
        public var exchangeOrderId: String
        /// The exchange order.
        public var order: ExchangeOrder
        /// The `new_order` for the remaining quantity under the new wire id.
        public var newOrder: ExchangeNewOrder
        /// The order's `external_exchange_ws_send` context.
        public var context: ServiceContext
        /// The session count of this order, 2 or more for a true resend.
        public var attempt: Int
    }

    /// A `cancel` to send for an order that stayed open too long.
    public struct CancelRequest: Sendable {
        /// The order's id in the pipeline.
        public var exchangeOrderId: String
        /// The exchange order.
        public var order: ExchangeOrder
        /// The wire id to cancel.
        public var wireOrderId: String
        /// The order's `external_exchange_ws_send` context.
        public var context: ServiceContext
    }

    /// What a reply of the exchange meant for one of the open orders.
    public struct Receipt: Sendable {
        /// The order's id in the pipeline.
        public var exchangeOrderId: String
        /// The id the reply named.
        public var wireOrderId: String
        /// The exchange order the reply is about.
        public var order: ExchangeOrder
        /// The `type` of the exchange message (`ack`, `execution`, ...).
        public var messageType: String
        /// The stored `external_exchange_ws_send` context: the parent of the receive span.
        public var context: ServiceContext
        /// The fill to publish, or `nil` (an ack, a `cancel_reject` or `error` that changes nothing).
        public var fill: Fill?
        /// Whether the order is done and was evicted.
        public var isDone: Bool
        /// Something odd about the reply, for the logs and the span (an over-execution, ...).
        public var note: String?
    }

    /// The most open orders at once.
    public let maxOpenOrders: Int
    /// How long an order may stay open before it gets a `cancel`.
    public let orderTimeout: Duration

    private var orders: [String: OpenOrder] = [:]
    /// Wire id → exchange order id, for the current session.
    private var wireIds: [String: String] = [:]
    private var done: RecentSet<String>
    private var nextSequence: UInt64 = 0
    /// Whether an exchange session is up.
    public private(set) var isConnected = false

    /// - Parameters:
    ///   - maxOpenOrders: the most orders open at once (at least 1).
    ///   - orderTimeout: how long an order may stay open before it is canceled.
    ///   - doneOrderMemory: how many ids of done orders are remembered to recognise duplicates.
    public init(maxOpenOrders: Int = 10_000, orderTimeout: Duration = .seconds(10), doneOrderMemory: Int = 100_000) {
        self.maxOpenOrders = max(1, maxOpenOrders)
        self.orderTimeout = orderTimeout
        self.done = RecentSet(capacity: doneOrderMemory)
    }

    /// How many orders are open.
    public var openCount: Int { orders.count }

    /// Whether another order may be opened.
    public var hasRoom: Bool { orders.count < maxOpenOrders }

    /// The open order `exchangeOrderId`, if it is open.
    public func openOrder(_ exchangeOrderId: String) -> OpenOrder? { orders[exchangeOrderId] }

    /// Whether `exchangeOrderId` is open or was done recently (a record carrying it again is a
    /// duplicate).
    public func isKnown(_ exchangeOrderId: String) -> Bool {
        orders[exchangeOrderId] != nil || done.contains(exchangeOrderId)
    }

    /// Takes a new exchange order whose `external_exchange_ws_send` span has `context`.
    public mutating func open(_ order: ExchangeOrder, context: ServiceContext, now: ContinuousClock.Instant) -> OpenDecision {
        if isKnown(order.exchangeOrderId) { return .duplicate }
        guard hasRoom else { return .full }
        var open = OpenOrder(
            order: order, context: context, openedAt: now, wireOrderId: order.exchangeOrderId, attempt: 0, isSent: false,
            isAcked: false, cancelSentAt: nil, cumulativeQuantity: 0, notional: 0, sequence: nextSequence)
        nextSequence += 1
        guard isConnected else {
            orders[order.exchangeOrderId] = open
            return .queued
        }
        let newOrder = markSent(&open)
        orders[order.exchangeOrderId] = open
        return .send(newOrder)
    }

    /// The exchange session ended: nothing is acknowledged any more, no wire id is valid.
    public mutating func disconnected() {
        isConnected = false
        wireIds = [:]
        for id in Array(orders.keys) {
            orders[id]!.isSent = false
            orders[id]!.isAcked = false
            orders[id]!.cancelSentAt = nil
        }
    }

    /// A new exchange session started. Returns the `new_order` of every open order, in the order
    /// they arrived, for its remaining quantity: under its own id the first time it is sent, under
    /// `<exchangeOrderId>~<n>` in its n-th session.
    public mutating func connected() -> [Resend] {
        if isConnected { disconnected() }
        isConnected = true
        var resends: [Resend] = []
        resends.reserveCapacity(orders.count)
        for id in orders.values.sorted(by: { $0.sequence < $1.sequence }).map(\.order.exchangeOrderId) {
            var open = orders[id]!
            let newOrder = markSent(&open)
            orders[id] = open
            resends.append(Resend(exchangeOrderId: id, order: open.order, newOrder: newOrder, context: open.context, attempt: open.attempt))
        }
        return resends
    }

    /// The `cancel`s due at `now`: acknowledged orders of the current session open longer than
    /// `orderTimeout` that got no `cancel` in this session yet.
    public mutating func expire(now: ContinuousClock.Instant) -> [CancelRequest] {
        guard isConnected else { return [] }
        var due: [(UInt64, CancelRequest)] = []
        for (id, open) in orders where open.isAcked && open.cancelSentAt == nil && now - open.openedAt >= orderTimeout {
            orders[id]!.cancelSentAt = now
            due.append((open.sequence, CancelRequest(exchangeOrderId: id, order: open.order, wireOrderId: open.wireOrderId, context: open.context)))
        }
        return due.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Reads one reply of the exchange. Returns `nil` when it names no open order of this session
    /// (a late reply about a done order, or an `error` about something else).
    ///
    /// - `ack`: marks the order acknowledged; no fill.
    /// - `execution`: a `partially_filled`/`filled` fill; cumulative and leaves relative to the
    ///   original exchange order's quantity. `fillId` = `<exchangeOrderId>:<executionId>`.
    /// - `reject`, or an `error` naming an order the session did not acknowledge: a `rejected` fill
    ///   (quantity 0, leaves = the open rest). `fillId` = `<exchangeOrderId>:rejected`.
    /// - `canceled`, or a `cancel_reject` of our own `cancel` (the session no longer holds the order
    ///   open, and nothing more will come for it): a `canceled` fill. `fillId` = `<exchangeOrderId>:canceled`.
    public mutating func receive(_ message: ExchangeMessage) -> Receipt? {
        guard let wireId = message.orderId, let id = wireIds[wireId], var open = orders[id] else { return nil }
        var fill: Fill?
        var note: String?
        switch message {
        case .ack:
            open.isAcked = true
            orders[id] = open
        case .execution(let execution):
            var quantity = execution.quantity
            if quantity > open.leavesQuantity {
                note = "the exchange executed \(quantity) of an order with \(open.leavesQuantity) open; the excess is ignored"
                quantity = open.leavesQuantity
            }
            guard quantity > 0, execution.price.ticks > 0 else {
                note = "execution \(execution.executionId) with quantity \(execution.quantity) at \(execution.price) ignored"
                return receipt(open, wireId, message, fill: nil, isDone: false, note: note)
            }
            let price = Price(ticks: execution.price.ticks)
            open.cumulativeQuantity += quantity
            open.notional += price.notional(quantity: quantity)
            open.isAcked = true
            fill = makeFill(
                open, suffix: ":\(execution.executionId)", quantity: quantity, price: price,
                status: open.leavesQuantity == 0 ? .filled : .partiallyFilled, reason: nil)
            orders[id] = open
        case .reject(let reject):
            fill = makeFill(open, suffix: ":rejected", quantity: 0, price: .zero, status: .rejected, reason: "\(reject.code): \(reject.reason)")
        case .canceled(let canceled):
            if canceled.canceledQuantity != open.leavesQuantity {
                note = "the exchange canceled \(canceled.canceledQuantity), \(open.leavesQuantity) were open"
            }
            fill = makeFill(open, suffix: ":canceled", quantity: 0, price: .zero, status: .canceled, reason: canceled.reason.rawValue)
        case .cancelReject(let cancelReject):
            if open.cancelSentAt != nil {
                fill = makeFill(
                    open, suffix: ":canceled", quantity: 0, price: .zero, status: .canceled,
                    reason: "timed out; the exchange no longer holds it open: \(cancelReject.reason)")
            }
        case .error(let error):
            if !open.isAcked {
                fill = makeFill(open, suffix: ":rejected", quantity: 0, price: .zero, status: .rejected, reason: "\(error.code): \(error.message)")
            } else {
                note = "error about an acknowledged order ignored: \(error.code): \(error.message)"
            }
        }
        let isDone = fill?.status.isTerminal ?? false
        if isDone { finish(id, wireId: wireId) }
        return receipt(open, wireId, message, fill: fill, isDone: isDone, note: note)
    }

    private func receipt(_ open: OpenOrder, _ wireId: String, _ message: ExchangeMessage, fill: Fill?, isDone: Bool, note: String?) -> Receipt {
        Receipt(
            exchangeOrderId: open.order.exchangeOrderId, wireOrderId: wireId, order: open.order, messageType: message.typeName,
            context: open.context, fill: fill, isDone: isDone, note: note)
    }

    private mutating func finish(_ id: String, wireId: String) {
        orders[id] = nil
        wireIds[wireId] = nil
        done.insert(id)
    }

    private mutating func markSent(_ open: inout OpenOrder) -> ExchangeNewOrder {
        open.attempt += 1
        open.wireOrderId =
            open.attempt == 1
            ? open.order.exchangeOrderId
            : BoundedText.identifier(open.order.exchangeOrderId, suffix: "~\(open.attempt)", maxBytes: ExchangeProtocol.maxOrderIdBytes)
        open.isSent = true
        open.isAcked = false
        open.cancelSentAt = nil
        wireIds[open.wireOrderId] = open.order.exchangeOrderId
        return ExchangeNewOrder(
            orderId: open.wireOrderId, symbol: open.order.symbol, side: ExchangeSide(open.order.side), quantity: open.leavesQuantity,
            orderType: ExchangeOrderType(open.order.orderType, limitPrice: open.order.limitPrice))
    }

    private func makeFill(_ open: OpenOrder, suffix: String, quantity: Int64, price: Price, status: FillStatus, reason: String?) -> Fill {
        Fill(
            fillId: BoundedText.identifier(open.order.exchangeOrderId, suffix: suffix, maxBytes: MessageLimits.maxIdentifierLength),
            exchangeOrderId: open.order.exchangeOrderId, batchId: open.order.batchId, symbol: open.order.symbol,
            side: open.order.side, quantity: quantity, price: price, cumulativeQuantity: open.cumulativeQuantity,
            leavesQuantity: open.leavesQuantity, status: status, reason: reason.map { BoundedText.prefix($0, maxBytes: MessageLimits.maxReasonLength) })
    }
}
