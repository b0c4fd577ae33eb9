/// Checks the invariants of `pipeline.md` on what the pipeline consumed and produced: client orders, batches,
/// fills and order updates, each in the order its topic holds them (so per batch and per order, in processing
/// order).
///
/// Kafka is at-least-once, so an update or fill repeated with identical content is a redelivery, not a
/// violation; the same `fillId` with different content, or an order counting a fill twice, is. The audit is
/// meant for a drained pipeline: a snapshot taken while a fill's updates are still in flight shows that fill as
/// not fully allocated.
///
/// What each invariant checks:
/// 1. every execution's `quantity` equals the sum of `lastQuantity` of the updates naming its `fillId` (a
///    `rejected`/`canceled` fill allocates nothing); an allocation names a fill.
/// 2. every update has 0 ≤ cumulative ≤ quantity and cumulative + leaves == quantity; cumulative is the sum of
///    the order's allocations; a non-terminal status fits its quantities.
/// 3. per batch, the allocations sum to the executions, which do not exceed the batch's quantity.
/// 4. `notional` equals Σ lastQuantity × lastPrice of the order's allocations; `averagePrice` is `notional`
///    over cumulative rounded to the nearest tick (halves up); `lastPrice` is the fill's price.
/// 5. no order counts the same fill twice, and updates naming the same fill for one order agree.
/// 6. once terminal, an order's status never changes; a terminal status fits the quantities; with
///    `requireTerminal`, every order ends terminal.
/// 7. with the batches given, replaying each batch's fills through ``BatchAllocation`` gives exactly the
///    allocations observed.
public enum OrderAudit {
    /// Every violation found, in a deterministic order (by subject as first met in the inputs).
    ///
    /// - Parameters:
    ///   - clientOrders: the orders as accepted (their quantities are the reference).
    ///   - batches: the batches; when empty, a batch's quantity is taken as its members' (from the updates), and
    ///     invariant 7 is not checked.
    ///   - fills: the fills, in topic order.
    ///   - updates: the order updates, in topic order.
    ///   - requireTerminal: also report orders that did not reach a terminal status (for a finished run).
    public static func violations(
        clientOrders: [ClientOrder], batches: [Batch] = [], fills: [Fill], updates: [OrderUpdate],
        requireTerminal: Bool = false
    ) -> [InvariantViolation] {
        var audit = AuditRun(clientOrders: clientOrders, batches: batches, fills: fills, updates: updates)
        audit.checkOrders(requireTerminal: requireTerminal)
        audit.checkFills()
        audit.checkBatches()
        audit.checkReplay()
        return audit.violations
    }
}
