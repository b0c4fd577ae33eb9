import ExchangeProtocol
import Kafka
import OrderModel
import Pipeline
import ServiceContextModule
import Synchronization
import WebSocketClient

/// The state the gateway's tasks share: the open exchange orders, the current exchange session's writer,
/// which consumed records are done, and the Kafka loop waiting for room. One lock; every method
/// returns what to do, and the caller does the I/O after the lock is released.
final class GatewayState: Sendable {
    private struct State: ~Copyable {
        var openOrders: OpenExchangeOrders
        var writer: WebSocketOutbound?
        var offsets = OffsetTracker()
        /// The record each open exchange order was read from, so that record is done when the
        /// order is. A copy read again after a rebalance takes over from the first one.
        var sources: [String: KafkaRecordID] = [:]
        var roomWaiter: CheckedContinuation<Void, Never>?
        var roomWaitCanceled = false
    }

    private let state: Mutex<State>

    init(openOrders: OpenExchangeOrders) {
        state = Mutex(State(openOrders: openOrders))
    }

    /// The open orders as they are now (for tests and metrics).
    var openOrders: OpenExchangeOrders { state.withLock { $0.openOrders } }

    // MARK: Kafka records

    /// Starts tracking consumed records: their offsets are stored only once they are done.
    func track(_ messages: [KafkaMessage]) {
        state.withLock { state in
            for message in messages { state.offsets.add(message) }
        }
    }

    /// Marks records done; returns, per partition, the last record done with everything before
    /// it (store the offset after it).
    func finish(_ records: [KafkaRecordID]) -> [KafkaRecordID] {
        guard !records.isEmpty else { return [] }
        return state.withLock { $0.offsets.finish(records) }
    }

    /// A record of an exchange order that is open or done already: while the order is open, this
    /// record takes over from the one the order was read from (it is done when the order is);
    /// otherwise it is done now.
    func finishDuplicate(_ record: KafkaRecordID, exchangeOrderId: String) -> [KafkaRecordID] {
        state.withLock { state in
            if state.sources[exchangeOrderId] != nil {
                state.sources[exchangeOrderId] = record
                return []
            }
            return state.offsets.finish([record])
        }
    }

    /// Marks the records of done exchange orders as done.
    func finishOrders(_ exchangeOrderIds: [String]) -> [KafkaRecordID] {
        state.withLock { state in
            let records = exchangeOrderIds.compactMap { state.sources.removeValue(forKey: $0) }
            return records.isEmpty ? [] : state.offsets.finish(records)
        }
    }

    // MARK: Orders

    func isKnown(_ exchangeOrderId: String) -> Bool {
        state.withLock { $0.openOrders.isKnown(exchangeOrderId) }
    }

    var hasRoom: Bool { state.withLock { $0.openOrders.hasRoom } }

    /// Opens `order`; with `.send`, the writer of the session to send it on.
    func open(
        _ order: ExchangeOrder, context: ServiceContext, from message: KafkaMessage, now: ContinuousClock.Instant
    ) -> (OpenExchangeOrders.OpenDecision, WebSocketOutbound?) {
        state.withLock { state in
            let decision = state.openOrders.open(order, context: context, now: now)
            switch decision {
            case .send, .queued:
                state.sources[order.exchangeOrderId] = KafkaRecordID(message)
            case .duplicate, .full:
                break
            }
            if case .send = decision { return (decision, state.writer) }
            return (decision, nil)
        }
    }

    /// A session is up: it becomes the one new orders go to; returns what to send again on it.
    func connected(_ writer: WebSocketOutbound) -> [OpenExchangeOrders.Resend] {
        state.withLock { state in
            state.writer = writer
            return state.openOrders.connected(now: .now)
        }
    }

    /// The session ended.
    func disconnected() {
        state.withLock { state in
            state.writer = nil
            state.openOrders.disconnected()
        }
    }

    /// Reads a reply; when it ends an order, the Kafka loop may take another.
    func receive(_ message: ExchangeMessage) -> OpenExchangeOrders.Receipt? {
        let (receipt, waiter) = state.withLock { state -> (OpenExchangeOrders.Receipt?, CheckedContinuation<Void, Never>?) in
            let receipt = state.openOrders.receive(message, now: .now)
            guard receipt?.isDone == true, state.openOrders.hasRoom else { return (receipt, nil) }
            defer { state.roomWaiter = nil }
            return (receipt, state.roomWaiter)
        }
        waiter?.resume()
        return receipt
    }

    /// What is due now (see ``OpenExchangeOrders/sweep(now:)``); when it ends orders, the Kafka loop may take others.
    func sweep(now: ContinuousClock.Instant) -> OpenExchangeOrders.SweepResult {
        let (result, waiter) = state.withLock { state -> (OpenExchangeOrders.SweepResult, CheckedContinuation<Void, Never>?) in
            let result = state.openOrders.sweep(now: now)
            guard !result.ended.isEmpty, state.openOrders.hasRoom else { return (result, nil) }
            defer { state.roomWaiter = nil }
            return (result, state.roomWaiter)
        }
        waiter?.resume()
        return result
    }

    /// Waits until there is room for another order, or the task is canceled.
    func waitForRoom() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let goOn = state.withLock { state in
                    if state.openOrders.hasRoom || state.roomWaitCanceled { return true }
                    state.roomWaiter = continuation
                    return false
                }
                if goOn { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.roomWaitCanceled = true
                defer { state.roomWaiter = nil }
                return state.roomWaiter
            }
            waiter?.resume()
        }
    }
}
