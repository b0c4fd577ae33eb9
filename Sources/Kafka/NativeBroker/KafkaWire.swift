import NIOCore

/// A request or response that does not follow the Kafka protocol's encoding.
struct KafkaWireError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads the Kafka protocol's primitive types (big-endian integers, strings and byte fields with
/// length prefixes, arrays with a count, and the compact forms of flexible versions).
struct KafkaReader {
    var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) { self.buffer = buffer }

    mutating func int8() throws -> Int8 { try integer() }
    mutating func int16() throws -> Int16 { try integer() }
    mutating func int32() throws -> Int32 { try integer() }
    mutating func int64() throws -> Int64 { try integer() }

    private mutating func integer<T: FixedWidthInteger>() throws -> T {
        guard let value = buffer.readInteger(as: T.self) else { throw KafkaWireError("truncated: \(T.self) expected") }
        return value
    }

    /// A string with an int16 length (-1 for null).
    mutating func nullableString() throws -> String? {
        let length = Int(try int16())
        if length < 0 { return nil }
        guard let value = buffer.readString(length: length) else { throw KafkaWireError("truncated string of \(length) bytes") }
        return value
    }

    mutating func string() throws -> String {
        guard let value = try nullableString() else { throw KafkaWireError("null where a string is required") }
        return value
    }

    /// Bytes with an int32 length (-1 for null), as a slice of the request (no copy).
    mutating func nullableBytes() throws -> ByteBuffer? {
        let length = Int(try int32())
        if length < 0 { return nil }
        guard let value = buffer.readSlice(length: length) else { throw KafkaWireError("truncated bytes field of \(length) bytes") }
        return value
    }

    mutating func bytes() throws -> ByteBuffer { try nullableBytes() ?? ByteBuffer() }

    /// An array with an int32 count (-1 for null), each element read by `element`.
    mutating func nullableArray<T>(_ element: (inout KafkaReader) throws -> T) throws -> [T]? {
        let count = Int(try int32())
        if count < 0 { return nil }
        // Every element takes at least one byte: a count beyond what is left is malformed.
        guard count <= buffer.readableBytes else { throw KafkaWireError("an array of \(count) elements in \(buffer.readableBytes) bytes") }
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try element(&self)) }
        return values
    }

    mutating func array<T>(_ element: (inout KafkaReader) throws -> T) throws -> [T] {
        try nullableArray(element) ?? []
    }

    // MARK: Flexible versions (only ApiVersions v3 uses them here)

    mutating func unsignedVarint() throws -> UInt32 {
        var value: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            let byte = try UInt8(bitPattern: int8())
            value |= UInt32(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            guard shift < 35 else { throw KafkaWireError("varint longer than 5 bytes") }
        }
    }

    mutating func compactNullableString() throws -> String? {
        let length = Int(try unsignedVarint()) - 1
        if length < 0 { return nil }
        guard let value = buffer.readString(length: length) else { throw KafkaWireError("truncated compact string") }
        return value
    }

    /// Skips a tagged-fields section.
    mutating func skipTaggedFields() throws {
        let count = try unsignedVarint()
        for _ in 0..<count {
            _ = try unsignedVarint()
            let size = Int(try unsignedVarint())
            guard buffer.readSlice(length: size) != nil else { throw KafkaWireError("truncated tagged field") }
        }
    }
}

/// Writes the Kafka protocol's primitive types.
extension ByteBuffer {
    mutating func writeKafkaString(_ value: String?) {
        guard let value else {
            writeInteger(Int16(-1))
            return
        }
        writeInteger(Int16(value.utf8.count))
        writeString(value)
    }

    mutating func writeKafkaBytes(_ value: ByteBuffer?) {
        guard var value else {
            writeInteger(Int32(-1))
            return
        }
        writeInteger(Int32(value.readableBytes))
        writeBuffer(&value)
    }

    mutating func writeKafkaArray<C: Collection>(_ elements: C, _ write: (inout ByteBuffer, C.Element) -> Void) {
        writeInteger(Int32(elements.count))
        for element in elements { write(&self, element) }
    }

    mutating func writeUnsignedVarint(_ value: UInt32) {
        var value = value
        while value >= 0x80 {
            writeInteger(UInt8(value & 0x7f | 0x80))
            value >>= 7
        }
        writeInteger(UInt8(value))
    }
}

/// Kafka protocol error codes the embedded broker answers with.
enum KafkaErrorCode: Int16 {
    case none = 0
    case offsetOutOfRange = 1
    case corruptMessage = 2
    case unknownTopicOrPartition = 3
    case invalidFetchSize = 4
    case coordinatorNotAvailable = 15
    case notCoordinator = 16
    case invalidTopic = 17
    case illegalGeneration = 22
    case inconsistentGroupProtocol = 23
    case invalidGroupID = 24
    case unknownMemberID = 25
    case invalidSessionTimeout = 26
    case rebalanceInProgress = 27
    case unsupportedVersion = 35
    case invalidRequest = 42
    case unsupportedForMessageFormat = 43
    case outOfOrderSequenceNumber = 45
    case invalidProducerEpoch = 47
    case unknownProducerID = 59
    case topicAlreadyExists = 36
    case invalidPartitions = 37
    case invalidReplicationFactor = 38
    case groupIDNotFound = 69
}

/// The protocol requests the embedded broker serves, and the versions of each.
enum KafkaAPI: Int16, CaseIterable {
    case produce = 0
    case fetch = 1
    case listOffsets = 2
    case metadata = 3
    case offsetCommit = 8
    case offsetFetch = 9
    case findCoordinator = 10
    case joinGroup = 11
    case heartbeat = 12
    case leaveGroup = 13
    case syncGroup = 14
    case describeGroups = 15
    case listGroups = 16
    case apiVersions = 18
    case createTopics = 19
    case initProducerID = 22

    /// The versions served. Only non-flexible ones (plus ApiVersions v3, which every client tries
    /// first), so no request but ApiVersions needs compact fields or tagged fields; librdkafka picks
    /// the highest version both sides know.
    var versions: ClosedRange<Int16> {
        switch self {
        case .produce: 3...7
        case .fetch: 4...6
        case .listOffsets: 1...3
        case .metadata: 0...5
        case .offsetCommit: 2...7
        case .offsetFetch: 1...5
        case .findCoordinator: 0...2
        case .joinGroup: 0...3
        case .heartbeat: 0...2
        case .leaveGroup: 0...2
        case .syncGroup: 0...2
        case .describeGroups: 0...2
        case .listGroups: 0...2
        case .apiVersions: 0...3
        case .createTopics: 0...4
        case .initProducerID: 0...1
        }
    }
}
