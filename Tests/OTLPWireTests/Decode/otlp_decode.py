#!/usr/bin/env python3
"""Decodes an OTLP ExportTraceServiceRequest with code that is not ours.

Reads the request from stdin and prints it as protobuf's own JSON rendering
(google.protobuf.json_format.MessageToJson), decoded with the generated classes of the
`opentelemetry-proto` package (pip install opentelemetry-proto==1.27.0).

    otlp_decode.py protobuf        stdin: protobuf binary  -> stdout: MessageToJson
    otlp_decode.py json            stdin: OTLP/JSON         -> stdout: MessageToJson
    otlp_decode.py protobuf-bytes  stdin: protobuf binary  -> stdout: hex of the re-serialized message
    otlp_decode.py json-bytes      stdin: OTLP/JSON         -> stdout: hex of the message serialized as protobuf
    otlp_decode.py check           exit 0 when opentelemetry.proto can be imported

OTLP/JSON differs from protobuf's JSON mapping in one way: traceId, spanId and parentSpanId
(in spans and links) are hex strings, where json_format expects base64. As the OpenTelemetry
collector does, they are decoded from hex (and must have exactly 32 or 16 hex digits, or be
empty) before the document is handed to json_format.Parse. The JSON must be strict: valid
UTF-8, no bare NaN/Infinity tokens, no duplicate keys, no unknown fields (json_format's default).

A protobuf request with fields unknown to opentelemetry-proto (a wrong field number) is
rejected: MessageToJson would silently drop them.

The output of MessageToJson has ids in base64, 64-bit integers as strings and enums by name.
Exit status 1 with a message on stderr when the input does not decode.
"""

import base64
import binascii
import json
import sys

if sys.argv[1:] == ["check"]:
    import opentelemetry.proto.collector.trace.v1.trace_service_pb2  # noqa: F401

    sys.exit(0)

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

# Key -> byte length, for the span fields and the link fields the collector reads as hex.
SPAN_IDS = {"traceId": 16, "trace_id": 16, "spanId": 8, "span_id": 8, "parentSpanId": 8, "parent_span_id": 8}
LINK_IDS = {"traceId": 16, "trace_id": 16, "spanId": 8, "span_id": 8}


def fail(message):
    sys.stderr.write("otlp_decode.py: " + message + "\n")
    sys.exit(1)


def hex_to_base64(obj, keys, where):
    for key, length in keys.items():
        if key not in obj:
            continue
        value = obj[key]
        if not isinstance(value, str):
            fail("%s.%s is not a string" % (where, key))
        if value == "":
            continue
        if len(value) != 2 * length:
            fail("%s.%s: invalid length for an id: %r" % (where, key, value))
        try:
            raw = binascii.unhexlify(value)
        except (binascii.Error, ValueError):
            fail("%s.%s: not hex: %r" % (where, key, value))
        obj[key] = base64.b64encode(raw).decode("ascii")


def each(obj, *names):
    for name in names:
        if name in obj:
            return obj[name] or []
    return []


def otlp_json_to_protobuf_json(document):
    for resource_spans in each(document, "resourceSpans", "resource_spans"):
        for scope_spans in each(resource_spans, "scopeSpans", "scope_spans"):
            for span in each(scope_spans, "spans"):
                hex_to_base64(span, SPAN_IDS, "span")
                for link in each(span, "links"):
                    hex_to_base64(link, LINK_IDS, "link")
    return document


def reject_constant(name):
    fail("not strict JSON: bare %s" % name)


def no_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            fail("duplicate key %r" % key)
        result[key] = value
    return result


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    data = sys.stdin.buffer.read()
    request = ExportTraceServiceRequest()
    if mode in ("protobuf", "protobuf-bytes"):
        try:
            request = ExportTraceServiceRequest.FromString(data)
        except Exception as error:  # DecodeError
            fail("protobuf does not decode: %s" % error)
        known = ExportTraceServiceRequest()
        known.CopyFrom(request)
        known.DiscardUnknownFields()
        if known.ByteSize() != request.ByteSize():
            fail("the protobuf holds fields unknown to opentelemetry-proto")
    elif mode in ("json", "json-bytes"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            fail("JSON is not valid UTF-8: %s" % error)
        try:
            document = json.loads(text, parse_constant=reject_constant, object_pairs_hook=no_duplicates)
        except ValueError as error:
            fail("not JSON: %s" % error)
        if not isinstance(document, dict):
            fail("the JSON is not an object")
        otlp_json_to_protobuf_json(document)
        try:
            json_format.Parse(json.dumps(document), request)
        except json_format.ParseError as error:
            fail("json_format.Parse: %s" % error)
    else:
        fail("usage: otlp_decode.py protobuf|json|protobuf-bytes|json-bytes|check")

    if mode.endswith("-bytes"):
        sys.stdout.write(request.SerializeToString(deterministic=True).hex())
    else:
        sys.stdout.write(json_format.MessageToJson(request))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
