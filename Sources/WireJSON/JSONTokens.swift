/// Why some bytes are not JSON, and where (a byte offset into the message).
package struct JSONSyntaxError: Error, Sendable {
    package var offset: Int
    /// What is wrong and where, for people (`unexpected '}' at byte 7 where ...`).
    package var message: String
    /// Whether the input nests arrays and objects deeper than the scanner accepts (a limit, not a typo).
    package var isTooDeep = false
}

/// A string in the input: the bytes between its quotes, still escaped when `hasEscapes`.
package struct JSONStringToken: Sendable {
    package var start: Int
    package var end: Int
    package var hasEscapes: Bool

    package init(start: Int, end: Int, hasEscapes: Bool) {
        self.start = start
        self.end = end
        self.hasEscapes = hasEscapes
    }
}

/// A number in the input: its text and what its grammar used.
package struct JSONNumberToken: Sendable {
    package var start: Int
    package var end: Int
    package var isNegative: Bool
    package var hasFraction: Bool
    package var hasExponent: Bool
}

/// One JSON value, as ranges into the input. Nested objects and arrays are validated, not decoded: their range
/// (brackets included) is kept so a decoder can read them later with a scanner of their own.
package enum JSONToken: Sendable {
    case string(JSONStringToken)
    case number(JSONNumberToken)
    case bool(Bool)
    case null
    case object(start: Int, end: Int)
    case array(start: Int, end: Int)

    /// The JSON type name, for "must be a string, got a number" reasons.
    package var typeName: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .object: "an object"
        case .array: "an array"
        }
    }
}

/// A member of an object: where its key is (still escaped when `keyHasEscapes`) and its value.
package struct JSONField: Sendable {
    package var keyStart: Int
    package var keyEnd: Int
    /// The key's first 8 bytes, zero-padded: most keys are told apart by length and head alone.
    package var keyHead: UInt64
    package var keyHasEscapes: Bool
    package var value: JSONToken
}

/// The first `min(count, 8)` bytes at `pointer`, zero-padded, as one word.
@inlinable @inline(__always)
package func keyHead(_ pointer: UnsafeRawPointer, count: Int) -> UInt64 {
    if count >= 8 { return UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self)) }
    var head: UInt64 = 0
    for offset in 0..<min(count, 8) {
        head |= UInt64(pointer.load(fromByteOffset: offset, as: UInt8.self)) << (8 * offset)
    }
    return head
}

/// The fields of one object: the first ones in caller-provided (stack) storage, the rest on the heap.
package struct JSONFieldList {
    @usableFromInline let storage: UnsafeMutablePointer<JSONField>
    @usableFromInline let storageCapacity: Int
    @usableFromInline var storageCount = 0
    @usableFromInline var overflow: [JSONField] = []

    init(storage: UnsafeMutableBufferPointer<JSONField>) {
        self.storage = storage.baseAddress!
        self.storageCapacity = storage.count
    }

    @inlinable package var count: Int { storageCount + overflow.count }

    @inline(__always)
    package mutating func append(_ field: JSONField) {
        if storageCount < storageCapacity {
            (storage + storageCount).initialize(to: field)
            storageCount += 1
        } else {
            overflow.append(field)
        }
    }

    @inlinable @inline(__always)
    package subscript(index: Int) -> JSONField {
        index < storageCount ? storage[index] : overflow[index - storageCount]
    }

    /// Runs `body` with list storage for the fields of one object (they live only as long as the call).
    package static func withList<Result>(_ body: (inout JSONFieldList) -> Result) -> Result {
        // At most 1 KiB, which Swift keeps on the stack.
        withUnsafeTemporaryAllocation(of: JSONField.self, capacity: 1024 / MemoryLayout<JSONField>.stride) { storage in
            var list = JSONFieldList(storage: storage)
            return body(&list)
        }
    }
}

/// Whether `count` bytes at `lhs` and `rhs` are equal.
@inlinable @inline(__always)
package func memoryEqual(_ lhs: UnsafeRawPointer, _ rhs: UnsafeRawPointer, _ count: Int) -> Bool {
    var offset = 0
    while count - offset >= 8 {
        if lhs.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != rhs.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
            return false
        }
        offset += 8
    }
    while offset < count {
        if lhs.load(fromByteOffset: offset, as: UInt8.self) != rhs.load(fromByteOffset: offset, as: UInt8.self) { return false }
        offset += 1
    }
    return true
}

extension JSONField {
    /// Whether the key is `name`, whose ``keyHead(_:count:)`` is `head`; `bytes` is the scanned input.
    @inlinable @inline(__always)
    package func hasKey(_ name: StaticString, head: UInt64, in bytes: UnsafeRawBufferPointer) -> Bool {
        let count = name.utf8CodeUnitCount
        if keyHasEscapes { return escapedKeyIs(name, in: bytes) }
        guard keyHead == head, keyEnd - keyStart == count else { return false }
        return count <= 8 || memoryEqual(bytes.baseAddress! + keyStart + 8, name.utf8Start + 8, count - 8)
    }

    @usableFromInline
    func escapedKeyIs(_ name: StaticString, in bytes: UnsafeRawBufferPointer) -> Bool {
        let decoded = JSONScanner(bytes).unescape(JSONStringToken(start: keyStart, end: keyEnd, hasEscapes: true))
        return decoded.elementsEqual(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }
}

extension JSONFieldList {
    /// The value of the first field named `name`, or `nil`; `bytes` is the scanned input.
    package func first(_ name: StaticString, in bytes: UnsafeRawBufferPointer) -> JSONToken? {
        let head = keyHead(name.utf8Start, count: name.utf8CodeUnitCount)
        for index in 0..<count where self[index].hasKey(name, head: head, in: bytes) { return self[index].value }
        return nil
    }
}
