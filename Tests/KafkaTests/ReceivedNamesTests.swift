import Testing

@testable import Kafka

/// The header-name cache of the consumer's conversion: a repeated name comes back as the same
/// string, and a name that differs in any byte (or only in length) is never taken for another.
@Suite("Header names read off the wire")
struct ReceivedNamesTests {
    private func name(_ names: inout HeaderNames, _ text: String) -> String {
        text.withCString { names.name($0) }
    }

    @Test("a repeated name is recognised; names of one length, prefixes and non-ASCII names stay apart")
    func namesStayApart() {
        var names = HeaderNames()
        let texts = ["traceparent", "tracestate", "baggage", "tracepaREnt", "trace", "traceparentx", "", "é-name", "e-name", "traceparent"]
        for text in texts + texts.reversed() + texts {
            #expect(name(&names, text) == text)
        }
    }

    @Test("more distinct names than the cache holds are each read correctly, again and again")
    func moreNamesThanTheCache() {
        var names = HeaderNames()
        let texts = (0..<20).map { "h\($0 % 10)-\($0)" }
        for round in 0..<3 {
            for text in texts { #expect(name(&names, text) == text, "round \(round)") }
            for text in texts.reversed() { #expect(name(&names, text) == text, "round \(round)") }
        }
    }

    @Test("a byte array copy has the bytes given, also when empty")
    func byteArrays() {
        let bytes: [UInt8] = [0, 1, 255, 128, 7]
        bytes.withUnsafeBytes { raw in
            #expect(bytesArray(raw.baseAddress!, count: 5) == bytes)
            #expect(bytesArray(raw.baseAddress!, count: 0) == [])
        }
    }
}
