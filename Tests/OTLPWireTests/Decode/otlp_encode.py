#!/usr/bin/env python3
"""Encodes an OTLP ExportTraceServiceRequest with code that is not ours.

Builds one request with the generated classes of the `opentelemetry-proto` package
(pip install opentelemetry-proto==1.27.0), using fields our encoder never writes (Span.flags
with bits above the W3C trace flags, schema URLs, scope attributes and dropped counts,
resource dropped counts, kvlist, bytes and mixed-array attributes, an AnyValue with nothing
set, several ResourceSpans and ScopeSpans), and prints one JSON object on stdout:

    {"protobuf": "<hex of SerializeToString()>",
     "json": "<MessageToJson(request)>, ids converted to hex",
     "json_snake": "<MessageToJson(request, preserving_proto_field_name=True)>, ids in hex"}

json_format writes bytes fields in base64, as protobuf's JSON mapping wants; OTLP/JSON wants
traceId, spanId and parentSpanId (in spans and links) as hex strings, so those are converted
(the inverse of what otlp_decode.py does). Everything else is json_format's own output: enums
by name, 64-bit integers as strings, NaN as "NaN", bytesValue in base64.

Tests/OTLPWireTests/OTLPTraceDecoderTests.swift holds the expected decoded values.

    otlp_encode.py           print the request as above
    otlp_encode.py check     exit 0 when opentelemetry.proto can be imported
"""

import base64
import json
import sys

if sys.argv[1:] == ["check"]:
    import opentelemetry.proto.collector.trace.v1.trace_service_pb2  # noqa: F401

    sys.exit(0)

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

TRACE = bytes(range(1, 17))
OTHER_TRACE = bytes(range(0xA1, 0xB1))
START = 1732950000123456789


def kv(key, value):
    return KeyValue(key=key, value=value)


def s(text):
    return AnyValue(string_value=text)


def build():
    request = ExportTraceServiceRequest()

    first = request.resource_spans.add()
    first.schema_url = "https://opentelemetry.io/schemas/1.21.0"
    first.resource.attributes.extend([kv("service.name", s("py-svc")), kv("host.name", s("py-host"))])
    first.resource.dropped_attributes_count = 2

    scope_spans = first.scope_spans.add()
    scope_spans.schema_url = "https://opentelemetry.io/schemas/1.21.0"
    scope_spans.scope.name = "py.scope"
    scope_spans.scope.version = "0.1"
    scope_spans.scope.attributes.extend([kv("scope.attribute", s("x"))])
    scope_spans.scope.dropped_attributes_count = 1

    span = scope_spans.spans.add()
    span.trace_id = TRACE
    span.span_id = bytes.fromhex("1112131415161718")
    span.trace_state = "vendor=abc"
    span.flags = 0x301  # sampled, plus the "has is_remote" and "is_remote" bits
    span.name = "GET /orders"
    span.kind = Span.SPAN_KIND_SERVER
    span.start_time_unix_nano = START
    span.end_time_unix_nano = START + 1500
    nested = KeyValueList(values=[
        kv("a", s("x")),
        kv("n", AnyValue(int_value=1)),
        kv("list", AnyValue(array_value=ArrayValue(values=[
            AnyValue(int_value=1), s("two"), AnyValue(bool_value=True), AnyValue(double_value=2.5), AnyValue(bytes_value=b"\x01"),
        ]))),
        kv("empty", AnyValue()),
    ])
    empty_value = KeyValue(key="empty.value")
    empty_value.value.SetInParent()
    span.attributes.extend([
        kv("str", s("plain é")),
        kv("bool", AnyValue(bool_value=True)),
        kv("int", AnyValue(int_value=-5)),
        kv("double", AnyValue(double_value=1.5)),
        kv("nan", AnyValue(double_value=float("nan"))),
        kv("strings", AnyValue(array_value=ArrayValue(values=[s("a"), s("b")]))),
        kv("ints", AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(int_value=2)]))),
        kv("empty.array", AnyValue(array_value=ArrayValue())),
        kv("mixed", AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1), s("a")]))),
        kv("kvlist", AnyValue(kvlist_value=nested)),
        kv("bytes", AnyValue(bytes_value=b"\x00\x01\xfe\xff")),
        KeyValue(key="no.value"),
        empty_value,
    ])
    span.dropped_attributes_count = 3
    event = span.events.add()
    event.time_unix_nano = START + 10
    event.name = "exception"
    event.attributes.extend([kv("exception.message", s("boom"))])
    event.dropped_attributes_count = 6
    span.dropped_events_count = 4
    link = span.links.add()
    link.trace_id = OTHER_TRACE
    link.span_id = bytes.fromhex("c1c2c3c4c5c6c7c8")
    link.trace_state = "k=v"
    link.attributes.extend([kv("link.attribute", AnyValue(int_value=7))])
    link.dropped_attributes_count = 1
    link.flags = 0x101
    span.dropped_links_count = 5
    span.status.code = Status.STATUS_CODE_ERROR
    span.status.message = "boom"

    child = scope_spans.spans.add()
    child.trace_id = TRACE
    child.span_id = bytes.fromhex("0000000000000021")
    child.parent_span_id = bytes.fromhex("1112131415161718")
    child.name = "process"
    child.kind = Span.SPAN_KIND_CONSUMER
    child.start_time_unix_nano = START + 1
    child.end_time_unix_nano = START + 2
    child.status.code = Status.STATUS_CODE_OK

    second_scope = first.scope_spans.add()
    second_scope.scope.name = "second"
    client = second_scope.spans.add()
    client.trace_id = OTHER_TRACE
    client.span_id = bytes.fromhex("00000000000000c1")
    client.name = "client"
    client.kind = Span.SPAN_KIND_CLIENT

    other = request.resource_spans.add()
    other.resource.attributes.extend([kv("service.name", s("other"))])
    bare = other.scope_spans.add().spans.add()
    bare.trace_id = OTHER_TRACE
    bare.span_id = bytes.fromhex("00000000000000d1")
    return request


IDS = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")


def ids_to_hex(document):
    for resource_spans in document.get("resourceSpans", document.get("resource_spans", [])):
        for scope_spans in resource_spans.get("scopeSpans", resource_spans.get("scope_spans", [])):
            for span in scope_spans.get("spans", []):
                for obj in [span] + span.get("links", []):
                    for key in IDS:
                        if key in obj:
                            obj[key] = base64.b64decode(obj[key]).hex()
    return document


def main():
    request = build()
    camel = ids_to_hex(json.loads(json_format.MessageToJson(request)))
    snake = ids_to_hex(json.loads(json_format.MessageToJson(request, preserving_proto_field_name=True)))
    json.dump({
        "protobuf": request.SerializeToString().hex(),
        "json": json.dumps(camel, indent=2, ensure_ascii=False),
        "json_snake": json.dumps(snake, ensure_ascii=True),
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
