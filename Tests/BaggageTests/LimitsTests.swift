import Testing

import Baggage

private func repeated(_ character: Character, _ count: Int) -> String {
    String(repeating: character, count: count)
}

@Suite("Limits when serializing")
struct SerializationLimitsTests {
    @Test("The limits are the documented constants")
    func constants() {
        #expect(Baggage.maxEntries == 180)
        #expect(Baggage.maxBytes == 8192)
    }

    @Test("At least 64 members are propagated (W3C suite)")
    func atLeast64() {
        let baggage = Baggage((0..<64).map { ("key\($0)", "value") })
        let result = baggage.serialized()
        #expect(result.headerValue.split(separator: ",").count == 64)
        #expect(result.droppedCount == 0)
    }

    @Test("200 entries: the first 180 are written whole, 20 are dropped and counted")
    func entryLimit() {
        let baggage = Baggage((0..<200).map { ("key\($0)", "value") })
        let result = baggage.serialized()
        let members = result.headerValue.split(separator: ",").map(String.init)
        #expect(members == (0..<180).map { "key\($0)=value" })
        #expect(result.emittedCount == 180)
        #expect(result.overLimitCount == 20)
        #expect(result.invalidCount == 0)
    }

    @Test("512 entries of 15 bytes (W3C suite): the entry limit applies first")
    func manySmallEntries() {
        let baggage = Baggage((0..<512).map { (($0 < 10 ? "00" : $0 < 100 ? "0" : "") + "\($0)", "0123456789a") })
        let result = baggage.serialized()
        #expect(result.emittedCount == 180)
        #expect(result.overLimitCount == 332)
        #expect(result.headerValue.utf8.count == 180 * 16 - 1)
    }

    @Test("A 10 KB baggage: whole entries are dropped, the output fits 8192 bytes, each member intact")
    func byteLimit() {
        let entries = (0..<10).map { ("k\($0)", repeated("x", 1000)) }  // 1003 bytes a member
        let result = Baggage(entries).serialized()
        #expect(result.headerValue.utf8.count <= Baggage.maxBytes)
        #expect(result.headerValue.utf8.count == 8 * 1003 + 7)
        let members = result.headerValue.split(separator: ",").map(String.init)
        #expect(members == entries.prefix(8).map { "\($0.0)=\($0.1)" })
        #expect(result.overLimitCount == 2)
        #expect(result.emittedCount == 8)
    }

    @Test("A member that makes exactly 8192 bytes is kept; one byte more and it is dropped (W3C suite)")
    func exactBoundary() {
        let fits = Baggage([("a", repeated("0", 8190))]).serialized()
        #expect(fits.headerValue.utf8.count == 8192)
        #expect(fits.droppedCount == 0)

        let tooLong = Baggage([("a", repeated("0", 8191))]).serialized()
        #expect(tooLong.headerValue == "")
        #expect(tooLong.overLimitCount == 1)
    }

    @Test("The limit counts encoded bytes, not decoded ones")
    func encodedBytesCount() {
        let fits = Baggage([("a", repeated(" ", 2730))]).serialized()  // 2 + 3 * 2730 = 8192
        #expect(fits.headerValue.utf8.count == 8192)
        #expect(fits.droppedCount == 0)

        let tooLong = Baggage([("a", repeated(" ", 2731))]).serialized()
        #expect(tooLong.headerValue == "")
        #expect(tooLong.overLimitCount == 1)
    }

    @Test("Separating commas and properties count")
    func commasAndPropertiesCount() {
        let a = ("a", repeated("x", 4094))  // 4096 bytes
        let fits = Baggage([a, ("b", repeated("y", 4093))]).serialized()  // 4096 + 1 + 4095
        #expect(fits.headerValue.utf8.count == 8192)
        #expect(fits.emittedCount == 2)

        let tooLong = Baggage([a, ("b", repeated("y", 4094))]).serialized()
        #expect(tooLong.emittedCount == 1)
        #expect(tooLong.headerValue == "a=" + a.1)

        let withProperties = Baggage(entries: [.init(key: "a", value: repeated("x", 8188), properties: "p")])
        #expect(withProperties.serialized().headerValue.utf8.count == 8192)
        let withLongerProperties = Baggage(entries: [.init(key: "a", value: repeated("x", 8188), properties: "pq")])
        #expect(withLongerProperties.serialized().overLimitCount == 1)
    }

