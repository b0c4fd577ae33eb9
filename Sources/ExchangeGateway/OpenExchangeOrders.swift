import BoundedCollections
import ExchangeProtocol
import OrderModel
import ServiceContextModule

/// The exchange gateway's memory of its open exchange orders: a pure, synchronous state machine
/// (no I/O, no clock: every input that needs the time is given `now`).
///
/// The exchange is the source of truth. The gateway names its exchange session, and the session
/// outlives connections and gateway restarts; an order id the session knows is never executed
/// again: a repeated `new_order` is answered with an `order_status` (its state and executions).
/// So the gateway may forget anything: after a restart, a reconnect or a rebalance it sends every
/// open order again, with its original id and its original quantity, and turns the answer into
/// the fills it implies. Fill ids are deterministic (`<exchangeOrderId>:<executionId>`), so a fill
/// published before the restart is published again under the same id, which the allocator drops.
///
/// For each open exchange order it keeps the order, the `ServiceContext` of its
/// `external_exchange_ws_send` span (so replies, which carry no trace headers, are parented on it),
/// whether the exchange confirmed it, the executions seen, and any question left unanswered. Its
/// inputs return what to do:
///
/// - ``open(_:context:now:)``: a new exchange order from Kafka gives the `new_order` to send (or
///   nothing when the id is open or recently done: Kafka is at-least-once).
/// - ``receive(_:now:)``: a reply of the exchange gives the fills to publish, with their parent
///   context, and sometimes a message to send back.
/// - ``disconnected()`` / ``connected(now:)``: on every new connection each open order is sent
///   again as it was first sent.
/// - ``sweep(now:)``: orders open longer than `orderTimeout` get a `cancel`; a `new_order` or a
///   `cancel` left unanswered for `answerTimeout` is sent again, and after `maxUnansweredTries`
///   the order is ended (`rejected` if the exchange never confirmed it, else `canceled`) with the
///   reason, so no order stays open forever and pins its record's offset.
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
        /// Its id on the wire: always the exchange order id.
        public var wireOrderId: String { order.exchangeOrderId }
        /// How many times its `new_order` was sent (0: not sent yet).
        public internal(set) var attempt: Int
        /// Whether it was sent on the current connection.
        public internal(set) var isSent: Bool
        /// Whether the exchange confirmed it knows the order (an ack, an execution or a status).
        public internal(set) var isAcked: Bool
        /// When a `cancel` was sent that is not answered yet.
        public internal(set) var cancelSentAt: ContinuousClock.Instant?
        /// When a `new_order` was sent that is not answered yet (no ack, status or reject).
        public internal(set) var queriedAt: ContinuousClock.Instant?
        /// How many times a question about it went unanswered for `answerTimeout`.
        public internal(set) var unansweredTries: Int
        /// Units executed so far, over all connections.
        public internal(set) var cumulativeQuantity: Int64
        /// Σ quantity × price of its executions, in ticks.
        public internal(set) var notional: Int128
        /// The execution ids already turned into fills.
        var executionIds: Set<String>
        let sequence: UInt64

        /// Units still open: the original quantity less what executed.
        public var leavesQuantity: Int64 { order.quantity - cumulativeQuantity }
    }

    /// What to do with a new exchange order.
    public enum OpenDecision: Sendable, Hashable {
        /// Send this `new_order` now (the exchange is connected).
        case send(ExchangeNewOrder)
        /// Kept; it is sent when the exchange connects (see ``connected(now:)``).
        case queued
        /// The id is open or recently done: a redelivered record. Nothing to send.
        case duplicate
        /// ``hasRoom`` is false: not taken. Wait for an order to finish and try again.
        case full
    }

    /// A message to send again on a new connection, with the order's stored context.
    public struct Resend: Sendable {
        /// The order's id in the pipeline.
        public var exchangeOrderId: String
        /// The exchange order.
        public var order: ExchangeOrder
        /// The `new_order`, as first sent: the original id and the original quantity.
        public var newOrder: ExchangeNewOrder
        /// The order's `external_exchange_ws_send` context.
        public var context: ServiceContext
        /// How many times the `new_order` was sent, this one included.
        public var attempt: Int
    }

    /// A message to send about an open order (a `cancel`, or a `new_order` asking for its state).
    public struct Request: Sendable {
        /// The order's id in the pipeline.
        public var exchangeOrderId: String
        /// The exchange order.
        public var order: ExchangeOrder
        /// What to send.
        public var message: ExchangeClientMessage
        /// The order's `external_exchange_ws_send` context.
        public var context: ServiceContext
        /// How many times this question went unanswered before.
        public var attempt: Int
    }

    /// What a sweep found to do.
    public struct SweepResult: Sendable {
        /// Messages to send.
        public var requests: [Request] = []
        /// Orders ended because the exchange did not answer: each with its terminal fill.
        public var ended: [Receipt] = []
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
        /// The fills to publish, in order (an `order_status` may imply several; the last one is the
        /// terminal fill when ``isDone``).
        public var fills: [Fill]
        /// Whether the order is done and was evicted.
        public var isDone: Bool
        /// Something odd about the reply, for the logs and the span (an over-execution, ...).
        public var note: String?
        /// A message to send back at once (a `new_order` asking for the state after a `cancel_reject`).
        public var followUp: ExchangeClientMessage?

        /// The last fill to publish, or `nil` (an ack, a status with nothing new, an `error` that changes nothing).
        public var fill: Fill? { fills.last }
    }

    /// The most open orders at once.
    public let maxOpenOrders: Int
    /// How long an order may stay open before it gets a `cancel`.
    public let orderTimeout: Duration
    /// How long a `new_order` or a `cancel` may go unanswered before it is sent again.
    public let answerTimeout: Duration
    /// How many unanswered tries end an order.
    public let maxUnansweredTries: Int

    private var orders: [String: OpenOrder] = [:]
    private var done: RecentSet<String>
    private var nextSequence: UInt64 = 0
    /// Whether the exchange is connected.
    public private(set) var isConnected = false

    /// - Parameters:
    ///   - maxOpenOrders: the most orders open at once (at least 1).
    ///   - orderTimeout: how long an order may stay open before it is canceled.
    ///   - doneOrderMemory: how many ids of done orders are remembered to recognise duplicates.
    ///   - answerTimeout: how long a question may go unanswered before it is asked again.
    ///   - maxUnansweredTries: how many unanswered tries end an order (at least 1).
    public init(
        maxOpenOrders: Int = 10_000, orderTimeout: Duration = .seconds(10), doneOrderMemory: Int = 100_000,
        answerTimeout: Duration = .seconds(5), maxUnansweredTries: Int = 3
    ) {
        self.maxOpenOrders = max(1, maxOpenOrders)
        self.orderTimeout = orderTimeout
        self.answerTimeout = answerTimeout
        self.maxUnansweredTries = max(1, maxUnansweredTries)
        self.done = RecentSet(capacity: doneOrderMemory)
    }

    /// How many orders are open.
    public var openCount: Int { orders.count }

    /// The ids of the open orders, sorted.
    public var openOrderIDs: [String] { orders.keys.sorted() }

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
            order: order, context: context, openedAt: now, attempt: 0, isSent: false, isAcked: false, cancelSentAt: nil,
            queriedAt: nil, unansweredTries: 0, cumulativeQuantity: 0, notional: 0, executionIds: [], sequence: nextSequence)
        nextSequence += 1
        guard isConnected else {
            orders[order.exchangeOrderId] = open
            return .queued
        }
        let newOrder = markSent(&open, now: now)
        orders[order.exchangeOrderId] = open
        return .send(newOrder)
    }

    /// Forgets open orders without ending them (their partition moved to another member, which
    /// reads them again and asks the exchange for their state): they are not remembered as done.
    public mutating func drop(_ exchangeOrderIds: some Sequence<String>) {
        for id in exchangeOrderIds { orders[id] = nil }
    }

    /// The connection ended: nothing sent on it waits for an answer any more.
    public mutating func disconnected() {
        isConnected = false
        for id in Array(orders.keys) {
            orders[id]!.isSent = false
            orders[id]!.queriedAt = nil
            orders[id]!.cancelSentAt = nil
        }
    }

    /// A connection is up. Returns the `new_order` of every open order, in the order they arrived,
    /// exactly as first sent (original id, original quantity): the exchange places the ones it does
    /// not know and answers the others with their state.
    public mutating func connected(now: ContinuousClock.Instant = .now) -> [Resend] {
        if isConnected { disconnected() }
        isConnected = true
        var resends: [Resend] = []
        resends.reserveCapacity(orders.count)
        for id in orders.values.sorted(by: { $0.sequence < $1.sequence }).map(\.order.exchangeOrderId) {
            var open = orders[id]!
            let newOrder = markSent(&open, now: now)
            orders[id] = open
            resends.append(Resend(exchangeOrderId: id, order: open.order, newOrder: newOrder, context: open.context, attempt: open.attempt))
        }
        return resends
    }

    /// What is due at `now`: a `cancel` for each confirmed order open longer than `orderTimeout`;
    /// the same question again for each `new_order` or `cancel` unanswered for `answerTimeout`; and,
    /// after `maxUnansweredTries` unanswered tries, the end of the order with a terminal fill.
    public mutating func sweep(now: ContinuousClock.Instant) -> SweepResult {
        guard isConnected else { return SweepResult() }
        var due: [(UInt64, Request)] = []
        var ended: [(UInt64, Receipt)] = []
        for (id, open) in orders {
            var order = open
            let pendingSince = order.queriedAt ?? order.cancelSentAt
            if let pendingSince, now - pendingSince >= answerTimeout {
                order.unansweredTries += 1
                if order.unansweredTries >= maxUnansweredTries {
                    let tries = order.unansweredTries
                    let fill =
                        order.isAcked || order.cancelSentAt != nil
                        ? makeFill(
                            order, suffix: ":canceled", quantity: 0, price: .zero, status: .canceled,
                            reason: "the exchange did not answer \(tries) times in \(answerTimeout); the order is treated as canceled")
                        : makeFill(
                            order, suffix: ":rejected", quantity: 0, price: .zero, status: .rejected,
                            reason: "the exchange never confirmed the order (\(tries) tries, \(answerTimeout) each)")
                    finish(id)
                    if order.isAcked {
                        // Best effort: the exchange may still hold it open; it must not trade after its end.
                        due.append((order.sequence, Request(exchangeOrderId: id, order: order.order, message: .cancel(orderId: id), context: order.context, attempt: tries)))
                    }
                    ended.append(
                        (order.sequence, Receipt(
                            exchangeOrderId: id, wireOrderId: id, order: order.order, messageType: "timeout", context: order.context,
                            fills: [fill], isDone: true, note: fill.reason, followUp: nil)))
                    continue
                }
                let message: ExchangeClientMessage
                if order.queriedAt != nil {
                    message = .newOrder(markSent(&order, now: now))
                } else {
                    order.cancelSentAt = now
                    message = .cancel(orderId: id)
                }
                orders[id] = order
                due.append((order.sequence, Request(exchangeOrderId: id, order: order.order, message: message, context: order.context, attempt: order.unansweredTries)))
            } else if pendingSince == nil, order.isAcked, now - order.openedAt >= orderTimeout {
                order.cancelSentAt = now
                orders[id] = order
                due.append((order.sequence, Request(exchangeOrderId: id, order: order.order, message: .cancel(orderId: id), context: order.context, attempt: 0)))
            }
        }
        return SweepResult(requests: due.sorted { $0.0 < $1.0 }.map(\.1), ended: ended.sorted { $0.0 < $1.0 }.map(\.1))
    }

    /// Reads one reply of the exchange. Returns `nil` when it names no open order (a late reply
    /// about a done order, or an `error` about something else).
    ///
    /// - `ack`: marks the order confirmed; no fill.
    /// - `execution`: a `partially_filled`/`filled` fill, unless its execution id was seen;
    ///   cumulative and leaves relative to the exchange order's quantity.
    ///   `fillId` = `<exchangeOrderId>:<executionId>`.
    /// - `order_status`: a fill for each listed execution not seen yet, then, if the exchange says
    ///   the order ended canceled or rejected, that terminal fill.
    /// - `reject`, or an `error` naming an order the exchange did not confirm: a `rejected` fill
    ///   (quantity 0, leaves = the open rest). `fillId` = `<exchangeOrderId>:rejected`.
    /// - `canceled`: a `canceled` fill. `fillId` = `<exchangeOrderId>:canceled`.
    /// - `cancel_reject` of our own `cancel`: the exchange no longer holds the order open; its
    ///   `new_order` is sent again to learn how it ended (``Receipt/followUp``).
    public mutating func receive(_ message: ExchangeMessage, now: ContinuousClock.Instant = .now) -> Receipt? {
        guard let id = message.orderId, var open = orders[id] else { return nil }
        var fills: [Fill] = []
        var note: String?
        var followUp: ExchangeClientMessage?
        switch message {
        case .ack:
            open.isAcked = true
            open.queriedAt = nil
            open.unansweredTries = 0
        case .execution(let execution):
            open.isAcked = true
            if let fill = apply(executionId: execution.executionId, quantity: execution.quantity, price: execution.price, to: &open, note: &note) {
                fills.append(fill)
            }
        case .orderStatus(let status):
            open.isAcked = true
            open.queriedAt = nil
            open.unansweredTries = 0
            for execution in status.executions {
                if let fill = apply(executionId: execution.executionId, quantity: execution.quantity, price: execution.price, to: &open, note: &note) {
                    fills.append(fill)
                }
            }
            if open.leavesQuantity > 0 {
                switch status.status {
                case .canceled:
                    fills.append(makeFill(open, suffix: ":canceled", quantity: 0, price: .zero, status: .canceled, reason: status.reason ?? "canceled"))
                case .rejected:
                    fills.append(makeFill(open, suffix: ":rejected", quantity: 0, price: .zero, status: .rejected, reason: status.reason ?? "rejected"))
                case .filled:
                    note = "the exchange says the order is filled, but its executions add up to \(open.cumulativeQuantity) of \(open.order.quantity)"
                case .open, .partiallyFilled:
                    break
                }
            }
            if status.cumulativeQuantity != open.cumulativeQuantity && note == nil {
                note = "the exchange executed \(status.cumulativeQuantity); the executions seen add up to \(open.cumulativeQuantity)"
            }
        case .reject(let reject):
            fills.append(makeFill(open, suffix: ":rejected", quantity: 0, price: .zero, status: .rejected, reason: "\(reject.code): \(reject.reason)"))
        case .canceled(let canceled):
            if canceled.canceledQuantity != open.leavesQuantity {
                note = "the exchange canceled \(canceled.canceledQuantity), \(open.leavesQuantity) were open"
            }
            fills.append(makeFill(open, suffix: ":canceled", quantity: 0, price: .zero, status: .canceled, reason: canceled.reason.rawValue))
        case .cancelReject(let cancelReject):
            if open.cancelSentAt != nil {
                // Not open on the exchange any more: ask how it ended (filled, or canceled).
                open.cancelSentAt = nil
                followUp = .newOrder(markSent(&open, now: now))
                note = "cancel refused (\(cancelReject.reason)); asking the exchange for the order's state"
            }
        case .error(let error):
            if !open.isAcked {
                fills.append(makeFill(open, suffix: ":rejected", quantity: 0, price: .zero, status: .rejected, reason: "\(error.code): \(error.message)"))
            } else {
                note = "error about an acknowledged order ignored: \(error.code): \(error.message)"
            }
        }
        let isDone = fills.last?.status.isTerminal ?? false
        if isDone { finish(id) } else { orders[id] = open }
        return Receipt(
            exchangeOrderId: id, wireOrderId: id, order: open.order, messageType: message.typeName, context: open.context, fills: fills,
            isDone: isDone, note: note, followUp: followUp)
    }

    /// Counts an execution once; the fill it gives, or `nil` when it was seen or is unusable.
    private func apply(executionId: String, quantity executed: Int64, price executionPrice: ExchangePrice, to open: inout OpenOrder, note: inout String?) -> Fill? {
        guard !open.executionIds.contains(executionId) else { return nil }
        var quantity = executed
        if quantity > open.leavesQuantity {
            note = "the exchange executed \(quantity) of an order with \(open.leavesQuantity) open; the excess is ignored"
            quantity = open.leavesQuantity
        }
        guard quantity > 0, executionPrice.ticks > 0 else {
            note = "execution \(executionId) with quantity \(executed) at \(executionPrice) ignored"
            return nil
        }
        open.executionIds.insert(executionId)
        let price = Price(ticks: executionPrice.ticks)
        open.cumulativeQuantity += quantity
        open.notional += price.notional(quantity: quantity)
        return makeFill(
            open, suffix: ":\(executionId)", quantity: quantity, price: price, status: open.leavesQuantity == 0 ? .filled : .partiallyFilled,
            reason: nil)
    }

    private mutating func finish(_ id: String) {
        orders[id] = nil
        done.insert(id)
    }

    private func markSent(_ open: inout OpenOrder, now: ContinuousClock.Instant) -> ExchangeNewOrder {
        open.attempt += 1
        open.isSent = true
        open.queriedAt = now
        return ExchangeNewOrder(
            orderId: open.order.exchangeOrderId, symbol: open.order.symbol, side: ExchangeSide(open.order.side), quantity: open.order.quantity,
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
