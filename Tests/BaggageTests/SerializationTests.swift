import TestSupport
import Testing

@testable import Baggage

@Suite("Serialization")
struct SerializationTests {
    @Test("Entries are joined by ',' in order, values percent-encoded, properties re-emitted raw")
    func format() {
        let baggage = Baggage(entries: [
            .init(key: "a", value: "1"),
            .init(key: "b", value: "x y", properties: "p;q=1"),
            .init(key: "c", value: ""),
        ])
        #expect(baggage.headerValue == "a=1,b=x%20y;p;q=1,c=")
    }

    @Test("The specification's example serializes without whitespace and keeps its properties")
    func specExample() {
        let baggage = Baggage(
            headerValue: "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue"
        )
        #expect(
            baggage.headerValue == "key1=value1;property1;property2,key2=value2,key3=value3;propertyKey=propertyValue"
        )
    }

    @Test("Exactly the bytes that are not baggage-octets, and '%', are percent-encoded")
    func encodesExactlyTheNonOctets() {
        func isBaggageOctet(_ byte: UInt8) -> Bool {
            // %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
            byte == 0x21 || (0x23...0x2B).contains(byte) || (0x2D...0x3A).contains(byte)
                || (0x3C...0x5B).contains(byte) || (0x5D...0x7E).contains(byte)
        }
        let hex = Array("0123456789ABCDEF")
        for byte in UInt8(0)..<128 {
            let value = String(decoding: [byte], as: UTF8.self)
            let expected =
                isBaggageOctet(byte) && byte != UInt8(ascii: "%")
                ? value : "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
            #expect(Baggage([("k", value)]).headerValue == "k=" + expected, "byte \(byte)")
        }
    }

    @Test("Non-ASCII text is encoded as UTF-8 bytes")
    func encodesUTF8() {
        #expect(Baggage([("k", "é€😀")]).headerValue == "k=%C3%A9%E2%82%AC%F0%9F%98%80")
    }

    @Test("An entry with a key that is not a token is left out and counted")
    func invalidKeysLeftOut() {
        let baggage = Baggage([("good", "1"), ("bad key", "2"), ("", "3"), ("k,x", "4"), ("ключ", "5"), ("ok", "6")])
        let result = baggage.serialized()
        #expect(result.headerValue == "good=1,ok=6")
        #expect(result.invalidCount == 4)
        #expect(result.overLimitCount == 0)
        #expect(result.emittedCount == 2)
    }

    @Test(
        "An entry whose property text breaks the grammar is left out and counted",
        arguments: ["", " p", "p,q", "p;", "p=a b", "=v", "p=\"x\""]
    )
    func invalidPropertiesLeftOut(_ properties: String) {
        let baggage = Baggage(entries: [
            .init(key: "a", value: "1"),
            .init(key: "k", value: "v", properties: properties),
        ])
        let result = baggage.serialized()
        #expect(result.headerValue == "a=1")
        #expect(result.invalidCount == 1)
    }

    @Test("Empty baggage serializes to an empty string")
    func empty() {
        let result = Baggage().serialized()
        #expect(result.headerValue == "")
        #expect(result.droppedCount == 0)
        #expect(result.emittedCount == 0)
    }
}

@Suite("Round trip")
struct RoundTripTests {
    static let headers = [
        "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
        "userId=alice,serverNode=DF%2028,isProduction=false",
        "k=%E2%82%AC,j=%FF,m=100%,n=,o=a=b=c;p=%20",
        "k=1,k=2,k=3",
        "a=1,,bad,b=\"2\",c=3",
    ]

    @Test("parse → serialize → parse gives the same baggage", arguments: headers)
    func parseSerializeParse(_ header: String) {
        let first = Baggage(headerValue: header)
        let serialized = first.serialized()
        #expect(serialized.droppedCount == 0)
        let second = Baggage(headerValue: serialized.headerValue)
        #expect(second == first)
        #expect(second.headerValue == serialized.headerValue)
    }

    @Test("Values built in code survive serialize → parse unchanged")
    func codeBuiltValues() {
        let baggage = Baggage([
            ("space", "x y"), ("percent", "%"), ("percent2", "%41"), ("euro", "€uro"),
            ("delimiters", "a,b;c=d\"e\\f"), ("empty", ""), ("tab", "\t"), ("emoji", "😀"), ("equals", "=="),
            ("controls", "\u{0}\u{1F}\u{7F}"), ("padded", "  both  "),
        ])
        let parsed = Baggage.parse(headerValue: baggage.headerValue)
        #expect(parsed.droppedCount == 0)
        #expect(parsed.baggage == baggage)
    }

    @Test("Pseudo-random values survive serialize → parse unchanged")
    func randomValues() {
        var generator = SplitMix64(seed: 0x5EED)
        let alphabet: [Unicode.Scalar] =
            (0..<128).map { Unicode.Scalar(UInt8($0)) } + ["é", "€", "😀", "\u{FFFD}", "ß", "中"]
        for round in 0..<300 {
            var entries: [(String, String)] = []
            for index in 0..<Int(generator.next() % 6) {
                var value = String.UnicodeScalarView()
                for _ in 0..<Int(generator.next() % 24) {
                    value.append(alphabet[Int(generator.next() % UInt64(alphabet.count))])
                }
                entries.append(("key\(index)", String(value)))
            }
            let baggage = Baggage(entries)
            let parsed = Baggage.parse(headerValue: baggage.headerValue)
            #expect(parsed.baggage == baggage, "round \(round)")
            #expect(parsed.droppedCount == 0, "round \(round)")
        }
    }
}

extension RoundTripTests {
    @Test("Pseudo-random headers: whatever parses re-serializes whole and parses back the same")
    func randomHeaders() {
        var generator = SplitMix64(seed: 0xBA66)
        let alphabet = Array("ab=,; \t%%E2%82%AC%FF%4%\"\\é9".unicodeScalars)
        for round in 0..<2000 {
            var header = String.UnicodeScalarView()
            for _ in 0..<Int(generator.next() % 40) {
                header.append(alphabet[Int(generator.next() % UInt64(alphabet.count))])
            }
            let parsed = Baggage.parse(headerValue: String(header))
            let serialized = parsed.baggage.serialized()
            #expect(serialized.droppedCount == 0, "round \(round): \(String(header).debugDescription)")
            #expect(
                Baggage(headerValue: serialized.headerValue) == parsed.baggage,
                "round \(round): \(String(header).debugDescription)"
            )
        }
    }
}

@Suite("Byte classes")
struct ByteClassTests {
    @Test("The byte masks match the ABNF definitions for every byte")
    func byteClassesMatchTheGrammar() {
        let separators = Set("()<>@,;:\\\"/[]?={} \t".utf8)
        for byte in UInt8.min...UInt8.max {
            // RFC 7230: tchar is any VCHAR except delimiters; VCHAR = %x21-7E.
            let tchar = (0x21...0x7E).contains(byte) && !separators.contains(byte)
            #expect(ByteClass.tchar.contains(byte) == tchar, "tchar \(byte)")

            let octet =
                (0x21...0x7E).contains(byte) && ![0x22, 0x2C, 0x3B, 0x5C].contains(byte)
            #expect(ByteClass.baggageOctet.contains(byte) == octet, "baggage-octet \(byte)")
            #expect(ByteClass.valueSafe.contains(byte) == (octet && byte != 0x25), "value-safe \(byte)")

            let hex = Set("0123456789abcdefABCDEF".utf8).contains(byte)
            #expect(ByteClass.hexDigit.contains(byte) == hex, "hex \(byte)")
        }
    }
}
