import Testing

import Baggage

@Suite("Baggage value API")
struct BaggageAPITests {
    @Test("Empty baggage")
    func empty() {
        let baggage = Baggage()
        #expect(baggage.isEmpty)
        #expect(baggage.count == 0)
        #expect(baggage["anything"] == nil)
        #expect(Array(baggage).isEmpty)
    }

    @Test("Pairs and dictionary literals keep their order and repeated keys")
    func initializers() {
        let literal: Baggage = ["b": "2", "a": "1", "b": "3"]
        #expect(literal.map(\.key) == ["b", "a", "b"])
        #expect(literal.count == 3)
        #expect(literal["b"] == "3")
        #expect(literal == Baggage([("b", "2"), ("a", "1"), ("b", "3")]))
        #expect(literal.headerValue == "b=2,a=1,b=3")
        #expect(literal.allSatisfy { $0.properties == nil })
    }

    @Test("Setting a key replaces every entry with it, at the first one's place, without properties")
    func setReplacesAll() {
        var baggage = Baggage(headerValue: "k=1;p,x=0,k=2,y=5,k=3")
        baggage["k"] = "9"
        #expect(baggage.entries == [.init(key: "k", value: "9"), .init(key: "x", value: "0"), .init(key: "y", value: "5")])
        #expect(baggage.headerValue == "k=9,x=0,y=5")
        #expect(baggage.count == 3)
    }

    @Test("Setting a new key appends it")
    func setAppends() {
        var baggage: Baggage = ["a": "1"]
        baggage["b"] = "2"
        #expect(baggage.headerValue == "a=1,b=2")
    }

    @Test("Setting nil removes every entry with the key, and only those")
    func setNilRemoves() {
        var baggage = Baggage(headerValue: "k=1,x=0,k=2")
        baggage["k"] = nil
        #expect(baggage.headerValue == "x=0")
        baggage["absent"] = nil
        #expect(baggage.headerValue == "x=0")
        baggage.removeAll(key: "x")
        #expect(baggage.isEmpty)
    }

    @Test("append keeps duplicates; merge applies set semantics")
    func appendAndMerge() {
        var baggage: Baggage = ["a": "1", "b": "2"]
        baggage.append(.init(key: "a", value: "3", properties: "p"))
        #expect(baggage.values(forKey: "a") == ["1", "3"])
        baggage.merge(["a": "4", "c": "5", "c": "6"])
        #expect(baggage.headerValue == "a=4,b=2,c=6")
    }

    @Test("Equality and hashing follow the entries, order included")
    func hashable() {
        let one = Baggage(headerValue: "a=1,b=2;p")
        let same = Baggage(headerValue: " a = 1 , b = 2 ; p ")
        let reordered = Baggage(headerValue: "b=2;p,a=1")
        let otherProperties = Baggage(headerValue: "a=1,b=2;q")
        #expect(one == same)
        #expect(one.hashValue == same.hashValue)
        #expect(one != reordered)
        #expect(one != otherProperties)
        #expect(Set([one, same, reordered]).count == 2)
    }

    @Test("Printing baggage shows keys, never values")
    func descriptionHidesValues() {
        let baggage: Baggage = ["user.id": "alice", "auth": "secret-token"]
        let printed = "\(baggage)"
        #expect(printed.contains("user.id"))
        #expect(printed.contains("auth"))
        #expect(!printed.contains("alice"))
        #expect(!printed.contains("secret-token"))
    }
}
