import Hummingbird
import Lineage
import NIOCore
import OTLPWire
import TraceStore

/// The JSON API under `/api/` (`docs/explorer-api.md`).
struct ExplorerAPI: Sendable {
    let store: TraceStore
    let limits: LineageLimits
    let explorer: Explorer

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/lineage") { request, _ in
            guard let id = request.uri.queryParameters.get("id"), !id.isEmpty else {
                return json(.badRequest, APIJSON.error("give an id: /api/lineage?id=<client order, batch, exchange order, fill, trace or span id>"))
            }
            guard let graph = try await LineageBuilder(store: store, limits: limits).lineage(of: id) else {
                return json(.notFound, APIJSON.error("nothing found for \(id)"))
            }
            return json(.ok, APIJSON.lineage(graph))
        }
        router.get("/api/orders") { request, _ in
            let parameters = request.uri.queryParameters
            let filterText = parameters.get("filter") ?? "all"
            guard let filter = OrderFilter(rawValue: filterText) else {
                return json(.badRequest, APIJSON.error("filter must be all, incomplete or complete, not \(filterText)"))
            }
            let limit = parameters.get("limit").flatMap { Int($0) } ?? 50
            let orders = try await store.recentOrders(filter: filter, user: parameters.get("user"), limit: limit)
            return json(.ok, APIJSON.orders(orders))
        }
        router.get("/api/search") { request, _ in
            let text = request.uri.queryParameters.get("q") ?? ""
            var matches = try await store.resolve(text)
            for match in try await store.search(prefix: text) where !matches.contains(match) && matches.count < 50 {
                matches.append(match)
            }
            return json(.ok, APIJSON.matches(matches))
        }
        router.get("/api/traces/:traceID") { _, context in
            let text = context.parameters.get("traceID") ?? ""
            guard let traceID = TraceID(hex: text) else {
                return json(.badRequest, APIJSON.error("\(text) is not a trace id (32 hex digits)"))
            }
            let spans = try await store.spans(inTrace: traceID)
            guard !spans.isEmpty else {
                return json(.notFound, APIJSON.error("trace \(traceID.hex) not found"))
            }
            return json(.ok, JaegerJSON.trace(traceID, spans: spans))
        }
        router.get("/api/lag") { _, _ in
            guard let lag = explorer.lag else { return json(.ok, LagJSON.off()) }
            return json(.ok, LagJSON.overview(lag.lagOverview()))
        }
        router.get("/api/stats") { _, _ in
            let statistics = try await store.statistics()
            let counters = explorer.counters.withLock { $0 }
            return json(.ok, APIJSON.statistics(statistics, rejected: counters.rejected, busy: counters.busy))
        }
    }

    private func json(_ status: HTTPResponse.Status, _ body: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
