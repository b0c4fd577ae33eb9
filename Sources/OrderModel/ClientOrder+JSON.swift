import WireJSON

extension ClientOrder: JSONMessage {
    /// Decodes a client order from UTF-8 JSON, reporting every problem with its field.
    ///
    /// Problems reported: not JSON; not an object; a missing, `null`, duplicated or wrongly typed field; a
    /// quantity that is not a whole number, not greater than 0 or above ``MessageLimits/maxQuantity``; an
    /// unknown `side` or `orderType`; a limit order without `limitPrice`; a market order with a `limitPrice`;
    /// a price with more than 4 decimals, negative, with an exponent, or zero for a limit order; an empty,
    /// over-long or ill-formed symbol; an empty or over-long id. Unknown fields are ignored. A `limitPrice` of
    /// `null` counts as absent.
    public static func decode(json bytes: UnsafeRawBufferPointer) -> Result<ClientOrder, ValidationErrors> {
        ObjectDecoder.decode(bytes) { object in
            let clientOrderId = object.string("clientOrderId", rule: FieldRules.identifier)
            let userId = object.string("userId", rule: FieldRules.identifier)
            let symbol = object.string("symbol", rule: FieldRules.symbol)
            let side = object.enumeration("side", Side.self)
            let quantity = object.integer("quantity", in: 1...MessageLimits.maxQuantity)
            let orderType = object.enumeration("orderType", OrderType.self)
            let limitPrice = object.price("limitPrice", required: false)
            object.check(
                "limitPrice",
                FieldRules.limitPrice(orderType: orderType.value, price: limitPrice.value, priceWasInvalid: limitPrice.isInvalid))
            guard let clientOrderId = clientOrderId.value, let userId = userId.value, let symbol = symbol.value,
                let side = side.value, let quantity = quantity.value, let orderType = orderType.value
            else { return nil }
            return ClientOrder(
                clientOrderId: clientOrderId, userId: userId, symbol: symbol, side: side, quantity: quantity,
                orderType: orderType, limitPrice: limitPrice.value)
        }
    }

    /// Appends the order as compact JSON with the contract's field names; `limitPrice` only when present.
    public func encodeJSON(into buffer: inout [UInt8]) {
        JSONWriter.write(into: &buffer) { writer in
            writer.beginObject()
            writer.field("clientOrderId", clientOrderId)
            writer.field("userId", userId)
            writer.field("symbol", symbol)
            writer.field("side", side)
            writer.field("quantity", quantity)
            writer.field("orderType", orderType)
            writer.field("limitPrice", limitPrice)
            writer.endObject()
        }
    }
}
