import WireJSON

extension ExchangeClientMessage {
    /// The message types a client may send.
    static let typeNames = ["new_order", "cancel"]

    /// Decodes one client message from the UTF-8 JSON bytes of one WebSocket text frame.
    ///
    /// Fields the protocol does not define are ignored; `null` counts as absent. Numbers convert exactly
    /// (never through `Double`), and a price may also be a decimal string. Business rules (known symbol,
    /// positive quantity, price band, unique id) are not checked here: the simulator answers those with a
    /// `reject`.
    ///
    /// - Throws: ``ExchangeProtocolError`` when the bytes are not one JSON object of at most
    ///   ``ExchangeProtocol/maxMessageBytes`` bytes, the `type` is not `new_order` or `cancel`, or a field is
    ///   missing, of the wrong type or out of its domain. The error's ``ExchangeProtocolError/orderId`` holds
    ///   the message's `orderId` when that was a string. Never traps, whatever the input.
    public static func decode(_ bytes: some Collection<UInt8>) throws(ExchangeProtocolError) -> ExchangeClientMessage {
        try ExchangeFieldReader.read(bytes) { reader throws(ExchangeProtocolError) in
            switch reader.messageType {
            case "new_order":
                let order = ExchangeNewOrder(
                    orderId: try reader.orderIdField(),
                    symbol: try reader.string("symbol"),
                    side: try reader.choice("side", as: ExchangeSide.self),
                    quantity: try reader.integer("quantity"),
                    orderType: try reader.orderType()
                )
                return .newOrder(order)
            case "cancel":
                return .cancel(orderId: try reader.orderIdField())
            default:
                throw reader.unknownType(expected: typeNames)
            }
        }
    }

    /// Decodes one client message from a JSON string (see the byte form of `decode`).
    ///
    /// - Throws: ``ExchangeProtocolError``, as the byte form does.
    public static func decode(_ text: String) throws(ExchangeProtocolError) -> ExchangeClientMessage {
        try decode(Array(text.utf8))
    }

    /// The message as compact UTF-8 JSON, fields in a fixed order (`type` first).
    public func encoded() -> [UInt8] {
        JSONWriter.object(escapes: .unicode) { writer in
            writer.field("type", typeName)
            switch self {
            case .newOrder(let order):
                writer.field("orderId", order.orderId)
                writer.field("symbol", order.symbol)
                writer.field("side", order.side)
                writer.field("quantity", order.quantity)
                writer.orderType(order.orderType)
            case .cancel(let orderId):
                writer.field("orderId", orderId)
            }
        }
    }
}
