import OTLPWire
import Testing

@Suite("Spans encoded as they end: the same request bytes as the spans' values give")
struct EncodedSpansTests {
    static func encoded(_ spans: [SpanData]) -> EncodedSpans {
        var encoded = EncodedSpans()
        for span in spans { encoded.append(span) }
        return encoded
    }

    @Test("every kind of span, alone and together, frames into the request the values encode to")
    func sameBytesAsValues() throws {
        let all = Fixture.spans + [Fixture.bare]
        #expect(Self.encoded(all).count == all.count)
        #expect(OTLPTraceEncoder.protobuf(Self.encoded(all), origin: Fixture.origin) == OTLPTraceEncoder.protobuf(all, origin: Fixture.origin))
        for span in all {
            #expect(OTLPTraceEncoder.protobuf(Self.encoded([span]), origin: Fixture.origin) == OTLPTraceEncoder.protobuf([span], origin: Fixture.origin))
        }
        let decoded = try OTLPTraceDecoder.protobuf(OTLPTraceEncoder.protobuf(Self.encoded(all), origin: Fixture.origin))
        #expect(decoded.flatMap(\.spans).map(\.spanID) == all.map(\.spanID))
        #expect(OTLPTraceEncoder.protobuf(EncodedSpans(), origin: Fixture.origin).isEmpty)
    }

    /// Spans whose lengths take other byte counts than the one-pass encoder keeps for them: a
    /// span under 128 bytes (one length byte, not two), over 16 KB (three), attributes, arrays,
    /// links, events and a status message of 127, 128 and 300 bytes, and a long key.
    static let lengthEdges: [SpanData] = {
        func text(_ count: Int) -> String { String(repeating: "x", count: count) }
        var spans: [SpanData] = []
        spans.append(SpanData(traceID: Fixture.trace, spanID: 1, name: "s", startTimeUnixNano: 0, endTimeUnixNano: 0))
        for count in [1, 100, 127, 128, 129, 300, 16_383, 16_384, 70_000] {
            spans.append(SpanData(
                traceID: Fixture.trace, spanID: 2, parentSpanID: 3, traceState: text(min(count, 200)), traceFlags: 1, name: text(count), kind: .internal,
                startTimeUnixNano: Fixture.start, endTimeUnixNano: Fixture.start + 1,
                attributes: [
                    Attribute(text(count), .string(text(count))),
                    Attribute("k", .string(text(count))),
                    Attribute("strings", .stringArray([text(count), "", text(count)])),
                    Attribute("ints", .intArray(Array(repeating: -1, count: count % 200))),
                    Attribute("bools", .boolArray(Array(repeating: true, count: count % 100))),
                    Attribute("doubles", .doubleArray(Array(repeating: 0.5, count: count % 50))),
                ],
                events: [SpanEventData(name: text(count), timeUnixNano: 0, attributes: [Attribute("e", .string(text(count)))])],
                links: [SpanLinkData(traceID: Fixture.otherTrace, spanID: 4, traceState: text(min(count, 200)), traceFlags: 1, attributes: [
                    Attribute("l", .string(text(count))), Attribute("n", .int(Int64(count))),
                ])],
                statusCode: .error, statusMessage: text(count)))
        }
        return spans
    }()

    @Test("lengths of every size come out as the two-pass encoder writes them")
    func lengthsOfEverySize() throws {
        for span in Self.lengthEdges {
            let same = OTLPTraceEncoder.protobuf(Self.encoded([span]), origin: Fixture.origin) == OTLPTraceEncoder.protobuf([span], origin: Fixture.origin)
            #expect(same, "a span named with \(span.name.utf8.count) bytes")
        }
        let all = Self.lengthEdges + Fixture.spans
        let same = OTLPTraceEncoder.protobuf(Self.encoded(all), origin: Fixture.origin) == OTLPTraceEncoder.protobuf(all, origin: Fixture.origin)
        #expect(same, "all together")
        let decoded = try OTLPTraceDecoder.protobuf(OTLPTraceEncoder.protobuf(Self.encoded(all), origin: Fixture.origin)).flatMap(\.spans)
        #expect(decoded.map(\.name.utf8.count) == all.map(\.name.utf8.count))
    }

    @Test("a copy is not changed by appending to the original")
    func copiesAreValues() {
        var original = Self.encoded([Fixture.bare])
        let copy = original
        original.append(Fixture.root)
        #expect(copy.count == 1 && original.count == 2)
        #expect(copy.bytes == Self.encoded([Fixture.bare]).bytes)
        #expect(original.bytes == Self.encoded([Fixture.bare, Fixture.root]).bytes)
    }

    @Test("split into runs keeps every span once, in order, each run a request of its own", arguments: [1, 2, 3, 100])
    func splitKeepsOrder(maxCount: Int) throws {
        let all = Fixture.spans + [Fixture.bare]
        let parts = Self.encoded(all).split(maxCount: maxCount)
        #expect(parts.allSatisfy { $0.count <= maxCount && !$0.isEmpty })
        #expect(parts.count == (all.count + maxCount - 1) / maxCount)
        #expect(parts.flatMap(\.bytes) == Self.encoded(all).bytes)
        var offset = 0
        for part in parts {
            let expected = Array(all[offset..<offset + part.count])
            #expect(OTLPTraceEncoder.protobuf(part, origin: Fixture.origin) == OTLPTraceEncoder.protobuf(expected, origin: Fixture.origin))
            offset += part.count
        }
        #expect(offset == all.count)
    }
}
