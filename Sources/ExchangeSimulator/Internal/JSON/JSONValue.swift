/// A JSON value as the protocol decoder needs it. Numbers keep their text, so they convert exactly.
enum JSONValue {
    case null
    case bool(Bool)
    /// The number's text, checked against JSON's number grammar.
    case number(ArraySlice<UInt8>)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The JSON type's name, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// The members of a JSON object, in order, with unique keys.
///
/// Protocol messages have a handful of members, so lookups scan the list: faster than hashing every key
/// into a dictionary. Uniqueness is checked by scanning too, and through a set once an object is large, so
/// a hostile message with thousands of keys stays linear.
struct JSONObject {
    private(set) var members: [(key: String, value: JSONValue)] = []
    private var largeKeys: Set<String>?
    private static let scanLimit = 16

    /// Adds a member; returns `false` (and adds nothing) when the key is already present.
    mutating func insert(_ key: String, _ value: JSONValue) -> Bool {
        if let inserted = largeKeys?.insert(key).inserted {
            guard inserted else { return false }
        } else {
            for member in members where member.key == key { return false }
            if members.count == Self.scanLimit { largeKeys = Set(members.map(\.key) + [key]) }
        }
        members.append((key, value))
        return true
    }

    /// The value of `key`, or `nil`.
    subscript(key: String) -> JSONValue? {
        for member in members where member.key == key { return member.value }
        return nil
    }
}
