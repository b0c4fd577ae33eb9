import OTLPWire
import TraceStore
import WireJSON

/// One trace in the shape of Jaeger's query API (`GET /api/traces/{id}`), which Grafana's
/// Jaeger data source reads: parents as `CHILD_OF` references, links as `FOLLOWS_FROM`, one
/// process per service.
enum JaegerJSON {
    static func trace(_ traceID: TraceID, spans: [StoredSpan]) -> [UInt8] {
        var services: [String] = []
        var resources: [String: [Attribute]] = [:]
        for span in spans where resources[span.service] == nil {
            services.append(span.service)
            resources[span.service] = span.resource
        }
        return JSONWriter.object { json in
            json.key("data")
            json.beginArray()
            json.beginObject()
            json.field("traceID", traceID.hex)
            json.key("spans")
            json.beginArray()
            for stored in spans {
                let span = stored.span
                json.beginObject()
                json.field("traceID", traceID.hex)
                json.field("spanID", spanIDHex(span.spanID))
                json.field("flags", Int(span.traceFlags))
                json.field("operationName", span.name)
                json.key("references")
                json.beginArray()
                if span.parentSpanID != 0 {
                    reference("CHILD_OF", traceID, span.parentSpanID, into: &json)
                }
                for link in span.links {
                    reference("FOLLOWS_FROM", link.traceID, link.spanID, into: &json)
                }
                json.endArray()
                json.field("startTime", Int64(span.startTimeUnixNano / 1000))
                json.field("duration", span.durationMicroseconds)
                var tags = span.attributes
                tags.append(Attribute("span.kind", .string(APIJSON.kindName(span.kind))))
                if span.statusCode == .error {
                    tags.append(Attribute("error", .bool(true)))
                    if !span.statusMessage.isEmpty { tags.append(Attribute("otel.status_description", .string(span.statusMessage))) }
                }
                json.key("tags")
                self.tags(tags, into: &json)
                json.key("logs")
                json.beginArray()
                for event in span.events {
                    json.beginObject()
                    json.field("timestamp", Int64(event.timeUnixNano / 1000))
                    json.key("fields")
                    self.tags([Attribute("event", .string(event.name))] + event.attributes, into: &json)
                    json.endObject()
                }
                json.endArray()
                json.field("processID", "p\((services.firstIndex(of: stored.service) ?? 0) + 1)")
                json.endObject()
            }
            json.endArray()
            json.key("processes")
            json.beginObject()
            for (index, service) in services.enumerated() {
                json.key("p\(index + 1)")
                json.beginObject()
                json.field("serviceName", service)
                json.key("tags")
                tags((resources[service] ?? []).filter { $0.key != "service.name" }, into: &json)
                json.endObject()
            }
            json.endObject()
            json.endObject()
            json.endArray()
            json.field("total", 0)
            json.field("limit", 0)
            json.field("offset", 0)
            json.key("errors")
            json.null()
        }
    }

    private static func reference(_ type: String, _ traceID: TraceID, _ spanID: UInt64, into json: inout JSONWriter) {
        json.beginObject()
        json.field("refType", type)
        json.field("traceID", traceID.hex)
        json.field("spanID", spanIDHex(spanID))
        json.endObject()
    }

    private static func tags(_ attributes: [Attribute], into json: inout JSONWriter) {
        json.beginArray()
        for attribute in attributes {
            json.beginObject()
            json.field("key", attribute.key)
            switch attribute.value {
            case .string(let text):
                json.field("type", "string")
                json.field("value", text)
            case .bool(let flag):
                json.field("type", "bool")
                json.field("value", flag)
            case .int(let number):
                json.field("type", "int64")
                json.field("value", number)
            case .double(let number):
                json.field("type", "float64")
                json.key("value")
                json.double(number)
            default:
                // Arrays: Jaeger has no array tags; the OTLP/JSON-like text, as Jaeger's own
                // OTLP receiver writes them.
                var text: [UInt8] = []
                JSONWriter.write(into: &text) { inner in APIJSON.value(attribute.value, into: &inner) }
                json.field("type", "string")
                json.field("value", String(decoding: text, as: UTF8.self))
            }
            json.endObject()
        }
        json.endArray()
    }
}
