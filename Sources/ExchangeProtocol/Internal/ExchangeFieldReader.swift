import WireJSON

/// Reads the fields of one protocol message, turning every problem into an ``ExchangeProtocolError`` that
/// names the message type, the field and the order (when known).
struct ExchangeFieldReader {
    let bytes: UnsafeRawBufferPointer
    let fields: JSONFieldList
    /// The `type` of the message, for error messages.
    private(set) var messageType = "message"
    /// The message's `orderId` when it is a string, attached to every error.
    private(set) var orderId: String?

    /// Parses `bytes` as one JSON object of at most ``ExchangeProtocol/maxMessageBytes`` bytes, reads its `type`
    /// and gives the reader to `body`.
    static func read<Message>(
        _ bytes: some Collection<UInt8>,
        _ body: (ExchangeFieldReader) throws(ExchangeProtocolError) -> Message
    ) throws(ExchangeProtocolError) -> Message {
        guard bytes.count <= ExchangeProtocol.maxMessageBytes else {
            throw ExchangeProtocolError(
                code: .tooLarge,
                message: "the message has \(bytes.count) bytes; at most \(ExchangeProtocol.maxMessageBytes) are read"
            )
        }
        let outcome: Result<Message, ExchangeProtocolError> = Array(bytes).withUnsafeBytes { raw in
            JSONFieldList.withList { fields in
                var scanner = JSONScanner(raw, maxDepth: ExchangeProtocol.maxNestingDepth, rejectsDuplicateKeys: true)
                do throws(JSONSyntaxError) {
                    if try scanner.parseDocumentStart() != nil {
                        return .failure(
                            ExchangeProtocolError(code: .notObject, message: "a message must be a JSON object with a \"type\" field"))
                    }
                    try scanner.parseObjectFields(into: &fields)
                    try scanner.finishDocument()
                } catch {
                    let code: ExchangeProtocolError.Code = error.isTooDeep ? .tooLarge : .notJSON
                    return .failure(ExchangeProtocolError(code: code, message: error.isTooDeep ? error.message : "not JSON: \(error.message)"))
                }
                do throws(ExchangeProtocolError) {
                    var reader = ExchangeFieldReader(bytes: raw, fields: fields)
                    if case .string(let token)? = fields.first("orderId", in: raw) { reader.orderId = reader.text(token) }
                    reader.messageType = try reader.string("type")
                    return .success(try body(reader))
                } catch {
                    return .failure(error)
                }
            }
        }
        return try outcome.get()
    }

    private func text(_ token: JSONStringToken) -> String {
        JSONScanner(bytes).string(token)
    }