    @Test("An entry that does not fit is skipped; later, smaller entries are still written")
    func laterSmallerEntriesKept() {
        let result = Baggage([("a", repeated("x", 5000)), ("big", repeated("y", 5000)), ("c", "1")]).serialized()
        #expect(result.headerValue == "a=" + repeated("x", 5000) + ",c=1")
        #expect(result.overLimitCount == 1)
    }
}

@Suite("Limits when parsing")
struct ParsingLimitsTests {
    @Test("200 members: the first 180 are kept, 20 are counted as over the limit")
    func entryLimit() {
        let header = (0..<200).map { "key\($0)=value" }.joined(separator: ",")
        let result = Baggage.parse(headerValue: header)
        #expect(result.baggage.map(\.key) == (0..<180).map { "key\($0)" })
        #expect(result.overLimitCount == 20)
        #expect(result.invalidCount == 0)
    }

    @Test("Invalid members past the entry limit are counted as invalid")
    func invalidPastTheLimit() {
        let header = (0..<185).map { "key\($0)=value" }.joined(separator: ",") + ",bad"
        let result = Baggage.parse(headerValue: header)
        #expect(result.baggage.count == 180)
        #expect(result.overLimitCount == 5)
        #expect(result.invalidCount == 1)
    }

    @Test("A 10 KB header: whole members are kept up to 8192 bytes, and the result re-serializes whole")
    func byteLimit() {
        let members = (0..<10).map { "k\($0)=" + repeated("x", 1000) }  // 1003 bytes each
        let header = members.joined(separator: ", ")
        #expect(header.utf8.count > 10_000)
        let result = Baggage.parse(headerValue: header)
        #expect(result.baggage.count == 8)
        #expect(result.overLimitCount == 2)
        for (entry, index) in zip(result.baggage, 0...) {
            #expect(entry.key == "k\(index)")
            #expect(entry.value == repeated("x", 1000))
        }
        let serialized = result.baggage.serialized()
        #expect(serialized.droppedCount == 0)
        #expect(serialized.headerValue.utf8.count <= Baggage.maxBytes)
        #expect(serialized.headerValue.split(separator: ",").map(String.init) == Array(members.prefix(8)))
    }

    @Test("The budget counts the re-serialized size, not the received bytes")
    func canonicalSize() {
        // 8190 escaped 'A's take 24570 bytes on the wire but 8190 once decoded and re-serialized.
        let fits = Baggage.parse(headerValue: "a=" + String(repeating: "%41", count: 8190))
        #expect(fits.baggage["a"] == repeated("A", 8190))
        #expect(fits.baggage.headerValue.utf8.count == 8192)

        let tooLong = Baggage.parse(headerValue: "a=" + String(repeating: "%41", count: 8191))
        #expect(tooLong.baggage.isEmpty)
        #expect(tooLong.overLimitCount == 1)

        // Spaces around members are not counted either.
        let padded = (0..<8).map { "k\($0)" + repeated(" ", 100) + "=" + repeated(" ", 100) + repeated("x", 1000) }
        let paddedResult = Baggage.parse(headerValue: padded.joined(separator: repeated(" ", 100) + ","))
        #expect(paddedResult.baggage.count == 8)
        #expect(paddedResult.droppedCount == 0)
    }

    @Test("The limits apply across several header values")
    func acrossHeaders() {
        let headers = (0..<4).map { part in (0..<50).map { "p\(part)k\($0)=v" }.joined(separator: ",") }
        let result = Baggage.parse(headerValues: headers)
        #expect(result.baggage.count == 180)
        #expect(result.overLimitCount == 20)
        #expect(result.baggage.entries.last?.key == "p3k29")
    }
}
