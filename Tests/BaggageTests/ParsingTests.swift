import Testing

@testable import Baggage

/// An entry as `key=value` or `key=value;properties`, with the value decoded, for compact comparisons.
func describe(_ baggage: Baggage) -> [String] {
    baggage.map { entry in
        "\(entry.key)=\(entry.value)" + (entry.properties.map { ";" + $0 } ?? "")
    }
}

@Suite("Parsing: the specification's examples")
struct SpecExampleTests {
    @Test("The header-content example: three members, properties kept raw")
    func headerContentExample() {
        let result = Baggage.parse(
            headerValue: "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue"
        )
        #expect(result.invalidCount == 0)
        #expect(result.overLimitCount == 0)
        let entries = result.baggage.entries
        #expect(
            entries == [
                Baggage.Entry(key: "key1", value: "value1", properties: "property1;property2"),
                Baggage.Entry(key: "key2", value: "value2", properties: nil),
                Baggage.Entry(key: "key3", value: "value3", properties: "propertyKey=propertyValue"),
            ]
        )
    }

    @Test("A single header with a percent-encoded space")
    func singleHeader() {
        let baggage = Baggage(headerValue: "userId=alice,serverNode=DF%2028,isProduction=false")
        #expect(describe(baggage) == ["userId=alice", "serverNode=DF 28", "isProduction=false"])
        #expect(baggage["serverNode"] == "DF 28")
    }

    @Test("Context split into several headers")
    func splitHeaders() {
        let baggage = Baggage(headerValues: ["userId=alice", "serverNode=DF%2028,isProduction=false"])
        #expect(describe(baggage) == ["userId=alice", "serverNode=DF 28", "isProduction=false"])
    }

    @Test("Values and names beginning and ending with spaces")
    func spacesAroundNamesAndValues() {
        let baggage = Baggage(headerValues: ["userId =   alice", "serverNode = DF%2028, isProduction = false"])
        #expect(describe(baggage) == ["userId=alice", "serverNode=DF 28", "isProduction=false"])
    }
}

