/// Why some bytes are not JSON, and where (a byte offset into the message).
struct JSONSyntaxError: Error, Sendable {
    var offset: Int
    var message: String
}

/// A string in the input: the bytes between its quotes, still escaped when `hasEscapes`.
struct JSONStringToken: Sendable {
    var start: Int
    var end: Int
    var hasEscapes: Bool
}

/// A number in the input: its text and what its grammar used.
struct JSONNumberToken: Sendable {
    var start: Int
    var end: Int
    var isNegative: Bool
    var hasFraction: Bool
    var hasExponent: Bool
}

/// One JSON value, as ranges into the input. Nested objects and arrays are validated, not decoded: their range
/// (brackets included) is kept so a decoder can read them later with a scanner of their own.
enum JSONToken: Sendable {
    case string(JSONStringToken)
    case number(JSONNumberToken)
    case bool(Bool)
    case null
    case object(start: Int, end: Int)
    case array(start: Int, end: Int)

    /// The JSON type name, for "must be a string, got a number" reasons.
    var typeName: String {
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
struct JSONField: Sendable {
    var keyStart: Int
    var keyEnd: Int
    /// The key's first 8 bytes, zero-padded: most keys are told apart by length and head alone.
    var keyHead: UInt64
    var keyHasEscapes: Bool
    var value: JSONToken
}

/// The first `min(count, 8)` bytes at `pointer`, zero-padded, as one word.
@inline(__always)
func keyHead(_ pointer: UnsafeRawPointer, count: Int) -> UInt64 {
    if count >= 8 { return UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self)) }
    var head: UInt64 = 0
    for offset in 0..<min(count, 8) {
        head |= UInt64(pointer.load(fromByteOffset: offset, as: UInt8.self)) << (8 * offset)
    }
    return head
}

/// The fields of one object: the first ones in caller-provided (stack) storage, the rest on the heap.
struct JSONFieldList {
    private let storage: UnsafeMutablePointer<JSONField>
    private let storageCapacity: Int
    private var storageCount = 0
    private var overflow: [JSONField] = []

    init(storage: UnsafeMutableBufferPointer<JSONField>) {
        self.storage = storage.baseAddress!
        self.storageCapacity = storage.count
    }

    var count: Int { storageCount + overflow.count }

    @inline(__always)
    mutating func append(_ field: JSONField) {
        if storageCount < storageCapacity {
            (storage + storageCount).initialize(to: field)
            storageCount += 1
        } else {
            overflow.append(field)
        }
    }

    @inline(__always)
    subscript(index: Int) -> JSONField {
        index < storageCount ? storage[index] : overflow[index - storageCount]
    }

    /// Runs `body` with list storage for the fields of one object (they live only as long as the call).
    static func withList<Result>(_ body: (inout JSONFieldList) -> Result) -> Result {
        // At most 1 KiB, which Swift keeps on the stack.
        withUnsafeTemporaryAllocation(of: JSONField.self, capacity: 1024 / MemoryLayout<JSONField>.stride) { storage in
            var list = JSONFieldList(storage: storage)
            return body(&list)
        }
    }
}
