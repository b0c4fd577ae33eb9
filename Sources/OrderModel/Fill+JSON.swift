import WireJSON

extension Fill: JSONMessage {
    /// Decodes a fill from UTF-8 JSON, reporting every problem with its field. See ``validationErrors()`` for
    /// the rules. `price` is required for executions and may be left out of `rejected`/`canceled` fills.
    /// Unknown fields are ignored.
    public static func decode(json bytes: UnsafeRawBufferPointer) -> Result<Fill, ValidationErrors> {
        ObjectDecoder.decode(bytes) { object in
            let fillId = object.string("fillId", rule: FieldRules.identifier)
            let exchangeOrderId = object.string("exchangeOrderId", rule: FieldRules.identifier)
            let batchId = object.string("batchId", rule: FieldRules.identifier)
            let symbol = object.string("symbol", rule: FieldRules.symbol)
            let side = object.enumeration("side", Side.self)
            let quantity = object.integer("quantity", in: 0...MessageLimits.maxQuantity)
            let price = object.price("price", required: false)
            let cumulativeQuantity = object.integer("cumulativeQuantity", in: 0...MessageLimits.maxQuantity)
            let leavesQuantity = object.integer("leavesQuantity", in: 0...MessageLimits.maxQuantity)
            let status = object.enumeration("status", FillStatus.self)
            if price.isAbsent, status.value?.isExecution ?? true {
                object.fail("price", .missingField, "is required")
            }
            let reason = object.string("reason", required: false, rule: FieldRules.reason)
            if let status = status.value {
                object.errors += FillRules.status(status, quantity: quantity.value, price: price.value)
            }
            guard let fillId = fillId.value, let exchangeOrderId = exchangeOrderId.value, let batchId = batchId.value,
                let symbol = symbol.value, let side = side.value, let quantity = quantity.value, let status = status.value,
                let cumulativeQuantity = cumulativeQuantity.value, let leavesQuantity = leavesQuantity.value,
                !price.isInvalid, !reason.isInvalid
            else { return nil }
            return Fill(
                fillId: fillId, exchangeOrderId: exchangeOrderId, batchId: batchId, symbol: symbol, side: side,
                quantity: quantity, price: price.value ?? .zero, cumulativeQuantity: cumulativeQuantity,
                leavesQuantity: leavesQuantity, status: status, reason: reason.value)
        }
    }

    /// Appends the fill as compact JSON with the contract's field names (`reason` only when present).
    public func encodeJSON(into buffer: inout [UInt8]) {
        JSONWriter.write(into: &buffer) { writer in
            writer.beginObject()
            writer.field("fillId", fillId)
            writer.field("exchangeOrderId", exchangeOrderId)
            writer.field("batchId", batchId)
            writer.field("symbol", symbol)
            writer.field("side", side)
            writer.field("quantity", quantity)
            writer.field("price", price)
            writer.field("cumulativeQuantity", cumulativeQuantity)
            writer.field("leavesQuantity", leavesQuantity)
            writer.field("status", status)
            writer.field("reason", reason)
            writer.endObject()
        }
    }
}
