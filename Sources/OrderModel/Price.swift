import WireJSON

/// A price: an exact, non-negative whole number of ticks of 0.0001.
///
/// Prices travel as JSON numbers (`189.25`) or decimal strings (`"189.25"`) with at most 4 decimals; inside the
/// pipeline they are integers, never `Double`. `Price(ticks: 1_892_500)` is 189.25. Its `description` is the
/// shortest decimal text (`"189.25"`, `"189"`, `"0.0005"`), which is also what the JSON writers emit.
public struct Price: Hashable, Comparable, Sendable {
    /// Ticks per unit of currency: a tick is 0.0001.
    public static let ticksPerUnit: Int64 = 10_000
    /// The most decimals a price may have.
    public static let maxDecimals = 4
    /// A price of zero (what fills and updates carry when nothing executed).
    public static let zero = Price(ticks: 0)

    /// The price in ticks of 0.0001. Never negative.
    public let ticks: Int64

    /// Creates a price of `ticks` ticks of 0.0001. `ticks` must not be negative.
    public init(ticks: Int64) {
        precondition(ticks >= 0, "a price cannot be negative")
        self.ticks = ticks
    }

    /// Creates a price of `units` whole units of currency, or `nil` when it does not fit in ticks.
    public init?(units: Int64) {
        let (ticks, overflow) = units.multipliedReportingOverflow(by: Self.ticksPerUnit)
        guard !overflow, ticks >= 0 else { return nil }
        self.ticks = ticks
    }

    /// The exact value of `quantity` units at this price, in ticks (`quantity × ticks`): an order's notional.
    public func notional(quantity: Int64) -> Int128 {
        Int128(quantity) * Int128(ticks)
    }

    /// Orders prices by value.
    public static func < (lhs: Price, rhs: Price) -> Bool { lhs.ticks < rhs.ticks }
}

extension Price: CustomStringConvertible, LosslessStringConvertible {
    /// The shortest decimal text: no exponent, no trailing zeros, no decimal point for whole prices.
    public var description: String {
        DecimalText.string(ticks: Int128(ticks))
    }

    /// Parses a decimal text (see ``parse(_:)``), or returns `nil` when it is not a valid price.
    public init?(_ description: String) {
        guard case .success(let price) = Price.parse(description) else { return nil }
        self = price
    }
}

extension Price {
    /// Why a text is not a price.
    public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        /// An opaque category of parse error. Compare with the static members.
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            private let name: String
            private init(_ name: String) { self.name = name }
            /// The category's name.
            public var description: String { name }

            /// The text is empty.
            public static let empty = Code("empty")
            /// The text does not follow the decimal grammar (letters, spaces, `+`, `1.`, `.5`, leading zeros).
            public static let malformed = Code("malformed")
            /// The text has a minus sign: prices are never negative.
            public static let negative = Code("negative")
            /// The text uses an exponent (`1.8925e2`).
            public static let exponent = Code("exponent")
            /// The text is NaN or an infinity.
            public static let notANumber = Code("not a number")
            /// The text has a non-zero digit past the 4th decimal.
            public static let tooManyDecimals = Code("too many decimals")
            /// The value does not fit in 64-bit ticks.
            public static let tooLarge = Code("too large")
        }

        /// The category.
        public var code: Code
        /// A sentence for people: what is wrong with the text.
        public var reason: String

        /// Creates an error.
        public init(code: Code, reason: String) {
            self.code = code
            self.reason = reason
        }

        /// The reason.
        public var description: String { reason }
    }

    /// Parses a price from its decimal text, as carried in a JSON string or as the text of a JSON number.
    ///
    /// The grammar is JSON's number grammar without sign or exponent: `0` or digits without a leading zero,
    /// optionally followed by `.` and at least one digit. At most 4 decimals may be non-zero: `189.25` and
    /// `189.25000` are accepted (the value is exact), `189.25001` is not. Rejected with a reason: an empty text,
    /// a minus sign (negative), an exponent (`1e2`), `NaN` and infinities, surrounding spaces, `+`, `.5`, `5.`,
    /// leading zeros, and values past `Int64.max` ticks.
    public static func parse(_ text: some StringProtocol) -> Result<Price, ParseError> {
        var text = String(text)
        return text.withUTF8 { buffer in
            let raw = UnsafeRawBufferPointer(buffer)
            return parse(raw, start: 0, end: raw.count)
        }
    }

    /// Parses a price from its decimal text; see ``parse(_:)``.
    ///
    /// - Throws: ``ParseError`` with the reason the text is not a price.
    public init(parsing text: some StringProtocol) throws(ParseError) {
        self = try Price.parse(text).get()
    }

    /// Parses `bytes[start..<end]`; see ``parse(_:)``.
    static func parse(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> Result<Price, ParseError> {
        switch parseTicks(bytes, start: start, end: end) {
        case .success(let ticks):
            guard ticks <= Int128(Int64.max) else {
                return .failure(ParseError(code: .tooLarge, reason: "is too large: at most \(Price(ticks: .max)) is allowed"))
            }
            return .success(Price(ticks: Int64(ticks)))
        case .failure(let error):
            return .failure(error)
        }
    }

    /// Parses `bytes[start..<end]` by the grammar of ``parse(_:)`` as an amount in ticks that may exceed a
    /// price's range (a notional).
    static func parseTicks(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> Result<Int128, ParseError> {
        switch DecimalText.parse(bytes, start: start, end: end, decimals: maxDecimals) {
        case .success(let ticks):
            return .success(ticks)
        case .failure(.empty):
            return .failure(ParseError(code: .empty, reason: "is empty"))
        case .failure(.notANumber):
            return .failure(ParseError(code: .notANumber, reason: "is not a number (NaN and infinities are not prices)"))
        case .failure(.negative):
            return .failure(ParseError(code: .negative, reason: "must not be negative"))
        case .failure(.malformed(let why)):
            return .failure(
                ParseError(
                    code: .malformed,
                    reason: "is not a plain decimal number (\(why)): \(DecimalText.quoted(bytes, start, end))"))
        case .failure(.exponent):
            return .failure(ParseError(code: .exponent, reason: "must not use an exponent; write a plain decimal such as 189.25"))
        case .failure(.tooManyDecimals(let decimals)):
            return .failure(
                ParseError(code: .tooManyDecimals, reason: "has \(decimals) decimals; at most \(maxDecimals) are allowed"))
        case .failure(.tooLarge):
            return .failure(ParseError(code: .tooLarge, reason: "is too large"))
        }
    }
}
