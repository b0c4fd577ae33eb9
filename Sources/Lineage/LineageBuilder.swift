import OTLPWire
import TraceStore

/// Builds an id's ``LineageGraph`` from a ``TraceStore``.
public struct LineageBuilder: Sendable {
    public var store: TraceStore
    public var limits: LineageLimits

    public init(store: TraceStore, limits: LineageLimits = LineageLimits()) {
        self.store = store
        self.limits = limits
    }

    /// The graph of `id`, or `nil` when the id is found nowhere.
    public func lineage(of id: String) async throws -> LineageGraph? {
        let matches = try await store.resolve(id)
        guard !matches.isEmpty else { return nil }
        var seeds: [TraceID] = []
        for match in matches where !seeds.contains(match.traceID) {
            seeds.append(match.traceID)
        }

        var loaded: [TraceID: [StoredSpan]] = [:]
        var order: [TraceID] = []
        var spanCount = 0
        var truncated = false
        func load(_ traceID: TraceID) async throws {
            guard loaded[traceID] == nil else { return }
            guard loaded.count < limits.maxTraces, spanCount < limits.maxSpans else {
                truncated = true
                return
            }
            var spans = try await store.spans(inTrace: traceID)
            // A trace none of whose spans arrived stays a stub.
            guard !spans.isEmpty else { return }
            if spanCount + spans.count > limits.maxSpans {
                spans = Array(spans.prefix(limits.maxSpans - spanCount))
                truncated = true
            }
            spanCount += spans.count
            loaded[traceID] = spans
            order.append(traceID)
        }
        for seed in seeds {
            try await load(seed)
        }
        // One link away, in either direction.
        var neighbours: [TraceID] = []
        for seed in seeds {
            for span in loaded[seed] ?? [] {
                for link in span.span.links where link.traceID != seed && !neighbours.contains(link.traceID) {
                    neighbours.append(link.traceID)
                }
            }
            for source in try await store.traces(linkingTo: seed) where source != seed && !neighbours.contains(source) {
                neighbours.append(source)
            }
        }
        for neighbour in neighbours {
            try await load(neighbour)
        }

        let graph = LineageAssembly(query: id, matches: matches, seeds: Set(seeds), traceOrder: order, loaded: loaded)
        // Link targets in traces that were not loaded: stored, or missing?
        let outside = graph.linkTargetsOutside()
        let stored = try await store.storedSpans(outside.map { ($0.traceID, $0.spanID) })
        return graph.assemble(storedOutside: stored, truncated: truncated, limits: limits)
    }
}
