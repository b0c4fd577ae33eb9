/// Reads the fields of one decoded message object, turning every problem into an ``ExchangeProtocolError``
/// that names the message type, the field and the order (when known).
struct JSONFieldReader {
    let fields: JSONObject
    /// The `type` of the message, for error messages.
    var messageType: String
    /// The message's `orderId` when it is a string, attached to every error.
    let orderId: String?

    /// Parses `bytes` as one JSON object and reads its `type`.
    static func open(_ bytes: [UInt8]) throws(ExchangeProtocolError) -> JSONFieldReader {
        guard bytes.count <= ExchangeProtocol.maxMessageBytes else {
            throw ExchangeProtocolError(
                code: .tooLarge,
                message: "the message has \(bytes.count) bytes; at most \(ExchangeProtocol.maxMessageBytes) are read"
            )
        }
        guard case .object(let fields) = try JSONParser.parse(bytes) else {
            throw ExchangeProtocolError(code: .notObject, message: "a message must be a JSON object with a \"type\" field")
        }
        var orderId: String?
        if case .string(let text) = fields["orderId"] { orderId = text }
        var reader = JSONFieldReader(fields: fields, messageType: "message", orderId: orderId)
        reader.messageType = try reader.string("type")
        return reader
    }

    /// A required string.
    func string(_ key: String) throws(ExchangeProtocolError) -> String {
        guard let text = try optionalString(key) else { throw missing(key, "a string") }
        return text
    }

    /// An optional string: absent and `null` are both `nil`.
    func optionalString(_ key: String) throws(ExchangeProtocolError) -> String? {
        switch fields[key] {
        case nil, .null: return nil
        case .string(let text): return text
        case let other?: throw wrongType(key, "a string", other)
        }
    }

    /// A required order id: a non-empty string of at most ``ExchangeProtocol/maxOrderIdBytes`` bytes.
    func orderIdField(_ key: String = "orderId") throws(ExchangeProtocolError) -> String {
        let text = try string(key)
        if text.isEmpty { throw invalid(key, "must not be empty") }
        if text.utf8.count > ExchangeProtocol.maxOrderIdBytes {
            throw invalid(key, "has \(text.utf8.count) bytes; at most \(ExchangeProtocol.maxOrderIdBytes) are allowed")
        }
        return text
    }

    /// A required whole number, of any sign, that fits in `Int64` (`300`, `300.0` and `3e2` are all 300).
    func integer(_ key: String) throws(ExchangeProtocolError) -> Int64 {
        switch fields[key] {
        case nil, .null:
            throw missing(key, "a whole number")
        case .number(let text):
            switch DecimalText.parse(text, decimals: 0, allowExponent: true) {
            case .success(let value): return value
            case .failure(.notWhole): throw invalid(key, "must be a whole number, not \(Self.show(text))")
            case .failure: throw invalid(key, "\(Self.show(text)) is out of range")
            }
        case let other?:
            throw wrongType(key, "a number", other)
        }
    }

    /// An optional price: a JSON number or a decimal string that is a whole number of ticks of 0.0001.
    func optionalPrice(_ key: String) throws(ExchangeProtocolError) -> ExchangePrice? {
        let text: ArraySlice<UInt8>
        let allowExponent: Bool
        switch fields[key] {
        case nil, .null: return nil
        case .number(let number):
            text = number
            allowExponent = true
        case .string(let string):
            text = ArraySlice(string.utf8)
            allowExponent = false
        case let other?:
            throw wrongType(key, "a number or a decimal string", other)
        }
        switch DecimalText.parse(text, decimals: ExchangePrice.decimals, allowExponent: allowExponent) {
        case .success(let ticks):
            return ExchangePrice(ticks: ticks)
        case .failure(.notWhole):
            throw invalid(key, "\(Self.show(text)) has more than 4 decimals; prices are whole ticks of 0.0001")
        case .failure(.outOfRange):
            throw invalid(key, "\(Self.show(text)) is out of range")
        case .failure(.syntax):
            throw invalid(key, "\(Self.show(text)) is not a decimal number such as \"189.25\"")
        }
    }

    /// A required price.
    func price(_ key: String) throws(ExchangeProtocolError) -> ExchangePrice {
        guard let price = try optionalPrice(key) else { throw missing(key, "a price") }
        return price
    }

    /// A required string from a closed set, such as a side.
    func choice<Value: RawRepresentable & CaseIterable>(_ key: String, as: Value.Type) throws(ExchangeProtocolError)
        -> Value where Value.RawValue == String
    {
        let text = try string(key)
        guard let value = Value(rawValue: text) else {
            let allowed = Value.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            throw invalid(key, "must be \(allowed), not \"\(JSONParser.excerpt(text))\"")
        }
        return value
    }

    /// `orderType` with `limitPrice`: a limit order must have a price, a market order must not.
    func orderType() throws(ExchangeProtocolError) -> ExchangeOrderType {
        let name = try string("orderType")
        let limitPrice = try optionalPrice("limitPrice")
        switch name {
        case "limit":
            guard let limitPrice else { throw missing("limitPrice", "a price (a limit order needs one)") }
            return .limit(limitPrice)
        case "market":
            if limitPrice != nil { throw invalid("limitPrice", "must be absent or null for a market order") }
            return .market
        default:
            throw invalid("orderType", "must be \"limit\" or \"market\", not \"\(JSONParser.excerpt(name))\"")
        }
    }

    func missing(_ key: String, _ expected: String) -> ExchangeProtocolError {
        ExchangeProtocolError(
            code: .missingField,
            message: "\(messageType): the field \"\(key)\" is missing; it must be \(expected)",
            field: key,
            orderId: orderId
        )
    }

    func wrongType(_ key: String, _ expected: String, _ actual: JSONValue) -> ExchangeProtocolError {
        ExchangeProtocolError(
            code: .wrongType,
            message: "\(messageType): the field \"\(key)\" must be \(expected), not \(actual.typeName)",
            field: key,
            orderId: orderId
        )
    }

    func invalid(_ key: String, _ problem: String) -> ExchangeProtocolError {
        ExchangeProtocolError(
            code: .invalidValue,
            message: "\(messageType): the field \"\(key)\" \(problem)",
            field: key,
            orderId: orderId
        )
    }

    func unknownType(expected: [String]) -> ExchangeProtocolError {
        let allowed = expected.map { "\"\($0)\"" }.joined(separator: ", ")
        return ExchangeProtocolError(
            code: .unknownType,
            message: "unknown message type \"\(JSONParser.excerpt(messageType))\"; expected one of \(allowed)",
            field: "type",
            orderId: orderId
        )
    }

    private static func show(_ text: ArraySlice<UInt8>) -> String {
        JSONParser.excerpt(String(decoding: text, as: UTF8.self))
    }
}
