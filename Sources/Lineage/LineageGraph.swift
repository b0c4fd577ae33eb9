import OTLPWire
import TraceStore

/// One id's connected graph across traces, as ``LineageBuilder`` finds it.
public struct LineageGraph: Sendable {
    /// The id asked for.
    public var query: String
    /// What the id was found as, in which traces (the seeds).
    public var matches: [IDMatch]
    /// Whether the limits cut the graph short: some linked traces are then stubs.
    public var truncated: Bool
    public var limits: LineageLimits
    /// Every trace in the graph: loaded whole, or only referenced (a stub).
    public var traces: [TraceNode]
    /// The spans of the loaded traces.
    public var spans: [StoredSpan]
    public var edges: [LineageEdge]
    /// Spans whose parent never arrived.
    public var missingParents: [MissingReference]
    /// Links whose target never arrived.
    public var missingLinks: [MissingReference]
    /// A completeness report per client order in the graph.
    public var orders: [OrderCompleteness]
}

/// How far ``LineageBuilder`` goes.
///
/// The seeds (the traces the id is found in) and the traces one link away from them, in either
/// direction, are loaded whole; traces further away appear as stubs: the spans their links
/// point at, not their contents. At most ``maxTraces`` traces and ``maxSpans`` spans are loaded;
/// past either, the rest are stubs too and the graph says it was truncated.
public struct LineageLimits: Hashable, Sendable {
    public var maxTraces: Int
    public var maxSpans: Int

    public init(maxTraces: Int = 256, maxSpans: Int = 20_000) {
        self.maxTraces = maxTraces
        self.maxSpans = maxSpans
    }
}

/// A trace in the graph.
public struct TraceNode: Hashable, Sendable {
    public enum Kind: String, Sendable {
        /// Its root is `client_order_received`.
        case order
        /// Its root is `order_batching`.
        case batch
        case other
    }

    public var traceID: TraceID
    public var kind: Kind
    /// `order o-42`, `batch b-7`, or the root span's name.
    public var label: String
    /// 0 when the root never arrived or the trace is a stub.
    public var rootSpanID: UInt64
    public var rootName: String
    /// Microseconds since 1970.
    public var start: Int64
    public var end: Int64
    public var spanCount: Int
    /// Whether its spans are in ``LineageGraph/spans`` (false for a stub).
    public var loaded: Bool
    /// Whether the id was found in it.
    public var seed: Bool
}

/// A span, by trace and span id.
public struct SpanReference: Hashable, Sendable {
    public var traceID: TraceID
    public var spanID: UInt64

    public init(traceID: TraceID, spanID: UInt64) {
        self.traceID = traceID
        self.spanID = spanID
    }
}

/// An edge: "`from` *role* `to`".
public struct LineageEdge: Hashable, Sendable {
    public enum EdgeType: String, Sendable {
        case parent, link
    }

    public enum Role: String, Sendable {
        /// A span and its parent, inside one trace.
        case childOf = "child of"
        /// The algorithm's span and an exchange order it sent.
        case splitInto = "split into"
        /// A client order's span and its batch's `order_batching`.
        case batchedInto = "batched into"
        /// A client order's span and the `fill_matching` that filled it.
        case filledBy = "filled by"
        /// A `fill_matching` and a client order's span it allocated to.
        case allocatedTo = "allocated to"
        /// A `fill_matching` and the fill it matched.
        case matches
        /// Any other link.
        case linkedTo = "linked to"
    }

    public var from: SpanReference
    public var to: SpanReference
    public var type: EdgeType
    public var role: Role
}

/// A span that another refers to (as parent or link target) but that is not stored.
public struct MissingReference: Hashable, Sendable {
    /// The absent span.
    public var missing: SpanReference
    /// The span that refers to it.
    public var referencedBy: SpanReference
}

/// How far one client order got, against `trace-model.md`.
public struct OrderCompleteness: Hashable, Sendable {
    public var clientOrderID: String
    public var userID: String
    /// Its order trace, if any of it arrived.
    public var traceID: TraceID?
    public var batchIDs: [String]
    /// `client_order_received` arrived.
    public var received: Bool
    /// `client_order_batched` arrived and its batch's `order_batching` too.
    public var batched: Bool
    /// Its batch trace holds an `exchange_order_send`.
    public var sentToExchange: Bool
    /// Distinct `fill_matching` spans that allocated to it.
    public var fills: Int
    /// Updates published for it (`send order-updates` spans in its order trace).
    public var updates: Int
    /// `client_order_update_delivered` spans (0 when its owner was not connected).
    public var updatesDelivered: Int
    /// `order_completed` arrived.
    public var completed: Bool
    /// The last `order.status` seen.
    public var status: String
    /// Everything above that its status calls for is there, and nothing it refers to is
    /// missing. Deliveries are not required: an owner who is not connected gets none.
    public var complete: Bool
    /// What is missing, in words.
    public var problems: [String]
}
