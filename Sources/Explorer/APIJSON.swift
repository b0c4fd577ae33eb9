import Lineage
import OTLPWire
import TraceStore
import WireJSON

/// The JSON API's documents (`docs/explorer-api.md`).
enum APIJSON {
    static func lineage(_ graph: LineageGraph) -> [UInt8] {
        JSONWriter.object { json in
            json.field("query", graph.query)
            matchList(graph.matches, into: &json)
            json.field("truncated", graph.truncated)
            json.key("limits")
            json.beginObject()
            json.field("maxTraces", graph.limits.maxTraces)
            json.field("maxSpans", graph.limits.maxSpans)
            json.endObject()
            json.key("traces")
            json.beginArray()
            for trace in graph.traces {
                json.beginObject()
                json.field("traceId", trace.traceID.hex)
                json.field("kind", trace.kind.rawValue)
                json.field("label", trace.label)
                json.field("rootSpanId", trace.rootSpanID == 0 ? "" : spanIDHex(trace.rootSpanID))
                json.field("rootName", trace.rootName)
                json.field("start", trace.start)
                json.field("end", trace.end)
                json.field("spanCount", trace.spanCount)
                json.field("loaded", trace.loaded)
                json.field("seed", trace.seed)
                json.endObject()
            }
            json.endArray()
            json.key("spans")
            json.beginArray()
            for span in graph.spans {
                self.span(span, into: &json)
            }
            json.endArray()
            json.key("edges")
            json.beginArray()
            for edge in graph.edges {
                json.beginObject()
                json.key("from")
                reference(edge.from, into: &json)
                json.key("to")
                reference(edge.to, into: &json)
                json.field("type", edge.type.rawValue)
                json.field("role", edge.role.rawValue)
                json.endObject()
            }
            json.endArray()
            json.key("missing")
            json.beginObject()
            json.key("parents")
            missing(graph.missingParents, into: &json)
            json.key("links")
            missing(graph.missingLinks, into: &json)
            json.endObject()
            json.key("orders")
            json.beginArray()
            for order in graph.orders {
                json.beginObject()
                json.field("clientOrderId", order.clientOrderID)
                json.field("userId", order.userID)
                json.field("traceId", order.traceID?.hex ?? "")
                json.key("batchIds")
                json.beginArray()
                for batch in order.batchIDs { json.string(batch) }
                json.endArray()
                json.field("received", order.received)
                json.field("batched", order.batched)
                json.field("sentToExchange", order.sentToExchange)
                json.field("fills", order.fills)
                json.field("updates", order.updates)
                json.field("updatesDelivered", order.updatesDelivered)
                json.field("completed", order.completed)
                json.field("status", order.status)
                json.field("complete", order.complete)
                json.key("problems")
                json.beginArray()
                for problem in order.problems { json.string(problem) }
                json.endArray()
                json.endObject()
            }
            json.endArray()
        }
    }

    static func orders(_ orders: [OrderSummary]) -> [UInt8] {
        JSONWriter.object { json in
            json.key("orders")
            json.beginArray()
            for order in orders {
                json.beginObject()
                json.field("clientOrderId", order.clientOrderID)
                json.field("userId", order.userID)
                json.field("traceId", order.traceID.hex)
                json.field("received", order.received)
                json.field("status", order.status)
                json.field("completed", order.completed)
                json.field("spanCount", order.spanCount)
                json.endObject()
            }
            json.endArray()
        }
    }

    static func matches(_ matches: [IDMatch]) -> [UInt8] {
        JSONWriter.object { json in matchList(matches, into: &json) }
    }

    /// `"matches": [{"key", "value", "traceId"}, ...]`.
    private static func matchList(_ matches: [IDMatch], into json: inout JSONWriter) {
        json.key("matches")
        json.beginArray()
        for match in matches {
            json.beginObject()
            json.field("key", match.key)
            json.field("value", match.value)
            json.field("traceId", match.traceID.hex)
            json.endObject()
        }
        json.endArray()
    }

