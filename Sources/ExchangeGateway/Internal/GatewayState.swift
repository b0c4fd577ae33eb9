import ExchangeProtocol
import Kafka
import OrderModel
import Pipeline
import ServiceContextModule
import Synchronization
import WebSocketClient

/// The state the gateway's tasks share: the open exchange orders, the current exchange session's
/// writer, the record each open order was read from, and the Kafka loop waiting for room. One
/// lock; every method returns what to do, and the caller does the I/O after the lock is released.
final class GatewayState: Sendable {
    private struct State: ~Copyable {
        var openOrders: OpenExchangeOrders
        var writer: WebSocketOutbound?
        /// The record each open exchange order was read from, so that record is done when the
        /// order is. A copy read again takes over from the first one.
        var sources: [String: KafkaRecordID] = [:]
        var roomWaiter: CheckedContinuation<Void, Never>?
        var roomWaitStopped = false
    }

    private let state: Mutex<State>

    init(openOrders: OpenExchangeOrders) {
        state = Mutex(State(openOrders: openOrders))
    }

    /// The open orders as they are now (for tests and metrics).
    var openOrders: OpenExchangeOrders { state.withLock { $0.openOrders } }

    // MARK: Kafka records

    /// A record of an exchange order that is open or done already. Returns true when the order is
    /// open: this record then takes over from the one the order was read from (it is done when
    /// the order is); otherwise it is done now.
    func takeOverDuplicate(_ record: KafkaRecordID, exchangeOrderId: String) -> Bool {
        state.withLock { state in
            guard state.sources[exchangeOrderId] != nil else { return false }
            state.sources[exchangeOrderId] = record
            return true
        }
    }

    /// The records of done exchange orders, which are done with them.
    func finishOrders(_ exchangeOrderIds: [String]) -> [KafkaRecordID] {
        state.withLock { state in
            exchangeOrderIds.compactMap { state.sources.removeValue(forKey: $0) }
        }
    }

    /// Forgets the open orders read from revoked partitions: their next owner reads them again and
    /// asks the exchange for their state. Returns how many were dropped.
    func drop(_ partitions: [KafkaTopicPartition]) -> Int {
        let revoked = Set(partitions)
        let (count, waiter) = state.withLock { state -> (Int, CheckedContinuation<Void, Never>?) in
            let dropped = state.sources.filter { revoked.contains($0.value.partition) }.map(\.key)
            for id in dropped { state.sources[id] = nil }
            state.openOrders.drop(dropped)
            guard !dropped.isEmpty, state.openOrders.hasRoom else { return (dropped.count, nil) }
            defer { state.roomWaiter = nil }
            return (dropped.count, state.roomWaiter)
        }
        waiter?.resume()
        return count
    }

    // MARK: Orders

    func isKnown(_ exchangeOrderId: String) -> Bool {
        state.withLock { $0.openOrders.isKnown(exchangeOrderId) }
    }

    var hasRoom: Bool { state.withLock { $0.openOrders.hasRoom } }

    /// Opens `order`, read from `record`; with `.send`, the writer of the session to send it on.
    func open(
        _ order: ExchangeOrder, context: ServiceContext, from record: KafkaRecordID, now: ContinuousClock.Instant
    ) -> (OpenExchangeOrders.OpenDecision, WebSocketOutbound?) {
        state.withLock { state in
            let decision = state.openOrders.open(order, context: context, now: now)
            switch decision {
            case .send, .queued:
                state.sources[order.exchangeOrderId] = record
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

    /// Waits until there is room for another order or `stopWaitingForRoom()` was called (or the
    /// task is canceled). Returns whether there is room.
    func waitForRoom() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let goOn = state.withLock { state in
                    if state.openOrders.hasRoom || state.roomWaitStopped { return true }
                    state.roomWaiter = continuation
                    return false
                }
                if goOn { continuation.resume() }
            }
        } onCancel: {
            stopWaitingForRoom()
        }
        return state.withLock { $0.openOrders.hasRoom }
    }

    /// Ends every wait for room, now and later (graceful shutdown: what waits is read again after
    /// the restart).
    func stopWaitingForRoom() {
        let waiter = state.withLock { state in
            state.roomWaitStopped = true
            defer { state.roomWaiter = nil }
            return state.roomWaiter
        }
        waiter?.resume()
    }
}
