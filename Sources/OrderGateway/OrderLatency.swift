import BoundedCollections
import Metrics
import OrderModel
import Synchronization

/// Order latency, `ordertrace_order_latency_seconds`: from the moment the gateway received an
/// order (its `client_order_received` span starts) to the moment the gateway reads the order's
/// terminal update (filled, rejected or canceled) from `order-updates`.
///
/// Every gateway instance reads every update, so the instance that received an order sees its
/// end. Orders sent straight into Kafka (kcat) never passed a gateway and are not measured. An
/// order is held from the moment Kafka has it; at most `capacity` orders are held, and an order
/// still open after `capacity` later orders is forgotten.
final class OrderLatency: Sendable {
    struct Key: Hashable, Sendable {
        var userId: String
        var clientOrderId: String
    }

    private let received: Mutex<RecentDictionary<Key, ContinuousClock.Instant>>
    private let latency = Timer(label: "ordertrace_order_latency_seconds", preferredDisplayUnit: .seconds)

    init(capacity: Int = 100_000) {
        received = Mutex(RecentDictionary(capacity: capacity))
    }

    /// The gateway received `order` at `instant`.
    func received(_ order: ClientOrder, at instant: ContinuousClock.Instant) {
        received.withLock { $0.insert(instant, for: Key(userId: order.userId, clientOrderId: order.clientOrderId)) }
    }

    /// The gateway read `update`; a terminal one ends its order's clock. Returns the latency it
    /// recorded, if any.
    @discardableResult
    func updated(_ update: OrderUpdate, at instant: ContinuousClock.Instant = .now) -> Duration? {
        guard update.status.isTerminal else { return nil }
        return ended(userId: update.userId, clientOrderId: update.clientOrderId, at: instant)
    }

    /// The gateway read a terminal update of (`userId`, `clientOrderId`) without decoding it:
    /// ends its clock if it is held. Returns the latency it recorded, if any.
    @discardableResult
    func ended(userId: String, clientOrderId: String, at instant: ContinuousClock.Instant = .now) -> Duration? {
        guard let start = received.withLock({ $0.removeValue(for: Key(userId: userId, clientOrderId: clientOrderId)) }) else { return nil }
        let elapsed = instant - start
        latency.recordNanoseconds(Int64(elapsed / .nanoseconds(1)))
        return elapsed
    }

    /// Orders received whose terminal update has not been read yet.
    var open: Int { received.withLock { $0.count } }
}