    static func statistics(_ statistics: StoreStatistics, rejected: Int, busy: Int) -> [UInt8] {
        JSONWriter.object { json in
            json.field("spans", statistics.spans)
            json.field("traces", statistics.traces)
            json.field("orders", statistics.orders)
            json.field("bytes", statistics.bytes)
            json.field("oldest", statistics.oldest)
            json.field("ingestedSpans", statistics.ingestedSpans)
            json.field("pendingSpans", statistics.pendingSpans)
            json.field("rejectedRequests", rejected)
            json.field("busyRequests", busy)
        }
    }

    static func error(_ message: String) -> [UInt8] {
        JSONWriter.object { json in json.field("error", message) }
    }

    private static func reference(_ reference: SpanReference, into json: inout JSONWriter) {
        json.beginObject()
        json.field("traceId", reference.traceID.hex)
        json.field("spanId", spanIDHex(reference.spanID))
        json.endObject()
    }

    private static func missing(_ references: [MissingReference], into json: inout JSONWriter) {
        json.beginArray()
        for missing in references {
            json.beginObject()
            json.field("traceId", missing.missing.traceID.hex)
            json.field("spanId", spanIDHex(missing.missing.spanID))
            json.field("referencedBy", spanIDHex(missing.referencedBy.spanID))
            json.field("referencedByTraceId", missing.referencedBy.traceID.hex)
            json.endObject()
        }
        json.endArray()
    }

    static func span(_ stored: StoredSpan, into json: inout JSONWriter) {
        let span = stored.span
        json.beginObject()
        json.field("traceId", span.traceID.hex)
        json.field("spanId", spanIDHex(span.spanID))
        json.field("parentSpanId", span.parentSpanID == 0 ? "" : spanIDHex(span.parentSpanID))
        json.field("name", span.name)
        json.field("kind", kindName(span.kind))
        json.field("service", stored.service)
        json.field("start", Int64(span.startTimeUnixNano / 1000))
        json.field("duration", span.durationMicroseconds)
        json.field("status", statusName(span.statusCode))
        json.field("statusMessage", span.statusMessage)
        json.key("attributes")
        attributes(span.attributes, into: &json)
        json.key("events")
        json.beginArray()
        for event in span.events {
            json.beginObject()
            json.field("name", event.name)
            json.field("time", Int64(event.timeUnixNano / 1000))
            json.key("attributes")
            attributes(event.attributes, into: &json)
            json.endObject()
        }
        json.endArray()
        json.key("links")
        json.beginArray()
        for link in span.links {
            json.beginObject()
            json.field("traceId", link.traceID.hex)
            json.field("spanId", spanIDHex(link.spanID))
            json.key("attributes")
            attributes(link.attributes, into: &json)
            json.endObject()
        }
        json.endArray()
        json.endObject()
    }

    static func attributes(_ attributes: [Attribute], into json: inout JSONWriter) {
        json.beginObject()
        for attribute in attributes {
            json.key(attribute.key)
            value(attribute.value, into: &json)
        }
        json.endObject()
    }

    static func value(_ value: AttributeValue, into json: inout JSONWriter) {
        switch value {
        case .string(let text): json.string(text)
        case .bool(let flag): json.bool(flag)
        case .int(let number): json.integer(number)
        case .double(let number): json.double(number)
        case .stringArray(let values):
            json.beginArray()
            for item in values { json.string(item) }
            json.endArray()
        case .boolArray(let values):
            json.beginArray()
            for item in values { json.bool(item) }
            json.endArray()
        case .intArray(let values):
            json.beginArray()
            for item in values { json.integer(item) }
            json.endArray()
        case .doubleArray(let values):
            json.beginArray()
            for item in values { json.double(item) }
            json.endArray()
        }
    }

    static func kindName(_ kind: SpanDataKind) -> String {
        switch kind {
        case .unspecified: "unspecified"
        case .internal: "internal"
        case .server: "server"
        case .client: "client"
        case .producer: "producer"
        case .consumer: "consumer"
        }
    }

    static func statusName(_ code: SpanDataStatusCode) -> String {
        switch code {
        case .unset: "unset"
        case .ok: "ok"
        case .error: "error"
        }
    }
}

extension SpanData {
    /// End minus start, in microseconds (0 for a span that ends before it starts).
    var durationMicroseconds: Int64 {
        endTimeUnixNano >= startTimeUnixNano ? Int64((endTimeUnixNano - startTimeUnixNano) / 1000) : 0
    }
}
