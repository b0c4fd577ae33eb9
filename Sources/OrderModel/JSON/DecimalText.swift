/// Exact decimal text of tick amounts (prices and notionals): parsing and the shortest formatting.
enum DecimalText {
    /// Parses `bytes[start..<end]` as a non-negative decimal with at most 4 non-zero decimals, in ticks.
    /// See ``Price/parse(_:)`` for the grammar.
    static func parseTicks(_ bytes: UnsafeRawBufferPointer, start: Int, end: Int) -> Result<Int128, Price.ParseError> {
        guard start < end else { return .failure(.init(code: .empty, reason: "is empty")) }
        if isNotANumber(bytes, start: start, end: end) {
            return .failure(.init(code: .notANumber, reason: "is not a number (NaN and infinities are not prices)"))
        }
        var index = start
        if bytes[index] == UInt8(ascii: "-") {
            return .failure(.init(code: .negative, reason: "must not be negative"))
        }
        func malformed(_ why: String) -> Result<Int128, Price.ParseError> {
            .failure(.init(code: .malformed, reason: "is not a plain decimal number (\(why)): \(quoted(bytes, start, end))"))
        }
        guard isDigit(bytes[index]) else { return malformed("it must start with a digit") }
        let limit = (Int128.max - 9) / 10
        var value: Int128 = 0
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < end, isDigit(bytes[index]) { return malformed("leading zero") }
        } else {
            while index < end, isDigit(bytes[index]) {
                guard value <= limit else { return tooLarge() }
                value = value * 10 + Int128(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
        }
        var decimals = 0
        var significantDecimals = 0
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < end, isDigit(bytes[index]) else { return malformed("a digit must follow the decimal point") }
            while index < end, isDigit(bytes[index]) {
                let digit = bytes[index] - UInt8(ascii: "0")
                decimals += 1
                if decimals <= Price.maxDecimals {
                    guard value <= limit else { return tooLarge() }
                    value = value * 10 + Int128(digit)
                }
                if digit != 0 { significantDecimals = decimals }
                index += 1
            }
        }
        if index < end, bytes[index] | 0x20 == UInt8(ascii: "e") {
            return .failure(
                .init(code: .exponent, reason: "must not use an exponent; write a plain decimal such as 189.25"))
        }
        guard index == end else { return malformed("unexpected characters") }
        if significantDecimals > Price.maxDecimals {
            return .failure(
                .init(
                    code: .tooManyDecimals,
                    reason: "has \(significantDecimals) decimals; at most \(Price.maxDecimals) are allowed"))
        }
        for _ in min(decimals, Price.maxDecimals)..<Price.maxDecimals {
            guard value <= limit else { return tooLarge() }
            value *= 10
        }
        return .success(value)
    }

    private static func tooLarge() -> Result<Int128, Price.ParseError> {
        .failure(.init(code: .tooLarge, reason: "is too large"))
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
    static func quoted(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        let cut = min(end, start + 40)
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<cut]), as: UTF8.self)
        return "\"\(text)\(cut < end ? "…" : "")\""
    }

    /// The most bytes ``write(ticks:to:)`` writes.
    static let maxTicksLength = 48
    /// The most bytes ``write(integer:to:)`` writes.
    static let maxIntegerLength = 20

    /// Writes the shortest decimal text of a non-negative amount of ticks (`1892500` → `189.25`) at `output`,
    /// which has room for ``maxTicksLength`` bytes, and returns how many bytes it wrote.
    static func write(ticks: Int128, to output: UnsafeMutablePointer<UInt8>) -> Int {
        let perUnit = Int128(Price.ticksPerUnit)
        let units = ticks / perUnit
        var fraction = Int(ticks % perUnit)
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
    static func write(integer value: Int64, to output: UnsafeMutablePointer<UInt8>) -> Int {
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

    /// The shortest decimal text of an amount of ticks, as a string.
    static func string(ticks: Int128) -> String {
        if ticks < 0 { return "-" + string(ticks: ticks == .min ? .max : 0 - ticks) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxTicksLength) { buffer in
            let count = write(ticks: ticks, to: buffer.baseAddress!)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }
}
