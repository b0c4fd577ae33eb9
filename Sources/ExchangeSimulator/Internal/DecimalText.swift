/// Exact decimal text <-> scaled `Int64`, over ASCII bytes, without `Double`.
///
/// The grammar is JSON's number grammar (`-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`). A value is
/// accepted when it is exactly a whole number of units at the requested scale, so `189.2500` and `1.8925e2` are
/// both 1_892_500 ticks, while `189.00001` is not a whole number of ticks.
enum DecimalText {
    enum Failure: Error, Equatable {
        /// The text is not a number.
        case syntax
        /// The value is not a whole number of units at the requested scale (too many decimals).
        case notWhole
        /// The value does not fit in `Int64` at the requested scale.
        case outOfRange
    }

    /// Parses `bytes` as a number scaled by 10^`decimals` (4 for price ticks, 0 for whole quantities).
    static func parse(_ bytes: ArraySlice<UInt8>, decimals: Int, allowExponent: Bool) -> Result<Int64, Failure> {
        bytes.withUnsafeBufferPointer { parse($0, decimals: decimals, allowExponent: allowExponent) }
    }

    /// Parses `bytes` as a number scaled by 10^`decimals`, without allocating.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, decimals: Int, allowExponent: Bool) -> Result<Int64, Failure> {
        var index = 0
        let count = bytes.count
        var negative = false
        if index < count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        // Integer part.
        let integerStart = index
        while index < count, isDigit(bytes[index]) { index += 1 }
        let integerEnd = index
        if integerEnd == integerStart { return .failure(.syntax) }
        if integerEnd - integerStart > 1, bytes[integerStart] == UInt8(ascii: "0") { return .failure(.syntax) }
        // Fraction.
        var fractionStart = index
        var fractionEnd = index
        if index < count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fractionStart = index
            while index < count, isDigit(bytes[index]) { index += 1 }
            fractionEnd = index
            if fractionEnd == fractionStart { return .failure(.syntax) }
        }
        // Exponent, saturated far beyond any meaningful scale.
        var exponent = 0
        if index < count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            guard allowExponent else { return .failure(.syntax) }
            index += 1
            var exponentNegative = false
            if index < count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            while index < count, isDigit(bytes[index]) {
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(bytes[index] &- 0x30) }
                index += 1
            }
            if index == exponentStart { return .failure(.syntax) }
            if exponentNegative { exponent = -exponent }
        }
        if index != count { return .failure(.syntax) }

        // The digits are the integer digits followed by the fraction digits; value = digits * 10^scale.
        let integerLength = integerEnd - integerStart
        var digitCount = integerLength + (fractionEnd - fractionStart)
        func digit(_ position: Int) -> UInt64 {
            let offset = position < integerLength ? integerStart + position : fractionStart + position - integerLength
            return UInt64(bytes[offset] &- 0x30)
        }
        var scale = exponent - (fractionEnd - fractionStart) + decimals
        if scale < 0 {
            // The dropped digits must all be zero.
            let keep = max(0, digitCount + scale)
            for position in keep..<digitCount where digit(position) != 0 { return .failure(.notWhole) }
            digitCount = keep
            scale = 0
        }
        var magnitude: UInt64 = 0
        for position in 0..<digitCount {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(digit(position))
            if overflow1 || overflow2 { return .failure(.outOfRange) }
            magnitude = sum
        }
        if magnitude != 0 {
            for _ in 0..<scale {
                let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                if overflow { return .failure(.outOfRange) }
                magnitude = times10
            }
        }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 { return .failure(.outOfRange) }
            return .success(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
        }
        if magnitude > UInt64(Int64.max) { return .failure(.outOfRange) }
        return .success(Int64(magnitude))
    }

    /// Price ticks from plain decimal text, or `nil`.
    static func ticks(_ bytes: ArraySlice<UInt8>, allowExponent: Bool) -> Int64? {
        try? parse(bytes, decimals: ExchangePrice.decimals, allowExponent: allowExponent).get()
    }

    /// Appends `ticks` as the shortest plain decimal with at most four decimals.
    static func append(ticks: Int64, to bytes: inout [UInt8]) {
        if ticks < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = ticks.magnitude
        let unit = UInt64(ExchangePrice.ticksPerUnit)
        appendDigits(magnitude / unit, width: nil, to: &bytes)
        var fraction = magnitude % unit
        if fraction == 0 { return }
        var width = ExchangePrice.decimals
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        bytes.append(UInt8(ascii: "."))
        appendDigits(fraction, width: width, to: &bytes)
    }

    /// Appends a signed integer in decimal.
    static func append(integer: Int64, to bytes: inout [UInt8]) {
        if integer < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(integer.magnitude, width: nil, to: &bytes)
    }

    /// Appends `value` in decimal, left-padded with zeros to `width` digits when given.
    private static func appendDigits(_ value: UInt64, width: Int?, to bytes: inout [UInt8]) {
        var digitCount = 1
        var rest = value / 10
        while rest > 0 {
            digitCount += 1
            rest /= 10
        }
        let total = max(digitCount, width ?? 0)
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: total))
        var remaining = value
        var position = start + total - 1
        while remaining > 0 {
            bytes[position] = UInt8(ascii: "0") &+ UInt8(remaining % 10)
            remaining /= 10
            position -= 1
        }
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