/// The cases of the W3C test suite (w3c/baggage, test/test_baggage.py), expressed against this API.
@Suite("Parsing: the W3C test suite's cases")
struct W3CTestSuiteTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let header: String
        let expected: [Baggage.Entry]
        var testDescription: String { header.debugDescription }
    }

    static let cases: [Case] = [
        Case(header: "SomeKey=SomeValue", expected: [.init(key: "SomeKey", value: "SomeValue")]),
        Case(
            header: "SomeKey=SomeValue,SomeKey2=SomeValue2",
            expected: [.init(key: "SomeKey", value: "SomeValue"), .init(key: "SomeKey2", value: "SomeValue2")]
        ),
        Case(
            header: "SomeKey \t = \t SomeValue \t , \t SomeKey2 \t = \t SomeValue2 \t ",
            expected: [.init(key: "SomeKey", value: "SomeValue"), .init(key: "SomeKey2", value: "SomeValue2")]
        ),
        Case(
            header: "SomeKey=SomeValue;SomeProp,SomeKey2=SomeValue2;ValueProp=PropVal",
            expected: [
                .init(key: "SomeKey", value: "SomeValue", properties: "SomeProp"),
                .init(key: "SomeKey2", value: "SomeValue2", properties: "ValueProp=PropVal"),
            ]
        ),
        Case(
            header:
                "SomeKey \t = \t SomeValue \t ; \t SomeProp \t , \t SomeKey2 \t = \t SomeValue2 \t ; \t ValueProp \t = \t PropVal",
            expected: [
                .init(key: "SomeKey", value: "SomeValue", properties: "SomeProp"),
                .init(key: "SomeKey2", value: "SomeValue2", properties: "ValueProp \t = \t PropVal"),
            ]
        ),
        Case(
            header: "SomeKey=SomeValue;SomePropKey=SomePropValue,SomeKey2=SomeValue2;SomePropKey2=SomePropValue2",
            expected: [
                .init(key: "SomeKey", value: "SomeValue", properties: "SomePropKey=SomePropValue"),
                .init(key: "SomeKey2", value: "SomeValue2", properties: "SomePropKey2=SomePropValue2"),
            ]
        ),
        Case(header: "SomeKey=SomeValue=equals", expected: [.init(key: "SomeKey", value: "SomeValue=equals")]),
        Case(
            header: "SomeKey=SomeValue;SomeProp;SecondProp=PropValue",
            expected: [.init(key: "SomeKey", value: "SomeValue", properties: "SomeProp;SecondProp=PropValue")]
        ),
        Case(
            header: "SomeKey \t = \t SomeValue \t ; \t SomeProp \t ; \t SecondProp \t = \t PropValue",
            expected: [
                .init(key: "SomeKey", value: "SomeValue", properties: "SomeProp \t ; \t SecondProp \t = \t PropValue")
            ]
        ),
        Case(
            header: "SomeKey=%09%20%22%27%3B%3Dasdf%21%40%23%24%25%5E%26%2A%28%29",
            expected: [.init(key: "SomeKey", value: "\t \"';=asdf!@#$%^&*()")]
        ),
        Case(
            header: "SomeKey \t = \t %09%20%22%27%3B%3Dasdf%21%40%23%24%25%5E%26%2A%28%29 \t ",
            expected: [.init(key: "SomeKey", value: "\t \"';=asdf!@#$%^&*()")]
        ),
    ]

    @Test("Each case parses to the expected entries", arguments: cases)
    func parses(_ testCase: Case) {
        let result = Baggage.parse(headerValue: testCase.header)
        #expect(result.baggage.entries == testCase.expected)
        #expect(result.droppedCount == 0)
    }

    @Test("The percent-encoded case serializes minimally and back")
    func percentEncodedSerialization() {
        let baggage = Baggage(headerValue: "SomeKey=%09%20%22%27%3B%3Dasdf%21%40%23%24%25%5E%26%2A%28%29")
        // Only the bytes that are not baggage-octets (tab, space, DQUOTE, semicolon) and '%' are encoded.
        #expect(baggage.headerValue == "SomeKey=%09%20%22'%3B=asdf!@#$%25^&*()")
        #expect(Baggage(headerValue: baggage.headerValue) == baggage)
    }
}

@Suite("Parsing: invalid list-members are dropped alone")
struct InvalidMemberTests {
    static let invalidKeys = [
        "\"a b\"=1", "a b=1", "=v", " = v", "k", "k v", "(k)=v", "k/x=v", "k:x=v", "k@x=v", "k{}=v", "k[0]=v",
        "k?=v", "ключ=v", "k\u{00}=v",
    ]

    @Test("Invalid keys", arguments: invalidKeys)
    func invalidKey(_ member: String) {
        let result = Baggage.parse(headerValue: "before=1, \(member) ,after=2")
        #expect(describe(result.baggage) == ["before=1", "after=2"])
        #expect(result.invalidCount == 1)
    }

    static let invalidValues = [
        "k=a\"b", "k=\"quoted\"", "k=a b", "k=a\tb", "k=a\\b", "k=€", "k=caf\u{E9}", "k=a\u{7F}", "k=a\u{01}",
        "k=a\nb", "k=1\n",
    ]

    @Test("Invalid values", arguments: invalidValues)
    func invalidValue(_ member: String) {
        let result = Baggage.parse(headerValue: "before=1,\(member),after=2")
        #expect(describe(result.baggage) == ["before=1", "after=2"])
        #expect(result.invalidCount == 1)
    }

    @Test("A comma ends the value: `k=a,b` keeps k=a and drops the member `b`")
    func commaInsideValue() {
        let result = Baggage.parse(headerValue: "k=a,b")
        #expect(describe(result.baggage) == ["k=a"])
        #expect(result.invalidCount == 1)
    }

