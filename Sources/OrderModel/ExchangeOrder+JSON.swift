import WireJSON

extension ExchangeOrder: JSONMessage {
    /// Decodes an exchange order from UTF-8 JSON, reporting every problem with its field. See
    /// ``validationErrors()`` for the rules; unknown fields are ignored.
    public static func decode(json bytes: UnsafeRawBufferPointer) -> Result<ExchangeOrder, ValidationErrors> {
        ObjectDecoder.decode(bytes) { object in
            let exchangeOrderId = object.string("exchangeOrderId", rule: FieldRules.identifier)
            let batchId = object.string("batchId", rule: FieldRules.identifier)
            let symbol = object.string("symbol", rule: FieldRules.symbol)
            let side = object.enumeration("side", Side.self)
            let quantity = object.integer("quantity", in: 1...MessageLimits.maxQuantity)
            let orderType = object.enumeration("orderType", OrderType.self)
            let limitPrice = object.price("limitPrice", required: false)
            object.check(
                "limitPrice",
                FieldRules.limitPrice(orderType: orderType.value, price: limitPrice.value, priceWasInvalid: limitPrice.isInvalid))
            let slice = object.integer("slice", in: 0...Int64(ExchangeOrderRules.maxSlices - 1))
            let slices = object.integer("slices", in: 1...Int64(ExchangeOrderRules.maxSlices))
            if let slice = slice.value, let slices = slices.value,
                let problem = ExchangeOrderRules.slice(Int(slice), slices: Int(slices))
            {
                object.errors.append(problem)
            }
            guard let exchangeOrderId = exchangeOrderId.value, let batchId = batchId.value, let symbol = symbol.value,
                let side = side.value, let quantity = quantity.value, let orderType = orderType.value,
                let slice = slice.value, let slices = slices.value
            else { return nil }
            return ExchangeOrder(
                exchangeOrderId: exchangeOrderId, batchId: batchId, symbol: symbol, side: side, quantity: quantity,
                orderType: orderType, limitPrice: limitPrice.value, slice: Int(slice), slices: Int(slices))
        }
    }

    /// Appends the exchange order as compact JSON with the contract's field names.
    public func encodeJSON(into buffer: inout [UInt8]) {
        JSONWriter.write(into: &buffer) { writer in
            writer.beginObject()
            writer.field("exchangeOrderId", exchangeOrderId)
            writer.field("batchId", batchId)
            writer.field("symbol", symbol)
            writer.field("side", side)
            writer.field("quantity", quantity)
            writer.field("orderType", orderType)
            writer.field("limitPrice", limitPrice)
            writer.field("slice", slice)
            writer.field("slices", slices)
            writer.endObject()
        }
    }
}
