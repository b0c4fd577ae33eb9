/// Exact decimal text <-> integer amounts (prices in ticks of 0.0001, quantities), without `Double`.
///
/// The one grammar is JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; the sign
/// and the exponent are allowed only when the caller says so. A text is accepted when it is exactly a whole
/// number of units at the requested scale, so with 4 decimals `189.2500` and `1.8925e2` are both 1_892_500
/// ticks, while `189.00001` is not a whole number of ticks.
package enum DecimalText {
    /// The decimals of a tick amount: a tick is 0.0001.
    package static let tickDecimals = 4
    /// Ticks per unit of currency.
    package static let ticksPerUnit: Int128 = 10_000

    /// Why a text is not an amount, in the order they are checked.
    package enum Failure: Error, Hashable, Sendable {
        /// The text is empty.
        case empty
        /// The text is NaN or an infinity, in any case, with or without a sign.
        case notANumber
        /// The text has a minus sign, and the caller allows none.
        case negative
        /// The text does not follow the grammar; the reason says why (`"leading zero"`, ...).
        case malformed(String)
        /// The text has an exponent, and the caller allows none.
        case exponent
        /// The text has a non-zero digit past the requested scale; the count is of the decimals it has.
        case tooManyDecimals(Int)
        /// The value does not fit in `Int128` at the requested scale.
        case tooLarge
    }

    /// Parses `bytes[start..<end]` as a decimal number scaled by 10^`decimals` (4 for ticks, 0 for whole
    /// quantities). Never allocates, except for the reason of a malformed text.
    package static func parse(
        _ bytes: UnsafeRawBufferPointer, start: Int, end: Int, decimals: Int,
        allowsSign: Bool = false, allowsExponent: Bool = false
    ) -> Result<Int128, Failure> {
        guard start < end else { return .failure(.empty) }
        if isNotANumber(bytes, start: start, end: end) { return .failure(.notANumber) }
        var index = start
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            guard allowsSign else { return .failure(.negative) }
            negative = true
            index += 1
        }
        guard index < end, isDigit(bytes[index]) else { return .failure(.malformed("it must start with a digit")) }
        let integerStart = index
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < end, isDigit(bytes[index]) { return .failure(.malformed("leading zero")) }
        } else {
            while index < end, isDigit(bytes[index]) { index += 1 }
        }
        let integerEnd = index
        var fractionStart = index
        var fractionEnd = index
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fractionStart = index
            guard index < end, isDigit(bytes[index]) else {
                return .failure(.malformed("a digit must follow the decimal point"))
            }
            while index < end, isDigit(bytes[index]) { index += 1 }
            fractionEnd = index
        }
        var exponent = 0
        if index < end, bytes[index] | 0x20 == UInt8(ascii: "e") {
            guard allowsExponent else { return .failure(.exponent) }
            index += 1
            var exponentNegative = false
            if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            guard index < end, isDigit(bytes[index]) else { return .failure(.malformed("the exponent has no digits")) }
            while index < end, isDigit(bytes[index]) {
                // Saturated far beyond any meaningful scale.
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(bytes[index] &- UInt8(ascii: "0")) }
                index += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        guard index == end else { return .failure(.malformed("unexpected characters")) }

        // The digits are the integer digits followed by the fraction digits; value = digits × 10^shift.
        let integerLength = integerEnd - integerStart
        let digitCount = integerLength + (fractionEnd - fractionStart)
        @inline(__always) func digit(_ position: Int) -> Int128 {
            let offset = position < integerLength ? integerStart + position : fractionStart + position - integerLength
            return Int128(bytes[offset] &- UInt8(ascii: "0"))
        }
        let shift = exponent - (fractionEnd - fractionStart) + decimals
        var kept = digitCount
        if shift < 0 {
            // The digits past the scale must all be zero.
            kept = max(0, digitCount + shift)
            var position = digitCount - 1
            while position >= kept {
                if digit(position) != 0 {
                    return .failure(.tooManyDecimals(position + 1 - integerLength - exponent))
                }
                position -= 1
            }
        }
        var value: Int128 = 0
        for position in 0..<kept {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(digit(position))
            if overflow1 || overflow2 { return .failure(.tooLarge) }
            value = sum
        }
        if value != 0, shift > 0 {
            for _ in 0..<shift {
                let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
                if overflow { return .failure(.tooLarge) }
                value = times10
            }
        }
        return .success(negative ? 0 - value : value)
    }

    private static func isNotANumber(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> Bool {
        var index = start
        if bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        guard index < end, !isDigit(bytes[index]) else { return false }
        func matches(_ word: StaticString) -> Bool {
            guard end - index == word.utf8CodeUnitCount else { return false }
            for offset in 0..<word.utf8CodeUnitCount where bytes[index + offset] | 0x20 != word.utf8Start[offset] {
                return false
            }
            return true
        }
        return matches("nan") || matches("inf") || matches("infinity")
    }

    /// The text in quotes for a reason, cut at 40 bytes.
    package static func quoted(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        let cut = min(end, start + 40)
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<cut]), as: UTF8.self)
        return "\"\(text)\(cut < end ? "…" : "")\""
    }

    /// The most bytes ``write(ticks:to:)`` writes.
    package static let maxTicksLength = 48
    /// The most bytes ``write(integer:to:)`` writes.
    package static let maxIntegerLength = 20

    /// Writes the shortest decimal text of a non-negative amount of ticks (`1892500` → `189.25`) at `output`,
    /// which has room for ``maxTicksLength`` bytes, and returns how many bytes it wrote.
    package static func write(ticks: Int128, to output: UnsafeMutablePointer<UInt8>) -> Int {
        let units = ticks / ticksPerUnit
        var fraction = Int(ticks % ticksPerUnit)
        var count: Int
        if let small = Int64(exactly: units) {
            count = write(integer: small, to: output)
        } else {
            let text = Array(String(units).utf8)
            for (offset, byte) in text.enumerated() { output[offset] = byte }
            count = text.count
        }
        guard fraction != 0 else { return count }
        output[count] = UInt8(ascii: ".")
        count += 1
        var divisor = 1000
        while fraction != 0 {
            output[count] = UInt8(ascii: "0") + UInt8(fraction / divisor)
            count += 1
            fraction %= divisor
            divisor /= 10
        }
        return count
    }

    /// Writes the decimal text of an integer at `output`, which has room for ``maxIntegerLength`` bytes, and
    /// returns how many bytes it wrote.
    package static func write(integer value: Int64, to output: UnsafeMutablePointer<UInt8>) -> Int {
        var magnitude = value.magnitude
        var count = 0
        if value < 0 {
            output[0] = UInt8(ascii: "-")
            count = 1
        }
        if magnitude < 10 {
            output[count] = UInt8(ascii: "0") + UInt8(magnitude)
            return count + 1
        }
        var digits = 0
        var probe = magnitude
        while probe != 0 {
            digits += 1
            probe /= 10
        }
        var position = count + digits - 1
        while magnitude != 0 {
            output[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            position -= 1
        }
        return count + digits
    }

    /// The shortest decimal text of an amount of ticks, as a string (`-35000` → `-3.5`).
    package static func string(ticks: Int128) -> String {
        if ticks < 0 { return "-" + string(ticks: ticks == .min ? .max : 0 - ticks) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxTicksLength) { buffer in
            let count = write(ticks: ticks, to: buffer.baseAddress!)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }

    /// Parses a whole string; see ``parse(_:start:end:decimals:allowsSign:allowsExponent:)``.
    package static func parse(
        _ text: some StringProtocol, decimals: Int, allowsSign: Bool = false, allowsExponent: Bool = false
    ) -> Result<Int128, Failure> {
        var text = String(text)
        return text.withUTF8 { buffer in
            let raw = UnsafeRawBufferPointer(buffer)
            return parse(raw, start: 0, end: raw.count, decimals: decimals, allowsSign: allowsSign, allowsExponent: allowsExponent)
        }
    }
}
