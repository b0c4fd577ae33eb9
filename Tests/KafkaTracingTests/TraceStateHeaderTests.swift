import Kafka
import KafkaTracing
import Testing
import TraceContext

@Suite("tracestate on Kafka records")
struct TraceStateHeaderTests {
    private func carried(tracestate: String) -> CarriedTraceContext {
        var headers = KafkaHeaders()
        headers.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        headers.set("tracestate", tracestate)
        return CarriedTraceContext(KafkaMessage(topic: "client-orders", partition: 0, offset: 1, key: nil, value: [], headers: headers))
    }

    @Test("a valid tracestate is inherited, normalized")
    func valid() {
        #expect(carried(tracestate: "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE").parent?.traceState == "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
    }

    @Test("an invalid tracestate is dropped, not inherited; the parent is kept", arguments: [
        "Rojo=00f067aa0ba902b7",
        "rojo=00f067aa0ba902b7,rojo=1",
        "rojo=a\u{1}b",
        (0..<33).map { "k\($0)=v" }.joined(separator: ","),
    ])
    func invalid(_ tracestate: String) throws {
        let parent = try #require(carried(tracestate: tracestate).parent)
        #expect(parent.traceState == "")
    }

    @Test("a long valid tracestate is capped at 512 characters, whole members")
    func capped() throws {
        let tracestate = (0..<32).map { "k\($0)=" + String(repeating: "v", count: 30) }.joined(separator: ",")
        let parent = try #require(carried(tracestate: tracestate).parent)
        #expect(parent.traceState.utf8.count <= 512)
        #expect(parent.traceState.hasPrefix("k0="))
        #expect(parent.traceState.split(separator: ",").allSatisfy { $0.hasSuffix(String(repeating: "v", count: 30)) })
    }
}
