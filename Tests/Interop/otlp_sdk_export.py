"""Sends spans to an OTLP/HTTP endpoint with the OpenTelemetry Python SDK's own exporter.

Usage: otlp_sdk_export.py ENDPOINT ORDER_ID
Creates a root span and a child (with attributes, an event and a link to the root), exports
them with opentelemetry-exporter-otlp-proto-http (protobuf, gzip), and prints their ids as JSON.
"""
import json
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

endpoint, order_id = sys.argv[1], sys.argv[2]
provider = TracerProvider(resource=Resource.create({"service.name": "python-sdk-peer"}))
exporter = OTLPSpanExporter(endpoint=endpoint, compression=Compression.Gzip, timeout=60)
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("ordertrace-interop")

with tracer.start_as_current_span("client_order_received", kind=trace.SpanKind.SERVER,
                                  attributes={"client.order_id": order_id, "user.id": "py-user",
                                              "order.quantity": 7, "ratio": 0.5, "tags": ["a", "b"]}) as root:
    root_context = root.get_span_context()
    with tracer.start_as_current_span("order_manager_processing",
                                      links=[trace.Link(root_context, {"why": "test"})]) as child:
        child.add_event("validated", {"rules": 3})
        child_context = child.get_span_context()

provider.force_flush()
provider.shutdown()
print(json.dumps({
    "traceId": format(root_context.trace_id, "032x"),
    "rootSpanId": format(root_context.span_id, "016x"),
    "childSpanId": format(child_context.span_id, "016x"),
}))
