import WireJSON

extension ExchangeMessage {
    /// The message types the exchange sends.
    static let typeNames = ["ack", "execution", "reject", "canceled", "cancel_reject", "error", "order_status"]

    /// The message as compact UTF-8 JSON, fields in a fixed order (`type` first), prices as JSON numbers with
    /// at most four decimals. The same message always gives the same bytes.
    public func encoded() -> [UInt8] {
        JSONWriter.object(escapes: .unicode) { writer in
            writer.field("type", typeName)
            switch self {
            case .ack(let ack):
                writer.field("orderId", ack.orderId)
                writer.field("symbol", ack.symbol)
                writer.field("side", ack.side)
                writer.field("quantity", ack.quantity)
                writer.orderType(ack.orderType)
            case .execution(let execution):
                writer.field("executionId", execution.executionId)
                writer.field("orderId", execution.orderId)
                writer.field("symbol", execution.symbol)
                writer.field("side", execution.side)
                writer.field("quantity", execution.quantity)
                writer.field("price", execution.price)
                writer.field("cumulativeQuantity", execution.cumulativeQuantity)
                writer.field("leavesQuantity", execution.leavesQuantity)
                writer.field("status", execution.status)
            case .reject(let reject):
                writer.field("orderId", reject.orderId)
                writer.field("code", reject.code.description)
                writer.field("reason", reject.reason)
            case .canceled(let canceled):
                writer.field("orderId", canceled.orderId)
                writer.field("symbol", canceled.symbol)
                writer.field("side", canceled.side)
                writer.field("quantity", canceled.quantity)
                writer.field("cumulativeQuantity", canceled.cumulativeQuantity)
                writer.field("canceledQuantity", canceled.canceledQuantity)
                writer.field("reason", canceled.reason)
            case .cancelReject(let cancelReject):
                writer.field("orderId", cancelReject.orderId)
                writer.field("reason", cancelReject.reason)
            case .error(let error):
                writer.field("code", error.code.description)
                writer.field("message", error.message)
                if let field = error.field { writer.field("field", field) }
                if let orderId = error.orderId { writer.field("orderId", orderId) }
            case .orderStatus(let status):
                writer.field("orderId", status.orderId)
                writer.field("symbol", status.symbol)
                writer.field("side", status.side)
                writer.field("quantity", status.quantity)
                writer.field("cumulativeQuantity", status.cumulativeQuantity)
                writer.field("leavesQuantity", status.leavesQuantity)
                writer.field("status", status.status)
                if let reason = status.reason { writer.field("reason", reason) }
                writer.key("executions")
                writer.beginArray()
                for execution in status.executions {
                    writer.beginObject()
                    writer.field("executionId", execution.executionId)
                    writer.field("quantity", execution.quantity)
                    writer.field("price", execution.price)
                    writer.endObject()
                }
                writer.endArray()
                if status.executionsOmitted > 0 { writer.field("executionsOmitted", status.executionsOmitted) }
            }
        }
    }

    /// Decodes one exchange message from UTF-8 JSON bytes (the client side of the protocol, and tests).
    ///
    /// Unknown fields are ignored; `null` counts as absent. Reject and error codes are taken as sent, so a
    /// newer exchange's codes still decode.
    ///
    /// - Throws: ``ExchangeProtocolError`` when the bytes are not one JSON object, the `type` is not an
    ///   exchange message, or a field is missing, of the wrong type or out of its domain. Never traps.
    public static func decode(_ bytes: some Collection<UInt8>) throws(ExchangeProtocolError) -> ExchangeMessage {
        try ExchangeFieldReader.read(bytes) { reader throws(ExchangeProtocolError) in
            switch reader.messageType {
            case "ack":
                return .ack(
                    ExchangeAck(
                        orderId: try reader.string("orderId"),
                        symbol: try reader.string("symbol"),
                        side: try reader.choice("side", as: ExchangeSide.self),
                        quantity: try reader.integer("quantity"),
                        orderType: try reader.orderType()
                    )
                )
            case "execution":
                return .execution(
                    ExchangeExecution(
                        executionId: try reader.string("executionId"),
                        orderId: try reader.string("orderId"),
                        symbol: try reader.string("symbol"),
                        side: try reader.choice("side", as: ExchangeSide.self),
                        quantity: try reader.integer("quantity"),
                        price: try reader.price("price"),
                        cumulativeQuantity: try reader.integer("cumulativeQuantity"),
                        leavesQuantity: try reader.integer("leavesQuantity"),
                        status: try reader.choice("status", as: ExchangeExecutionStatus.self)
                    )
                )
            case "reject":
                return .reject(
                    ExchangeReject(
                        orderId: try reader.string("orderId"),
                        code: ExchangeRejectCode(try reader.string("code")),
                        reason: try reader.string("reason")
                    )
                )
            case "canceled":
                return .canceled(
                    ExchangeCanceled(
                        orderId: try reader.string("orderId"),
                        symbol: try reader.string("symbol"),
                        side: try reader.choice("side", as: ExchangeSide.self),
                        quantity: try reader.integer("quantity"),
                        cumulativeQuantity: try reader.integer("cumulativeQuantity"),
                        canceledQuantity: try reader.integer("canceledQuantity"),
                        reason: try reader.choice("reason", as: ExchangeCancelReason.self)
                    )
                )
            case "cancel_reject":
                return .cancelReject(
                    ExchangeCancelReject(orderId: try reader.string("orderId"), reason: try reader.string("reason"))
                )
            case "error":
                return .error(
                    ExchangeProtocolError(
                        code: ExchangeProtocolError.Code(try reader.string("code")),
                        message: try reader.string("message"),
                        field: try reader.optionalString("field"),
                        orderId: try reader.optionalString("orderId")
                    )
                )
            case "order_status":
                return .orderStatus(
                    ExchangeOrderStatus(
                        orderId: try reader.string("orderId"),
                        symbol: try reader.string("symbol"),
                        side: try reader.choice("side", as: ExchangeSide.self),
                        quantity: try reader.integer("quantity"),
                        cumulativeQuantity: try reader.integer("cumulativeQuantity"),
                        leavesQuantity: try reader.integer("leavesQuantity"),
                        status: try reader.choice("status", as: ExchangeOrderState.self),
                        reason: try reader.optionalString("reason"),
                        executions: try reader.objects("executions") { element throws(ExchangeProtocolError) in
                            ExchangeOrderStatus.Execution(
                                executionId: try element.string("executionId"),
                                quantity: try element.integer("quantity"),
                                price: try element.price("price"))
                        },
                        executionsOmitted: try reader.optionalInteger("executionsOmitted") ?? 0
                    )
                )
            default:
                throw reader.unknownType(expected: typeNames)
            }
        }
    }

    /// Decodes one exchange message from a JSON string (see the byte form of `decode`).
    ///
    /// - Throws: ``ExchangeProtocolError``, as the byte form does.
    public static func decode(_ text: String) throws(ExchangeProtocolError) -> ExchangeMessage {
        try decode(Array(text.utf8))
    }
}