    private func text(_ start: Int, _ end: Int) -> String {
        ExchangeProtocol.excerpt(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
    }

    /// The value of `key`; `nil` when absent or `null`.
    private func value(_ key: StaticString) -> JSONToken? {
        switch fields.first(key, in: bytes) {
        case nil, .null?: nil
        case let value?: value
        }
    }

    /// A required string.
    func string(_ key: StaticString) throws(ExchangeProtocolError) -> String {
        guard let text = try optionalString(key) else { throw missing(key, "a string") }
        return text
    }

    /// An optional string: absent and `null` are both `nil`.
    func optionalString(_ key: StaticString) throws(ExchangeProtocolError) -> String? {
        switch value(key) {
        case nil: return nil
        case .string(let token)?: return text(token)
        case let other?: throw wrongType(key, "a string", other)
        }
    }

    /// A required order id: a non-empty string of at most ``ExchangeProtocol/maxOrderIdBytes`` bytes.
    func orderIdField(_ key: StaticString = "orderId") throws(ExchangeProtocolError) -> String {
        let text = try string(key)
        if text.isEmpty { throw invalid(key, "must not be empty") }
        if text.utf8.count > ExchangeProtocol.maxOrderIdBytes {
            throw invalid(key, "has \(text.utf8.count) bytes; at most \(ExchangeProtocol.maxOrderIdBytes) are allowed")
        }
        return text
    }

    /// A required whole number, of any sign, that fits in `Int64` (`300`, `300.0` and `3e2` are all 300).
    func integer(_ key: StaticString) throws(ExchangeProtocolError) -> Int64 {
        switch value(key) {
        case nil:
            throw missing(key, "a whole number")
        case .number(let number)?:
            let parsed = DecimalText.parse(
                bytes, start: number.start, end: number.end, decimals: 0, allowsSign: true, allowsExponent: true)
            switch parsed {
            case .success(let value):
                guard let value = Int64(exactly: value) else { throw invalid(key, "\(text(number.start, number.end)) is out of range") }
                return value
            case .failure(.tooManyDecimals):
                throw invalid(key, "must be a whole number, not \(text(number.start, number.end))")
            case .failure:
                throw invalid(key, "\(text(number.start, number.end)) is out of range")
            }
        case let other?:
            throw wrongType(key, "a number", other)
        }
    }

    /// An optional whole number: absent and `null` are both `nil`.
    func optionalInteger(_ key: StaticString) throws(ExchangeProtocolError) -> Int64? {
        value(key) == nil ? nil : try integer(key)
    }

    /// A required array of objects, each read by `body` with a reader of its own fields (problems name
    /// the array's field).
    func objects<Element>(
        _ key: StaticString, _ body: (ExchangeFieldReader) throws(ExchangeProtocolError) -> Element
    ) throws(ExchangeProtocolError) -> [Element] {
        guard let token = value(key) else { throw missing(key, "an array of objects") }
        guard case .array(let start, let end) = token else { throw wrongType(key, "an array of objects", token) }
        var scanner = JSONScanner(bytes, start: start + 1, end: end, maxDepth: ExchangeProtocol.maxNestingDepth)
        var elements: [Element] = []
        scanner.skipWhitespace()
        while !scanner.isAtEnd, bytes[scanner.index] != UInt8(ascii: "]") {
            // The array was validated when the message was scanned.
            let elementStart = scanner.index
            guard let element = try? scanner.parseValue(depth: 1) else { throw invalid(key, "is not a valid array") }
            guard case .object = element else { throw wrongType(key, "an array of objects", element) }
            let outcome: Result<Element, ExchangeProtocolError> = JSONFieldList.withList { fields in
                var inner = JSONScanner(bytes, start: elementStart, end: scanner.index, maxDepth: ExchangeProtocol.maxNestingDepth)
                do throws(JSONSyntaxError) {
                    try inner.parseObjectFields(into: &fields)
                } catch {
                    return .failure(invalid(key, "has an element that is not an object"))
                }
                var reader = ExchangeFieldReader(bytes: bytes, fields: fields)
                reader.messageType = messageType
                reader.orderId = orderId
                do throws(ExchangeProtocolError) {
                    return .success(try body(reader))
                } catch {
                    return .failure(error)
                }
            }
            elements.append(try outcome.get())
            scanner.skipWhitespace()
            if !scanner.isAtEnd, bytes[scanner.index] == UInt8(ascii: ",") { scanner.index += 1 }
            scanner.skipWhitespace()
        }
        return elements
    }

    /// An optional price: a JSON number or a decimal string that is a whole number of ticks of 0.0001.
    func optionalPrice(_ key: StaticString) throws(ExchangeProtocolError) -> ExchangePrice? {
        let parsed: Result<Int128, DecimalText.Failure>
        let shown: String
        switch value(key) {
        case nil:
            return nil
        case .number(let number)?:
            parsed = DecimalText.parse(
                bytes, start: number.start, end: number.end, decimals: DecimalText.tickDecimals, allowsSign: true,
                allowsExponent: true)
            shown = text(number.start, number.end)
        case .string(let string)?:
            let decoded = text(string)
            parsed = DecimalText.parse(decoded, decimals: DecimalText.tickDecimals, allowsSign: true)
            shown = ExchangeProtocol.excerpt(decoded)
        case let other?:
            throw wrongType(key, "a number or a decimal string", other)
        }
        switch parsed {
        case .success(let ticks):
            guard let ticks = Int64(exactly: ticks) else { throw invalid(key, "\(shown) is out of range") }
            return ExchangePrice(ticks: ticks)
        case .failure(.tooManyDecimals):
            throw invalid(key, "\(shown) has more than 4 decimals; prices are whole ticks of 0.0001")
        case .failure(.tooLarge):
            throw invalid(key, "\(shown) is out of range")
        case .failure:
            throw invalid(key, "\(shown) is not a decimal number such as \"189.25\"")
        }
    }

    /// A required price.
    func price(_ key: StaticString) throws(ExchangeProtocolError) -> ExchangePrice {
        guard let price = try optionalPrice(key) else { throw missing(key, "a price") }
        return price
    }

    /// A required string from a closed set, such as a side.
    func choice<Value: RawRepresentable & CaseIterable>(_ key: StaticString, as: Value.Type) throws(ExchangeProtocolError)
        -> Value where Value.RawValue == String
    {
        let text = try string(key)
        guard let value = Value(rawValue: text) else {
            let allowed = Value.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
            throw invalid(key, "must be \(allowed), not \"\(ExchangeProtocol.excerpt(text))\"")
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
            throw invalid("orderType", "must be \"limit\" or \"market\", not \"\(ExchangeProtocol.excerpt(name))\"")
        }
    }

    func missing(_ key: StaticString, _ expected: String) -> ExchangeProtocolError {
        ExchangeProtocolError(
            code: .missingField,
            message: "\(messageType): the field \"\(key)\" is missing; it must be \(expected)",
            field: "\(key)",
            orderId: orderId
        )
    }

    func wrongType(_ key: StaticString, _ expected: String, _ actual: JSONToken) -> ExchangeProtocolError {
        ExchangeProtocolError(
            code: .wrongType,
            message: "\(messageType): the field \"\(key)\" must be \(expected), not \(actual.typeName)",
            field: "\(key)",
            orderId: orderId
        )
    }

    func invalid(_ key: StaticString, _ problem: String) -> ExchangeProtocolError {
        ExchangeProtocolError(
            code: .invalidValue,
            message: "\(messageType): the field \"\(key)\" \(problem)",
            field: "\(key)",
            orderId: orderId
        )
    }

    func unknownType(expected: [String]) -> ExchangeProtocolError {
        let allowed = expected.map { "\"\($0)\"" }.joined(separator: ", ")
        return ExchangeProtocolError(
            code: .unknownType,
            message: "unknown message type \"\(ExchangeProtocol.excerpt(messageType))\"; expected one of \(allowed)",
            field: "type",
            orderId: orderId
        )
    }
}
