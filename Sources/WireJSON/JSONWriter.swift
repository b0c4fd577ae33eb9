/// Writes compact JSON: objects, arrays, strings with escapes, integers, amounts in ticks.
///
/// It writes into a stack buffer (moving to the heap only for large messages) and appends the result to the
/// caller's array once. Keys are `StaticString`s written as they are (the contracts' names need no escaping).
/// Strings get the escapes RFC 8259 requires (`"`, `\` and control characters) and nothing more. Numbers are
/// written without exponent; prices and notionals as their shortest exact decimal text.
package struct JSONWriter {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private var ownsBase = false
    private var needsComma = false
    private let escapes: Escapes

    /// How U+0008 and U+000C are escaped (`\n`, `\r` and `\t` always have their short forms). Both forms
    /// are the same JSON string; each protocol keeps the bytes it has always sent.
    package enum Escapes: Sendable {
        /// `\b` and `\f`: the pipeline's messages.
        case short
        /// `\u0008` and `\u000c`: the exchange protocol and the gateway's replies.
        case unicode
    }

    private init(base: UnsafeMutablePointer<UInt8>, capacity: Int, escapes: Escapes) {
        self.base = base
        self.capacity = capacity
        self.escapes = escapes
    }

    /// Runs `body` with a writer, then appends what it wrote to `buffer`.
    package static func write(into buffer: inout [UInt8], escapes: Escapes = .short, _ body: (inout JSONWriter) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { stack in  // on the stack up to 1 KiB
            var writer = JSONWriter(base: stack.baseAddress!, capacity: stack.count, escapes: escapes)
            body(&writer)
            buffer.append(contentsOf: UnsafeBufferPointer(start: writer.base, count: writer.count))
            if writer.ownsBase { writer.base.deallocate() }
        }
    }

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(extra) }
    }

    private mutating func grow(_ extra: Int) {
        let newCapacity = max(capacity * 2, count + extra)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        if ownsBase { base.deallocate() }
        base = newBase
        capacity = newCapacity
        ownsBase = true
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    private mutating func put(_ bytes: UnsafePointer<UInt8>, _ length: Int) {
        reserve(length)
        (base + count).update(from: bytes, count: length)
        count += length
    }

    @inline(__always)
    private mutating func separate() {
        if needsComma { put(UInt8(ascii: ",")) }
    }

    package mutating func beginObject() {
        separate()
        put(UInt8(ascii: "{"))
        needsComma = false
    }

    package mutating func endObject() {
        put(UInt8(ascii: "}"))
        needsComma = true
    }

    package mutating func beginArray() {
        separate()
        put(UInt8(ascii: "["))
        needsComma = false
    }

    package mutating func endArray() {
        put(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes `"name":` (with a comma before it when needed).
    package mutating func key(_ name: StaticString) {
        let length = name.utf8CodeUnitCount
        reserve(length + 4)
        if needsComma {
            base[count] = UInt8(ascii: ",")
            count += 1
        }
        base[count] = UInt8(ascii: "\"")
        (base + count + 1).update(from: name.utf8Start, count: length)
        base[count + 1 + length] = UInt8(ascii: "\"")
        base[count + 2 + length] = UInt8(ascii: ":")
        count += length + 3
        needsComma = false
    }

    package mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    package mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        field(name, value)
    }

    package mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        reserve(DecimalText.maxIntegerLength)
        count += DecimalText.write(integer: value, to: base + count)
        needsComma = true
    }

    package mutating func field(_ name: StaticString, _ value: Int64?) {
        guard let value else { return }
        field(name, value)
    }

    package mutating func field(_ name: StaticString, _ value: Int) {
        field(name, Int64(value))
    }

    /// Writes an amount in ticks (a price, a notional) as an exact decimal number.
    package mutating func field(_ name: StaticString, ticks value: Int128) {
        key(name)
        reserve(DecimalText.maxTicksLength + 1)
        if value < 0 {
            put(UInt8(ascii: "-"))
            count += DecimalText.write(ticks: value == .min ? .max : 0 - value, to: base + count)
        } else {
            count += DecimalText.write(ticks: value, to: base + count)
        }
        needsComma = true
    }

    @inlinable
    package mutating func field<Value: RawRepresentable<String>>(_ name: StaticString, _ value: Value) {
        field(name, value.rawValue)
    }

    /// Writes a string value with the escapes JSON requires: `"`, `\` and control characters.
    package mutating func string(_ value: String) {
        separate()
        put(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            guard let start = utf8.baseAddress else { return }
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                put(start + runStart, index - runStart)
                putEscape(byte)
                runStart = index + 1
            }
            put(start + runStart, utf8.count - runStart)
        }
        put(UInt8(ascii: "\""))
        needsComma = true
    }

    private mutating func putEscape(_ byte: UInt8) {
        put(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): put(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): put(UInt8(ascii: "\\"))
        case 0x0A: put(UInt8(ascii: "n"))
        case 0x0D: put(UInt8(ascii: "r"))
        case 0x09: put(UInt8(ascii: "t"))
        case 0x08 where escapes == .short: put(UInt8(ascii: "b"))
        case 0x0C where escapes == .short: put(UInt8(ascii: "f"))
        default:
            let hex: StaticString = "0123456789abcdef"
            put(UInt8(ascii: "u"))
            put(UInt8(ascii: "0"))
            put(UInt8(ascii: "0"))
            put(hex.utf8Start[Int(byte >> 4)])
            put(hex.utf8Start[Int(byte & 0xF)])
        }
    }
}

extension JSONWriter {
    /// One object, as compact UTF-8 JSON: `body` writes its members.
    package static func object(escapes: Escapes = .short, _ body: (inout JSONWriter) -> Void) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        write(into: &buffer, escapes: escapes) { writer in
            writer.beginObject()
            body(&writer)
            writer.endObject()
        }
        return buffer
    }
}

extension JSONWriter {
    /// Writes `"name":` for a key known only at run time (escaped as a string is).
    package mutating func key(_ name: String) {
        string(name)
        put(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes an integer value.
    package mutating func integer(_ value: Int64) {
        separate()
        reserve(DecimalText.maxIntegerLength)
        count += DecimalText.write(integer: value, to: base + count)
        needsComma = true
    }

    /// Writes a number in its shortest exact form; `null` when it is not finite (JSON has no
    /// NaN or infinity).
    package mutating func double(_ value: Double) {
        guard value.isFinite else { return null() }
        if value == value.rounded(), abs(value) < 1e15 {
            return integer(Int64(value))
        }
        separate()
        var text = value.description
        text.withUTF8 { utf8 in put(utf8.baseAddress!, utf8.count) }
        needsComma = true
    }

    /// Writes `true` or `false`.
    package mutating func bool(_ value: Bool) {
        separate()
        let text: StaticString = value ? "true" : "false"
        put(text.utf8Start, text.utf8CodeUnitCount)
        needsComma = true
    }

    /// Writes `null`.
    package mutating func null() {
        separate()
        let text: StaticString = "null"
        put(text.utf8Start, text.utf8CodeUnitCount)
        needsComma = true
    }

    /// Writes `"name": value` with a boolean.
    package mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        bool(value)
    }
}
