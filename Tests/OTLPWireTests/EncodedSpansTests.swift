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
