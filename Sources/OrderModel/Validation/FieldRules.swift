import WireJSON

/// A problem a field rule found, before it is named after the field.
struct FieldProblem: Sendable {
    var code: ValidationError.Code
    var reason: String

    init(_ code: ValidationError.Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    func named(_ field: String) -> ValidationError {
        ValidationError(field: field, code: code, reason: reason)
    }
}

/// The per-field rules, shared by the JSON decoders and the `validationErrors()` of values built in code.
/// Each returns the problem, or `nil`.
enum FieldRules {
    /// An identifier: not empty, at most ``MessageLimits/maxIdentifierLength`` bytes, no control characters.
    static func identifier(_ value: String) -> FieldProblem? {
        text(value, maxLength: MessageLimits.maxIdentifierLength)
    }

    /// A symbol: 1 to ``MessageLimits/maxSymbolLength`` bytes of ASCII letters, digits and `. - _ / :`.
    static func symbol(_ value: String) -> FieldProblem? {
        var value = value
        return value.withUTF8 { utf8 in
            if utf8.isEmpty { return FieldProblem(.empty, "must not be empty") }
            if utf8.count > MessageLimits.maxSymbolLength {
                return FieldProblem(.tooLong, "is \(utf8.count) bytes long; at most \(MessageLimits.maxSymbolLength) are allowed")
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "/"), UInt8(ascii: ":"):
                    continue
                default:
                    return FieldProblem(
                        .invalidCharacters,
                        "may contain only ASCII letters, digits and . - _ / :, got \"\(String(decoding: utf8, as: UTF8.self))\"")
                }
            }
            return nil
        }
    }

    /// A `traceparent`: not empty, bounded, no control characters (its W3C syntax is checked where it is used).
    static func traceparent(_ value: String) -> FieldProblem? {
        text(value, maxLength: MessageLimits.maxTraceparentLength)
    }

    /// A batch member's `tracestate`: not empty, bounded, no control characters.
    static func tracestate(_ value: String) -> FieldProblem? {
        text(value, maxLength: MessageLimits.maxTracestateLength)
    }

    /// A batch member's `baggage` (a W3C Baggage header value): not empty, bounded, no control characters.
    static func baggage(_ value: String) -> FieldProblem? {
        text(value, maxLength: MessageLimits.maxBaggageLength)
    }

    /// A `reason`: at most ``MessageLimits/maxReasonLength`` bytes.
    static func reason(_ value: String) -> FieldProblem? {
        let count = value.utf8.count
        guard count <= MessageLimits.maxReasonLength else {
            return FieldProblem(.tooLong, "is \(count) bytes long; at most \(MessageLimits.maxReasonLength) are allowed")
        }
        return nil
    }

    /// A time stamp: RFC 3339 (`2026-11-30T09:30:00.050Z`, or with an offset such as `+01:00`).
    static func timestamp(_ value: String) -> FieldProblem? {
        isRFC3339(value)
            ? nil
            : FieldProblem(.invalidCharacters, "must be an RFC 3339 time such as 2026-11-30T09:30:00.050Z, got \"\(value.prefix(40))\"")
    }

    private static func text(_ value: String, maxLength: Int) -> FieldProblem? {
        var value = value
        return value.withUTF8 { utf8 in
            if utf8.isEmpty { return FieldProblem(.empty, "must not be empty") }
            if utf8.count > maxLength {
                return FieldProblem(.tooLong, "is \(utf8.count) bytes long; at most \(maxLength) are allowed")
            }
            for byte in utf8 where byte < 0x20 || byte == 0x7F {
                return FieldProblem(.invalidCharacters, "must not contain control characters")
            }
            return nil
        }
    }

    /// A quantity: whole units, greater than 0, at most ``MessageLimits/maxQuantity``.
    static func quantity(_ value: Int64) -> FieldProblem? {
        if value <= 0 { return FieldProblem(.notPositive, "must be greater than 0, got \(value)") }
        if value > MessageLimits.maxQuantity {
            return FieldProblem(.outOfRange, "must be at most \(MessageLimits.maxQuantity), got \(value)")
        }
        return nil
    }

    /// A quantity that may be zero: 0 to ``MessageLimits/maxQuantity``.
    static func nonNegativeQuantity(_ value: Int64) -> FieldProblem? {
        if value < 0 { return FieldProblem(.outOfRange, "must not be negative, got \(value)") }
        if value > MessageLimits.maxQuantity {
            return FieldProblem(.outOfRange, "must be at most \(MessageLimits.maxQuantity), got \(value)")
        }
        return nil
    }

    /// The price rules of an order: a limit order needs a `limitPrice` greater than 0; a market order has none.
    /// `priceWasInvalid` says the field was present but unreadable (its own problem is reported already).
    static func limitPrice(orderType: OrderType?, price: Price?, priceWasInvalid: Bool = false) -> FieldProblem? {
        switch orderType {
        case .limit?:
            guard let price else {
                return priceWasInvalid ? nil : FieldProblem(.missingLimitPrice, "is required for a limit order")
            }
            if price.ticks == 0 { return FieldProblem(.notPositive, "must be greater than 0 for a limit order") }
        case .market?:
            if price != nil || priceWasInvalid {
                return FieldProblem(.notAllowed, "is not allowed for a market order (omit it, or send a limit order)")
            }
        case nil:
            break
        }
        return nil
    }

    /// Whether `value` is an RFC 3339 date-time.
    static func isRFC3339(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { isRFC3339(bytes: $0) }
    }

    private static func isRFC3339(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var value = 0
            for index in range {
                guard isDigit(b[index]) else { return nil }
                value = value * 10 + Int(b[index] - UInt8(ascii: "0"))
            }
            return value
        }
        guard b.count >= 20, let month = digits(5..<7), let day = digits(8..<10), let hour = digits(11..<13),
            let minute = digits(14..<16), let second = digits(17..<19), digits(0..<4) != nil,
            b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
        else { return false }
        var index = 19
        if b[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < b.count, isDigit(b[index]) { index += 1 }
            guard index > start else { return false }
        }
        guard index < b.count else { return false }
        if b[index] == UInt8(ascii: "Z") || b[index] == UInt8(ascii: "z") { return index + 1 == b.count }
        guard b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-"), index + 6 == b.count,
            let offsetHours = digits(index + 1..<index + 3), b[index + 3] == UInt8(ascii: ":"),
            let offsetMinutes = digits(index + 4..<index + 6)
        else { return false }
        return offsetHours < 24 && offsetMinutes < 60
    }
}