    static let invalidProperties = [
        "k=v;", "k=v ; ", "k=v;;p", "k=v;=x", "k=v;p=a b", "k=v;p q", "k=v;p=a\"b", "k=v;p;", "k=v;(p)",
    ]

    @Test("Malformed properties make the member invalid", arguments: invalidProperties)
    func invalidProperty(_ member: String) {
        let result = Baggage.parse(headerValue: "before=1,\(member),after=2")
        #expect(describe(result.baggage) == ["before=1", "after=2"])
        #expect(result.invalidCount == 1)
    }

    @Test(
        "Valid properties are kept raw, trimmed at their ends only",
        arguments: [
            ("k=v;p", "p"),
            ("k=v ; p ; q=1 ", "p ; q=1"),
            ("k=v;p=", "p="),
            ("k=v;p=%20x;q", "p=%20x;q"),
            ("k=;p", "p"),
        ]
    )
    func validProperties(_ member: String, _ properties: String) {
        let result = Baggage.parse(headerValue: member)
        #expect(result.invalidCount == 0)
        #expect(result.baggage.entries.first?.properties == properties)
    }

    @Test("Every invalid member is counted, and the valid ones survive")
    func mixedHeader() {
        let result = Baggage.parse(headerValue: "a=1,=x,b=2,c,d=\"4\",e=5;,f=6")
        #expect(describe(result.baggage) == ["a=1", "b=2", "f=6"])
        #expect(result.invalidCount == 4)
        #expect(result.overLimitCount == 0)
    }
}

@Suite("Parsing: whitespace, empty members, values")
struct WhitespaceAndValueTests {
    @Test("Spaces and tabs around keys, '=', values and ',' are trimmed")
    func owsTrimmed() {
        let baggage = Baggage(headerValue: " \t a \t = \t 1 \t , \tb=2\t,c= 3")
        #expect(describe(baggage) == ["a=1", "b=2", "c=3"])
    }

    @Test("Only SP and HTAB are optional whitespace")
    func otherWhitespaceIsNotTrimmed() {
        let result = Baggage.parse(headerValue: "a=1\r,\u{0B}b=2,c=3\u{0C}")
        #expect(result.baggage.isEmpty)
        #expect(result.invalidCount == 3)
    }

    @Test(
        "Empty list-members are skipped without being counted",
        arguments: [
            ("a=1,,b=2", 2),
            (",a=1,", 1),
            (" , \t ,a=1, ,", 1),
            ("", 0),
            (" \t ", 0),
            (",,,", 0),
        ]
    )
    func emptyMembers(_ header: String, _ count: Int) {
        let result = Baggage.parse(headerValue: header)
        #expect(result.baggage.count == count)
        #expect(result.droppedCount == 0)
    }

    @Test("An empty value is valid")
    func emptyValue() {
        let result = Baggage.parse(headerValue: "k=,j= ;p")
        #expect(result.baggage.entries == [.init(key: "k", value: ""), .init(key: "j", value: "", properties: "p")])
        #expect(result.invalidCount == 0)
    }

    @Test(
        "Percent-encoded UTF-8 is decoded",
        arguments: [
            ("%E2%82%AC", "€"),
            ("%e2%82%ac", "€"),
            ("price%3A%2010%E2%82%AC", "price: 10€"),
            ("%F0%9F%98%80", "😀"),
            ("caf%C3%A9", "café"),
            ("%2C%3B%22%5C", ",;\"\\"),
            ("a%25b", "a%b"),
            ("%41%42c", "ABc"),
        ]
    )
    func percentDecoding(_ encoded: String, _ decoded: String) {
        let result = Baggage.parse(headerValue: "k=\(encoded)")
        #expect(result.baggage["k"] == decoded)
        #expect(result.invalidCount == 0)
    }

