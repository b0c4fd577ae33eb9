import WireJSON

extension ClientOrder {
    /// Whose order it is and which: what a client order that failed validation still says about
    /// itself, so that its owner can be told why it was refused.
    public struct Identity: Sendable, Hashable {
        public var clientOrderId: String
        public var userId: String
        public var symbol: String
        public var side: Side
        /// The quantity, when it is a valid one.
        public var quantity: Int64?

        public init(clientOrderId: String, userId: String, symbol: String, side: Side, quantity: Int64?) {
            self.clientOrderId = clientOrderId
            self.userId = userId
            self.symbol = symbol
            self.side = side
            self.quantity = quantity
        }
    }

    /// Reads the identifying fields (`clientOrderId`, `userId`, `symbol`, `side`) and the quantity
    /// of a client order with the same strict decoder and rules as ``decode(json:)``, whatever is
    /// wrong with its other fields.
    ///
    /// - Returns: `nil` when the bytes are not a JSON object, or an identifying field is missing
    ///   or invalid.
    public static func identity(json bytes: UnsafeRawBufferPointer) -> Identity? {
        var identity: Identity?
        _ = ObjectDecoder.decode(bytes) { object -> Identity? in
            let clientOrderId = object.string("clientOrderId", rule: FieldRules.identifier)
            let userId = object.string("userId", rule: FieldRules.identifier)
            let symbol = object.string("symbol", rule: FieldRules.symbol)
            let side = object.enumeration("side", Side.self)
            let quantity = object.integer("quantity", in: 1...MessageLimits.maxQuantity)
            guard let clientOrderId = clientOrderId.value, let userId = userId.value, let symbol = symbol.value, let side = side.value
            else { return nil }
            identity = Identity(clientOrderId: clientOrderId, userId: userId, symbol: symbol, side: side, quantity: quantity.value)
            return identity
        }
        return identity
    }

    /// ``identity(json:)`` over a Kafka record value.
    public static func identity(json bytes: [UInt8]) -> Identity? {
        bytes.withUnsafeBytes { identity(json: $0) }
    }
}
