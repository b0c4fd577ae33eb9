/// The exact average price of a client order: its notional (the sum of quantity × price of its allocations,
/// in ticks) over its cumulative quantity. A rational number, kept as those two integers.
///
/// ``rounded`` is what travels in `averagePrice`: the nearest tick, halves rounded up. The exact invariant
/// (`averagePrice × cumulativeQuantity == Σ quantity × price`) is checked on ``notional``, which order updates
/// carry too (field `notional`).
public struct AveragePrice: Hashable, Sendable, CustomStringConvertible {
    /// Σ allocated quantity × price, in ticks (units × ticks of 0.0001).
    public var notional: Int128
    /// Σ allocated quantity: the order's cumulative quantity.
    public var quantity: Int64

    /// Creates an average from a notional in ticks and a quantity.
    public init(notional: Int128, quantity: Int64) {
        self.notional = notional
        self.quantity = quantity
    }

    /// Nothing allocated yet: zero over zero.
    public static let none = AveragePrice(notional: 0, quantity: 0)

    /// Adds an allocation of `quantity` units at `price`.
    public mutating func add(quantity: Int64, price: Price) {
        notional += price.notional(quantity: quantity)
        self.quantity += quantity
    }

    /// The average rounded to the nearest tick, halves up; zero when nothing is allocated.
    public var rounded: Price {
        Price(ticks: Self.roundedTicks(notional: notional, quantity: quantity))
    }

    /// Whether the average is exactly `price`: `price × quantity == notional`.
    public func isExactly(_ price: Price) -> Bool {
        price.notional(quantity: quantity) == notional
    }

    /// `notional / quantity` rounded to the nearest tick, halves up; 0 when `quantity` is 0.
    public static func roundedTicks(notional: Int128, quantity: Int64) -> Int64 {
        guard quantity > 0, notional > 0 else { return 0 }
        if let small = Int64(exactly: notional), small <= Int64.max / 2 {
            let (quotient, remainder) = small.quotientAndRemainder(dividingBy: quantity)
            return remainder >= quantity - remainder ? quotient + 1 : quotient
        }
        let divisor = Int128(quantity)
        let (quotient, remainder) = notional.quotientAndRemainder(dividingBy: divisor)
        let rounded = remainder * 2 >= divisor ? quotient + 1 : quotient
        return Int64(clamping: rounded)
    }

    /// `notional/quantity` in ticks, e.g. `3785000/20 ticks`.
    public var description: String { "\(notional)/\(quantity) ticks" }
}
