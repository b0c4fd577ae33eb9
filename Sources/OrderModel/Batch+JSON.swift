import WireJSON

extension Batch: JSONMessage {
    /// Decodes a batch from UTF-8 JSON, reporting every problem with its field (`members[2].quantity` for a
    /// member's). See ``validationErrors()`` for the rules beyond each field's own; unknown fields are ignored.
    public static func decode(json bytes: UnsafeRawBufferPointer) -> Result<Batch, ValidationErrors> {
        ObjectDecoder.decode(bytes) { object in
            let batchId = object.string("batchId", rule: FieldRules.identifier)
            let symbol = object.string("symbol", rule: FieldRules.symbol)
            let side = object.enumeration("side", Side.self)
            let quantity = object.integer("quantity", in: 1...Int64.max)
            let members = object.objects("members") { (member: inout ObjectDecoder) -> Member? in
                let clientOrderId = member.string("clientOrderId", rule: FieldRules.identifier)
                let userId = member.string("userId", rule: FieldRules.identifier)
                let quantity = member.integer("quantity", in: 1...MessageLimits.maxQuantity)
                let limitPrice = member.price("limitPrice", required: false)
                let traceparent = member.string("traceparent", rule: FieldRules.traceparent)
                let tracestate = member.string("tracestate", required: false, rule: FieldRules.tracestate)
                let baggage = member.string("baggage", required: false, rule: FieldRules.baggage)
                guard let clientOrderId = clientOrderId.value, let userId = userId.value, let quantity = quantity.value,
                    let traceparent = traceparent.value, !limitPrice.isInvalid, !tracestate.isInvalid, !baggage.isInvalid
                else { return nil }
                return Member(
                    clientOrderId: clientOrderId, userId: userId, quantity: quantity, limitPrice: limitPrice.value,
                    traceparent: traceparent, tracestate: tracestate.value, baggage: baggage.value)
            }
            let closeReason = object.enumeration("closeReason", CloseReason.self)
            let openedAt = object.string("openedAt", rule: FieldRules.timestamp)
            let closedAt = object.string("closedAt", rule: FieldRules.timestamp)
            if let list = members.value {
                object.errors += BatchRules.members(list, quantity: quantity.value)
            }
            guard let batchId = batchId.value, let symbol = symbol.value, let side = side.value,
                let quantity = quantity.value, let members = members.value, let closeReason = closeReason.value,
                let openedAt = openedAt.value, let closedAt = closedAt.value
            else { return nil }
            return Batch(
                batchId: batchId, symbol: symbol, side: side, quantity: quantity, members: members,
                closeReason: closeReason, openedAt: openedAt, closedAt: closedAt)
        }
    }

    /// Appends the batch as compact JSON with the contract's field names.
    public func encodeJSON(into buffer: inout [UInt8]) {
        JSONWriter.write(into: &buffer) { writer in
            writer.beginObject()
            writer.field("batchId", batchId)
            writer.field("symbol", symbol)
            writer.field("side", side)
            writer.field("quantity", quantity)
            writer.key("members")
            writer.beginArray()
            for member in members {
                writer.beginObject()
                writer.field("clientOrderId", member.clientOrderId)
                writer.field("userId", member.userId)
                writer.field("quantity", member.quantity)
                writer.field("limitPrice", member.limitPrice)
                writer.field("traceparent", member.traceparent)
                writer.field("tracestate", member.tracestate)
                writer.field("baggage", member.baggage)
                writer.endObject()
            }
            writer.endArray()
            writer.field("closeReason", closeReason)
            writer.field("openedAt", openedAt)
            writer.field("closedAt", closedAt)
            writer.endObject()
        }
    }
}
