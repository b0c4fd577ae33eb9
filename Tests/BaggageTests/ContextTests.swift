import ServiceContextModule
import Testing

import Baggage

private enum TenantKey: ServiceContextKey {
    typealias Value = String
}

private struct Failure: Error {}

@Suite("ServiceContext integration")
struct ContextTests {
    @Test("Baggage is stored in and read from a ServiceContext")
    func storage() {
        var context = ServiceContext.topLevel
        #expect(context.baggage == nil)
        context.baggage = ["a": "1"]
        #expect(context.baggage?["a"] == "1")
        #expect(context[BaggageKey.self] == ["a": "1"])
        context.baggage = nil
        #expect(context.baggage == nil)
        #expect(BaggageKey.name == "baggage")
    }

    @Test("Baggage.current is empty without a context, and the context's baggage with one")
    func current() {
        ServiceContext.withValue(nil) {
            #expect(Baggage.current.isEmpty)
        }
        var context = ServiceContext.topLevel
        context.baggage = ["user.id": "alice"]
        ServiceContext.withValue(context) {
            #expect(Baggage.current == ["user.id": "alice"])
        }
        ServiceContext.withValue(.topLevel) {
            #expect(Baggage.current.isEmpty)
        }
    }

    @Test("withBaggage nests: the inner call overrides the outer, and the outer is restored")
    func syncNesting() {
        var context = ServiceContext.topLevel
        context[TenantKey.self] = "acme"
        ServiceContext.withValue(context) {
            withBaggage(["a": "1", "b": "2"]) {
                #expect(Baggage.current.headerValue == "a=1,b=2")
                withBaggage(["b": "3", "c": "4"]) {
                    #expect(Baggage.current.headerValue == "a=1,b=3,c=4")
                    #expect(ServiceContext.current?[TenantKey.self] == "acme")
                }
                #expect(Baggage.current.headerValue == "a=1,b=2")
                #expect(Baggage.current["c"] == nil)
            }
            #expect(Baggage.current.isEmpty)
            #expect(ServiceContext.current?[TenantKey.self] == "acme")
        }
    }

    @Test("withBaggage replaces duplicate keys of the current baggage; the last repeated pair wins")
    func setSemantics() {
        var context = ServiceContext.topLevel
        context.baggage = Baggage(headerValue: "k=1;p,x=0,k=2")
        ServiceContext.withValue(context) {
            withBaggage(["k": "a", "k": "b"]) {
                #expect(Baggage.current.headerValue == "k=b,x=0")
            }
        }
    }

    @Test("withBaggage returns the operation's result and restores the context when it throws")
    func resultAndThrow() throws {
        let value = withBaggage(["a": "1"]) { Baggage.current["a"] }
        #expect(value == "1")
        #expect(throws: Failure.self) {
            try withBaggage(["a": "1"]) {
                #expect(Baggage.current["a"] == "1")
                throw Failure()
            }
        }
        #expect(Baggage.current.isEmpty)
    }

    @Test("The async withBaggage nests across suspension points and child tasks")
    func asyncNesting() async throws {
        try await withBaggage(["a": "1", "b": "2"]) {
            await Task.yield()
            let inner = await withBaggage(["b": "3"]) {
                await Task.yield()
                async let child = Baggage.current.headerValue
                let inGroup = await withTaskGroup(of: String.self) { group in
                    group.addTask { Baggage.current.headerValue }
                    return await group.next() ?? ""
                }
                return [await child, inGroup, Baggage.current.headerValue]
            }
            #expect(inner == ["a=1,b=3", "a=1,b=3", "a=1,b=3"])
            #expect(Baggage.current.headerValue == "a=1,b=2")

            await #expect(throws: Failure.self) {
                try await withBaggage(["a": "9"]) {
                    await Task.yield()
                    throw Failure()
                }
            }
            #expect(Baggage.current.headerValue == "a=1,b=2")
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(Baggage.current.isEmpty)
    }

    @Test("The async withBaggage runs the operation on the caller's actor")
    func keepsIsolation() async {
        let recorder = Recorder()
        let seen = await recorder.record()
        #expect(seen == ["client.order_id=42"])
    }
}

/// An actor whose state the operation touches synchronously: this compiles only if `withBaggage` keeps the
/// caller's isolation.
private actor Recorder {
    private var seen: [String] = []

    func record() async -> [String] {
        await withBaggage(["client.order_id": "42"]) {
            await Task.yield()
            seen.append(Baggage.current.headerValue)
        }
        return seen
    }
}