    @Test(
        "Escapes that are not valid UTF-8 become U+FFFD",
        arguments: [
            ("%FF", "\u{FFFD}"),
            ("a%C3", "a\u{FFFD}"),
            ("%C3%28", "\u{FFFD}("),
            ("%E2%82", "\u{FFFD}"),
            ("x%80y", "x\u{FFFD}y"),
        ]
    )
    func invalidUTF8(_ encoded: String, _ decoded: String) {
        let result = Baggage.parse(headerValue: "k=\(encoded)")
        #expect(result.baggage["k"] == decoded)
        #expect(result.invalidCount == 0)
    }

    @Test(
        "A value with a malformed escape is kept undecoded, as received",
        arguments: [
            ("100%", "100%25"),
            ("%", "%25"),
            ("%ZZ", "%25ZZ"),
            ("%4", "%254"),
            ("a%4g", "a%254g"),
            ("%E2%82%AC%G1", "%25E2%2582%25AC%25G1"),
        ]
    )
    func malformedEscape(_ raw: String, _ reencoded: String) {
        let result = Baggage.parse(headerValue: "a=1,k=\(raw),b=2")
        #expect(result.baggage["k"] == raw)
        #expect(result.invalidCount == 0)
        #expect(result.baggage.count == 3)
        // Serialized, each '%' becomes %25, so a receiver decodes the same text.
        #expect(result.baggage.headerValue == "a=1,k=\(reencoded),b=2")
        #expect(Baggage(headerValue: result.baggage.headerValue) == result.baggage)
    }

    @Test("Several header values combine as if joined with ','")
    func combinedHeaders() {
        let parts = ["a=1,", ",b=2;p", "", " c = 3 , d=%20", "bad, e=5"]
        let separately = Baggage.parse(headerValues: parts)
        let joined = Baggage.parse(headerValue: parts.joined(separator: ","))
        #expect(separately == joined)
        #expect(describe(separately.baggage) == ["a=1", "b=2;p", "c=3", "d= ", "e=5"])
        #expect(separately.invalidCount == 1)
    }

    @Test("Raw UTF-8 header values parse like their strings")
    func utf8HeaderValues() {
        let parts = ["a=1,b=%E2%82%AC;p", " c = 3 ", "bad"]
        let fromBytes = Baggage.parse(utf8HeaderValues: parts.map { Array($0.utf8) })
        #expect(fromBytes == Baggage.parse(headerValues: parts))
        #expect(describe(fromBytes.baggage) == ["a=1", "b=€;p", "c=3"])
        #expect(Baggage(utf8HeaderValues: [Array("x=1".utf8)])["x"] == "1")
    }

    @Test("Raw bytes of 128 and above, valid UTF-8 or not, make their member invalid")
    func rawHighBytes() {
        let result = Baggage.parse(utf8HeaderValues: [[0x61, 0x3D, 0x31], [0x6B, 0x3D, 0xC3, 0xA9], [0x6A, 0x3D, 0xFF, 0x2C, 0x62, 0x3D, 0x32]])
        #expect(describe(result.baggage) == ["a=1", "b=2"])
        #expect(result.invalidCount == 2)
    }

    @Test("Members never span header values")
    func memberDoesNotSpanHeaders() {
        let baggage = Baggage(headerValues: ["a=1;p", "=2"])
        #expect(describe(baggage) == ["a=1;p"])
    }

    @Test("Duplicate keys are kept in wire order; lookup returns the last")
    func duplicateKeys() {
        let baggage = Baggage(headerValue: "k=1,x=0,k=2")
        #expect(describe(baggage) == ["k=1", "x=0", "k=2"])
        #expect(baggage["k"] == "2")
        #expect(baggage.values(forKey: "k") == ["1", "2"])
        #expect(baggage.headerValue == "k=1,x=0,k=2")
    }

    @Test("Keys are case-sensitive")
    func caseSensitiveKeys() {
        let baggage = Baggage(headerValue: "Key=1,key=2")
        #expect(baggage["Key"] == "1")
        #expect(baggage["key"] == "2")
        #expect(baggage["KEY"] == nil)
    }
}
