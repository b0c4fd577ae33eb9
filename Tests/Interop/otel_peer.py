#!/usr/bin/env python3
"""A peer that speaks W3C Trace Context and Baggage with the OpenTelemetry Python SDK.

    otel_peer.py inject   prints {"headers": {...}, "traceId", "spanId", "baggage": {...}}
                          for a span it started and baggage it set (stdin may give
                          {"baggage": {...}} to set instead of the default entries)
    otel_peer.py extract  reads {"traceparent": ..., "baggage": ...} on stdin and prints
                          {"traceId", "spanId", "sampled", "baggage": {...}} as the SDK sees them
"""
import json
import sys

from opentelemetry import baggage, context, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

BAGGAGE = {
    "user.id": "alice",
    "client.order_id": "c-1001",
    "note": "ünïcode € and , ; = signs",
    "vendor.key": "kept as is",
}


def inject():
    text = sys.stdin.read()
    entries = json.loads(text)["baggage"] if text.strip() else BAGGAGE
    tracer = TracerProvider().get_tracer("otel-peer")
    ctx = context.get_current()
    for key, value in entries.items():
        ctx = baggage.set_baggage(key, value, context=ctx)
    context.attach(ctx)
    with tracer.start_as_current_span("python-producer") as span:
        carrier = {}
        current = context.get_current()
        TraceContextTextMapPropagator().inject(carrier, context=current)
        W3CBaggagePropagator().inject(carrier, context=current)
        span_context = span.get_span_context()
        print(json.dumps({
            "headers": carrier,
            "traceId": format(span_context.trace_id, "032x"),
            "spanId": format(span_context.span_id, "016x"),
            "baggage": entries,
        }))


def extract():
    carrier = json.load(sys.stdin)
    ctx = TraceContextTextMapPropagator().extract(carrier)
    ctx = W3CBaggagePropagator().extract(carrier, context=ctx)
    span_context = trace.get_current_span(ctx).get_span_context()
    print(json.dumps({
        "traceId": format(span_context.trace_id, "032x") if span_context.is_valid else None,
        "spanId": format(span_context.span_id, "016x") if span_context.is_valid else None,
        "sampled": span_context.trace_flags.sampled if span_context.is_valid else None,
        "baggage": dict(baggage.get_all(ctx)),
    }))


if __name__ == "__main__":
    {"inject": inject, "extract": extract}[sys.argv[1]]()
