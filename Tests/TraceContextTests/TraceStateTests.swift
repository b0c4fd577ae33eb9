import TraceContext
import Testing

@Suite("W3C tracestate: validated when read, capped when passed on")
struct TraceStateTests {
    @Test("valid values from the W3C Trace Context spec are kept, normalized", arguments: [
        ("rojo=00f067aa0ba902b7", "rojo=00f067aa0ba902b7"),
        ("congo=t61rcWkgMzE", "congo=t61rcWkgMzE"),
        ("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        // Optional white space around members, empty members skipped.
        ("rojo=00f067aa0ba902b7 ,\tcongo=t61rcWkgMzE, ,", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        // Multi-tenant keys; the value may hold spaces inside, and '/', '*', '@'.
        ("fw529a3039@dt=ab cd,a-b_c*d/e=x@y", "fw529a3039@dt=ab cd,a-b_c*d/e=x@y"),
        ("0tenant@sys=1", "0tenant@sys=1"),
        // A space after a member is white space around it, not part of the value.
        ("rojo=1 ", "rojo=1"),
    ])
    func valid(_ value: String, expected: String) {
        #expect(TraceState.sanitized(value) == expected)
    }

    @Test("invalid values are dropped whole", arguments: [
        "Rojo=1",  // upper case key
        "1rojo=1",  // a simple key starts with a letter
        "rojo",  // no '='
        "rojo=",  // empty value
        "rojo=a=b",  // '=' in a value
        "rojo=é",  // not printable ASCII
        "rojo=1,rojo=2",  // a key twice
        "tenant@Sys=1",  // upper case system id
        "tenant@123456789012345=1",  // system id longer than 14
        "@sys=1",  // empty tenant id
        "rojo=1,congo",  // one bad member spoils the whole value
    ])
    func invalid(_ value: String) {
        #expect(TraceState.sanitized(value) == nil, "\(value)")
    }

    @Test("a key of 256 characters and a value of 256 are valid; one more is not")
    func lengths() {
        let key = "k" + String(repeating: "a", count: 255)
        #expect(TraceState.sanitized("\(key)=1") != nil)
        #expect(TraceState.sanitized("\(key)a=1") == nil)
        #expect(TraceState.isValidValue(Substring(String(repeating: "v", count: 256))))
        #expect(!TraceState.isValidValue(Substring(String(repeating: "v", count: 257))))
        #expect(!TraceState.isValidValue("1 "), "a value does not end in a space")
        #expect(TraceState.isValidValue("a b"))
    }

    @Test("32 members are kept; 33 make the value invalid")
    func members() {
        let members = (0..<33).map { "k\($0)=v" }
        #expect(TraceState.sanitized(members.prefix(32).joined(separator: ","))?.split(separator: ",").count == 32)
        #expect(TraceState.sanitized(members.joined(separator: ",")) == nil)
    }

    @Test("past 512 characters, members longer than 128 go first, then members from the right, whole")
    func capped() throws {
        let long = "long=" + String(repeating: "x", count: 200)
        let members = [long] + (0..<30).map { "k\($0)=" + String(repeating: "y", count: 20) }
        let capped = try #require(TraceState.sanitized(members.joined(separator: ",")))
        #expect(capped.utf8.count <= 512)
        #expect(!capped.contains("long="), "the long member is dropped first")
        #expect(capped.hasPrefix("k0="), "the newest members (at the left) are kept")
        #expect(capped.split(separator: ",").allSatisfy { $0.contains("=" + String(repeating: "y", count: 20)) }, "never cut")
    }

    @Test("SpanContext drops an invalid tracestate instead of inheriting it, and caps a valid one")
    func spanContext() throws {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(SpanContext(traceparent: traceparent, traceState: "rojo=1,BAD KEY=2")?.traceState == "")
        #expect(SpanContext(traceparent: traceparent, traceState: " rojo=1 ,congo=2")?.traceState == "rojo=1,congo=2")
        let many = (0..<40).map { "k\($0)=v" }.joined(separator: ",")
        #expect(SpanContext(traceparent: traceparent, traceState: many)?.traceState == "")
    }
}
