import WireJSON

/// The typed readers: each looks a field up, checks its JSON type and value, and records what is wrong.
extension ObjectDecoder {
    func makeString(_ token: JSONStringToken) -> String {
        JSONScanner(bytes).string(token)
    }

    /// A string field.
    mutating func string(_ name: StaticString, required: Bool = true) -> Decoded<String> {
        switch token(name, required: required) {
        case .absent: return .absent
        case .invalid: return .invalid
        case .value(.string(let token)): return .value(makeString(token))
        case .value(let other):
            fail(name, .wrongType, "must be a string, got \(other.typeName)")
            return .invalid
        }
    }

    /// A string field that must pass `rule` (a non-empty identifier, a symbol, ...).
    mutating func string(_ name: StaticString, required: Bool = true, rule: (String) -> FieldProblem?) -> Decoded<String> {
        let decoded = string(name, required: required)
        if case .value(let value) = decoded, let problem = rule(value) {
            fail(name, problem.code, problem.reason)
            return .invalid
        }
        return decoded
    }

    /// A whole-number field (no fraction, no exponent) within `range`.
    mutating func integer(_ name: StaticString, required: Bool = true, in range: ClosedRange<Int64>) -> Decoded<Int64> {
        switch token(name, required: required) {
        case .absent: return .absent
        case .invalid: return .invalid
        case .value(.number(let number)):
            guard !number.hasFraction, !number.hasExponent else {
                fail(name, .notAnInteger, "must be a whole number, got \(DecimalText.quoted(bytes, number.start, number.end))")
                return .invalid
            }
            var value: Int64 = 0
            var index = number.isNegative ? number.start + 1 : number.start
            var overflow = false
            while index < number.end {
                let digit = Int64(bytes[index] - UInt8(ascii: "0"))
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (next, o2) = number.isNegative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
                if o1 || o2 {
                    overflow = true
                    break
                }
                value = next
                index += 1
            }
            if overflow || !range.contains(value) {
                let shown = DecimalText.quoted(bytes, number.start, number.end).dropFirst().dropLast()
                let tooSmall = overflow ? number.isNegative : value < range.lowerBound
                if tooSmall && range.lowerBound == 1 {
                    fail(name, .notPositive, "must be greater than 0, got \(shown)")
                } else if tooSmall && range.lowerBound == 0 {
                    fail(name, .outOfRange, "must not be negative, got \(shown)")
                } else if tooSmall {
                    fail(name, .outOfRange, "must be at least \(range.lowerBound), got \(shown)")
                } else {
                    fail(name, .outOfRange, "must be at most \(range.upperBound), got \(shown)")
                }
                return .invalid
            }
            return .value(value)
        case .value(let other):
            fail(name, .wrongType, "must be a whole number, got \(other.typeName)")
            return .invalid
        }
    }

    /// A price field: a JSON number or a decimal string, at most 4 decimals, not negative.
    mutating func price(_ name: StaticString, required: Bool = true) -> Decoded<Price> {
        let start: Int
        let end: Int
        switch token(name, required: required) {
        case .absent: return .absent
        case .invalid: return .invalid
        case .value(.number(let number)):
            (start, end) = (number.start, number.end)
        case .value(.string(let string)) where !string.hasEscapes:
            (start, end) = (string.start, string.end)
        case .value(.string):
            fail(name, .invalidPrice, "is not a plain decimal number (it has escapes)")
            return .invalid
        case .value(let other):
            fail(name, .wrongType, "must be a number or a decimal string, got \(other.typeName)")
            return .invalid
        }
        switch Price.parse(bytes, start: start, end: end) {
        case .success(let price):
            return .value(price)
        case .failure(let error):
            fail(name, error.code == .tooManyDecimals ? .tooManyDecimals : .invalidPrice, error.reason)
            return .invalid
        }
    }

    /// An amount in ticks that may exceed a price's range (a notional): a number or decimal string.
    mutating func ticks(_ name: StaticString, required: Bool = true) -> Decoded<Int128> {
        let start: Int
        let end: Int
        switch token(name, required: required) {
        case .absent: return .absent
        case .invalid: return .invalid
        case .value(.number(let number)): (start, end) = (number.start, number.end)
        case .value(.string(let string)) where !string.hasEscapes: (start, end) = (string.start, string.end)
        case .value(let other):
            fail(name, .wrongType, "must be a number or a decimal string, got \(other.typeName)")
            return .invalid
        }
        switch Price.parseTicks(bytes, start: start, end: end) {
        case .success(let ticks): return .value(ticks)
        case .failure(let error):
            fail(name, error.code == .tooManyDecimals ? .tooManyDecimals : .invalidPrice, error.reason)
            return .invalid
        }
    }

    /// A field whose string value must be one of the cases of `Value`.
    mutating func enumeration<Value: RawRepresentable<String> & CaseIterable>(
        _ name: StaticString, _ type: Value.Type, required: Bool = true
    ) -> Decoded<Value> {
        switch token(name, required: required) {
        case .absent: return .absent
        case .invalid: return .invalid
        case .value(.string(let token)):
            if let value = Value(rawValue: makeString(token)) { return .value(value) }
            let expected = Value.allCases.map(\.rawValue)
            let list = expected.dropLast().joined(separator: ", ") + " or " + expected.last!
            fail(name, .unknownValue, "unknown value \(DecimalText.quoted(bytes, token.start, token.end)); expected \(list)")
            return .invalid
        case .value(let other):
            fail(name, .wrongType, "must be a string, got \(other.typeName)")
            return .invalid
        }
    }

    /// An array of objects, each decoded by `body` with problems named `name[index].field`.
    mutating func objects<Element>(
        _ name: StaticString, _ body: (inout ObjectDecoder) -> Element?
    ) -> Decoded<[Element]> {
        switch token(name, required: true) {
        case .absent: return .absent
        case .invalid: return .invalid
        case .value(.array(let start, let end)):
            var scanner = JSONScanner(bytes, start: start + 1, end: end)
            var elements: [Element] = []
            var valid = true
            var index = 0
            scanner.skipWhitespace()
            while !scanner.isAtEnd, bytes[scanner.index] != UInt8(ascii: "]") {
                // The array was validated when it was scanned, so this cannot fail on syntax.
                let elementStart = scanner.index
                guard let value = try? scanner.parseValue(depth: 1) else { return .invalid }
                if case .object = value {
                    let (element, problems) = JSONFieldList.withList { fields in
                        var inner = JSONScanner(bytes, start: elementStart, end: scanner.index)
                        try? inner.parseObjectFields(into: &fields)
                        var decoder = ObjectDecoder(bytes: bytes, fields: fields, arrayName: name, arrayIndex: index)
                        let element = body(&decoder)
                        decoder.finish()
                        return (element, decoder.errors)
                    }
                    errors.append(contentsOf: problems)
                    if let element, problems.isEmpty { elements.append(element) } else { valid = false }
                } else {
                    errors.append(
                        ValidationError(field: "\(name)[\(index)]", code: .wrongType, reason: "must be an object, got \(value.typeName)"))
                    valid = false
                }
                index += 1
                scanner.skipWhitespace()
                if !scanner.isAtEnd, bytes[scanner.index] == UInt8(ascii: ",") { scanner.index += 1 }
                scanner.skipWhitespace()
            }
            return valid ? .value(elements) : .invalid
        case .value(let other):
            fail(name, .wrongType, "must be an array of objects, got \(other.typeName)")
            return .invalid
        }
    }
}
