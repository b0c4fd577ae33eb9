import WireJSON

/// A price in exact integer ticks of 0.0001.
///
/// The exchange never uses `Double` for prices: `189.25` is `ExchangePrice(ticks: 1_892_500)`. Text in and out
/// (``init(_:)``, ``description``) is a plain decimal with at most four decimals, so every price round-trips
/// exactly.
///
/// ```swift
/// let price = ExchangePrice("189.25")!      // ticks == 1_892_500
/// price.description                         // "189.25"
/// ExchangePrice(ticks: 1_900_000).description  // "190"
/// ```
public struct ExchangePrice: Hashable, Comparable, Sendable, LosslessStringConvertible {
    /// Ticks per whole currency unit: a tick is 0.0001.
    public static let ticksPerUnit: Int64 = 10_000

    /// The number of decimals a price may have.
    public static let decimals = 4

    /// The price in ticks of 0.0001.
    public var ticks: Int64

    /// Creates a price from a number of ticks of 0.0001.
    public init(ticks: Int64) {
        self.ticks = ticks
    }

    /// Parses a plain decimal such as `"189.25"`, `"-0.5"` or `"190"`.
    ///
    /// Returns `nil` for anything else: more than four decimals, an exponent, a sign other than a leading `-`,
    /// whitespace, or a value that does not fit in `Int64` ticks. (The JSON decoder accepts exponents in
    /// numbers; see `docs/exchange-protocol.md`.)
    public init?(_ description: String) {
        guard case .success(let ticks) = DecimalText.parse(description, decimals: Self.decimals, allowsSign: true),
            let ticks = Int64(exactly: ticks)
        else { return nil }
        self.ticks = ticks
    }

    /// The shortest plain decimal that denotes this price: `"189.25"`, `"190"`, `"0.0001"`, `"-3.5"`.
    public var description: String {
        DecimalText.string(ticks: Int128(ticks))
    }

    /// Orders prices by their ticks.
    public static func < (lhs: ExchangePrice, rhs: ExchangePrice) -> Bool {
        lhs.ticks < rhs.ticks
    }
}
