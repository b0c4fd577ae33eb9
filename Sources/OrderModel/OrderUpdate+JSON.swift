import WireJSON

extension OrderUpdate: JSONMessage {
    /// Decodes an order update from UTF-8 JSON, reporting every problem with its field. `notional`, `batchId`,
    /// `fillId` and `reason` are optional. Unknown fields are ignored.
    public static func decode(json bytes: UnsafeRawBufferPointer) -> Result<OrderUpdate, ValidationErrors> {
        ObjectDecoder.decode(bytes) { object in
            let clientOrderId = object.string("clientOrderId", rule: FieldRules.identifier)
            let userId = object.string("userId", rule: FieldRules.identifier)
            let symbol = object.string("symbol", rule: FieldRules.symbol)
            let side = object.enumeration("side", Side.self)
            let status = object.enumeration("status", OrderStatus.self)
            let lastQuantity = object.integer("lastQuantity", in: 0...MessageLimits.maxQuantity)
            let lastPrice = object.price("lastPrice")
            let cumulativeQuantity = object.integer("cumulativeQuantity", in: 0...MessageLimits.maxQuantity)
            let leavesQuantity = object.integer("leavesQuantity", in: 0...MessageLimits.maxQuantity)
            let averagePrice = object.price("averagePrice")
            let notional = object.ticks("notional", required: false)
            let batchId = object.string("batchId", required: false, rule: FieldRules.identifier)
            let fillId = object.string("fillId", required: false, rule: FieldRules.identifier)
            let reason = object.string("reason", required: false, rule: FieldRules.reason)
            guard let clientOrderId = clientOrderId.value, let userId = userId.value, let symbol = symbol.value,
                let side = side.value, let status = status.value, let lastQuantity = lastQuantity.value,
                let lastPrice = lastPrice.value, let cumulativeQuantity = cumulativeQuantity.value,
                let leavesQuantity = leavesQuantity.value, let averagePrice = averagePrice.value,
                !notional.isInvalid, !batchId.isInvalid, !fillId.isInvalid, !reason.isInvalid
            else { return nil }
            return OrderUpdate(
                clientOrderId: clientOrderId, userId: userId, symbol: symbol, side: side, status: status,
                lastQuantity: lastQuantity, lastPrice: lastPrice, cumulativeQuantity: cumulativeQuantity,
                leavesQuantity: leavesQuantity, averagePrice: averagePrice, notional: notional.value,
                batchId: batchId.value, fillId: fillId.value, reason: reason.value)
        }
    }

    /// Appends the update as compact JSON with the contract's field names, plus `notional`; the optional
    /// `batchId`, `fillId` and `reason` only when present.
    public func encodeJSON(into buffer: inout [UInt8]) {
        JSONWriter.write(into: &buffer) { writer in
            writer.beginObject()
            writer.field("clientOrderId", clientOrderId)
            writer.field("userId", userId)
            writer.field("symbol", symbol)
            writer.field("side", side)
            writer.field("status", status)
            writer.field("lastQuantity", lastQuantity)
            writer.field("lastPrice", lastPrice)
            writer.field("cumulativeQuantity", cumulativeQuantity)
            writer.field("leavesQuantity", leavesQuantity)
            writer.field("averagePrice", averagePrice)
            if let notional { writer.field("notional", ticks: notional) }
            writer.field("batchId", batchId)
            writer.field("fillId", fillId)
            writer.field("reason", reason)
            writer.endObject()
        }
    }
}
