import WireJSON

/// Prices as their shortest exact decimal text (`189.25`).
extension JSONWriter {
    mutating func field(_ name: StaticString, _ value: Price) {
        field(name, ticks: Int128(value.ticks))
    }

    mutating func field(_ name: StaticString, _ value: Price?) {
        guard let value else { return }
        field(name, value)
    }
}
