import Foundation
import OTLPWire

/// One request's spans made ready to be written, by the thread that received them: grouped by
/// trace and encoded (one OTLP request per origin, concatenated), with the index entries they
/// need. The writer then only concatenates and inserts, so most of the work of ingesting runs
/// in parallel on the receiving threads rather than on the one writer.
struct PreparedSpans: Sendable {
    struct Chunk: Sendable {
        var traceID: TraceID
        /// One `ExportTraceServiceRequest` (or several, concatenated).
        var data: [UInt8]
        var spanIDs: [UInt64]
    }

    var chunks: [Chunk] = []
    /// Business ids by trace, without repeats.
    var businessIDs: [BusinessRow] = []
    /// Traces linked to from another trace, without repeats.
    var links: [LinkRow] = []
    var orders: [String: OrderUpdate] = [:]
    var spanCount = 0

    init(_ batches: [ExportedSpans]) {
        var traces: [TraceID: [(origin: Int, span: SpanData)]] = [:]
        for (index, batch) in batches.enumerated() {
            spanCount += batch.spans.count
            for span in batch.spans {
                traces[span.traceID, default: []].append((index, span))
            }
        }
        var business: Set<BusinessRow> = []
        var links: Set<LinkRow> = []
        chunks.reserveCapacity(traces.count)
        for (traceID, members) in traces {
            chunks.append(Chunk(traceID: traceID, data: Self.encode(members, batches: batches), spanIDs: members.map(\.span.spanID)))
            for (_, span) in members {
                for link in span.links where link.traceID != traceID {
                    links.insert(LinkRow(target: link.traceID.high, source: traceID))
                }
                var orderID: String?
                var userID: String?
                var status: String?
                for attribute in span.attributes {
                    guard case .string(let value) = attribute.value, !value.isEmpty else { continue }
                    guard let key = BusinessKey(attribute: attribute.key) else {
                        if attribute.key == "order.status" { status = value }
                        continue
                    }
                    business.insert(BusinessRow(key: key.rawValue, value: value, trace: traceID))
                    if key == .clientOrderID { orderID = value }
                    if key == .userID { userID = value }
                }
                if let orderID {
                    orders[orderID, default: OrderUpdate()].add(span, userID: userID, status: status)
                }
            }
        }
        businessIDs = Array(business)
        self.links = Array(links)
    }

    /// One `ExportTraceServiceRequest` per origin, concatenated, which is itself one valid
    /// request (protobuf appends repeated fields).
    static func encode(_ members: [(origin: Int, span: SpanData)], batches: [ExportedSpans]) -> [UInt8] {
        if let first = members.first?.origin, members.allSatisfy({ $0.origin == first }) {
            return OTLPTraceEncoder.protobuf(members.map(\.span), origin: batches[first].origin)
        }
        var byOrigin: [Int: [SpanData]] = [:]
        for (origin, span) in members {
            byOrigin[origin, default: []].append(span)
        }
        var data: [UInt8] = []
        for (origin, spans) in byOrigin.sorted(by: { $0.key < $1.key }) {
            data += OTLPTraceEncoder.protobuf(spans, origin: batches[origin].origin)
        }
        return data
    }
}

struct BusinessRow: Hashable, Sendable {
    var key: Int
    var value: String
    var trace: TraceID
}

struct LinkRow: Hashable, Sendable {
    var target: UInt64
    var source: TraceID
}

/// What a set of spans tells of one client order.
struct OrderUpdate: Sendable {
    var userID = ""
    var trace = TraceID(high: 0, low: 0)
    var hasRoot = false
    var received = Int64.max
    var status = ""
    var statusTime: Int64 = 0
    var completed = false
    var spanCount = 0

    mutating func add(_ span: SpanData, userID: String?, status: String?) {
        if let userID { self.userID = userID }
        let isRoot = span.name == "client_order_received"
        if isRoot || (!hasRoot && !trace.isValid) {
            trace = span.traceID
        }
        hasRoot = hasRoot || isRoot
        received = min(received, Int64(span.startTimeUnixNano / 1000))
        let end = Int64(span.endTimeUnixNano / 1000)
        if let status, end >= statusTime {
            self.status = status
            statusTime = end
        }
        completed = completed || span.name == "order_completed"
        spanCount += 1
    }

    mutating func merge(_ other: OrderUpdate) {
        if !other.userID.isEmpty { userID = other.userID }
        if other.hasRoot || (!hasRoot && !trace.isValid) { trace = other.trace }
        hasRoot = hasRoot || other.hasRoot
        received = min(received, other.received)
        if !other.status.isEmpty && other.statusTime >= statusTime {
            status = other.status
            statusTime = other.statusTime
        }
        completed = completed || other.completed
        spanCount += other.spanCount
    }
}

extension BusinessKey {
    /// The key for a span attribute, if the store indexes it; tells most keys apart by length
    /// before comparing.
    public init?(attribute: String) {
        var attribute = attribute
        let key: BusinessKey? = attribute.withUTF8 { utf8 in
            switch utf8.count {
            case 15: return Self.matches(utf8, "client.order_id") ? .clientOrderID : nil
            case 8: return Self.matches(utf8, "batch.id") ? .batchID : nil
            case 17: return Self.matches(utf8, "exchange.order_id") ? .exchangeOrderID : nil
            case 7: return Self.matches(utf8, "fill.id") ? .fillID : (Self.matches(utf8, "user.id") ? .userID : nil)
            default: return nil
            }
        }
        guard let key else { return nil }
        self = key
    }

    private static func matches(_ utf8: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
        guard utf8.count == name.utf8CodeUnitCount else { return false }
        return memcmp(utf8.baseAddress!, name.utf8Start, utf8.count) == 0
    }
}
