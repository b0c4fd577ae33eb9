/// Client orders of one (symbol, side) pooled into one batch (topic `batches`, keyed by `symbol`).
///
/// `quantity` is the sum of the members' quantities. Members are listed in arrival order, which is the order
/// that breaks ties in allocation. Each member is identified by (`userId`, `clientOrderId`), unique in the batch.
/// `openedAt` and `closedAt` are RFC 3339 times, kept as text (the model does not interpret them).
public struct Batch: Hashable, Sendable {
    /// One client order in a batch.
    public struct Member: Hashable, Sendable {
        /// The client's id for the order, unique per user.
        public var clientOrderId: String
        /// The owner of the order.
        public var userId: String
        /// The order's quantity, greater than 0.
        public var quantity: Int64
        /// The order's limit price, for limit orders.
        public var limitPrice: Price?
        /// The W3C `traceparent` of the span that represents this client order.
        public var traceparent: String
        /// The order's W3C `tracestate`, when it has one.
        public var tracestate: String?
        /// The order's W3C `baggage` (a header value), when it has one: every update of the
        /// order goes out with it, so entries the pipeline does not know survive the batch.
        public var baggage: String?

        /// Creates a member.
        public init(
            clientOrderId: String, userId: String, quantity: Int64, limitPrice: Price? = nil, traceparent: String,
            tracestate: String? = nil, baggage: String? = nil
        ) {
            self.clientOrderId = clientOrderId
            self.userId = userId
            self.quantity = quantity
            self.limitPrice = limitPrice
            self.traceparent = traceparent
            self.tracestate = tracestate
            self.baggage = baggage
        }

        /// The member's client order key: (`userId`, `clientOrderId`).
        public var orderKey: OrderKey { OrderKey(userId: userId, clientOrderId: clientOrderId) }
    }

    /// The batch's id.
    public var batchId: String
    /// The instrument (also the Kafka key).
    public var symbol: String
    /// Buy or sell: every member has this side.
    public var side: Side
    /// The sum of the members' quantities.
    public var quantity: Int64
    /// The members, in arrival order.
    public var members: [Member]
    /// Why the batch was closed.
    public var closeReason: CloseReason
    /// When the batch was opened (RFC 3339).
    public var openedAt: String
    /// When the batch was closed (RFC 3339).
    public var closedAt: String

    /// Creates a batch. `quantity` defaults to the sum of the members' quantities. It is not validated: see
    /// ``validationErrors()``.
    public init(
        batchId: String, symbol: String, side: Side, quantity: Int64? = nil, members: [Member],
        closeReason: CloseReason, openedAt: String, closedAt: String
    ) {
        self.batchId = batchId
        self.symbol = symbol
        self.side = side
        self.quantity = quantity ?? members.reduce(0) { $0 &+ $1.quantity }
        self.members = members
        self.closeReason = closeReason
        self.openedAt = openedAt
        self.closedAt = closedAt
    }

    /// Every rule this batch breaks (the ones decoding enforces); empty when it is valid.
    ///
    /// Beyond each field's own rules: at least one member and at most ``MessageLimits/maxBatchMembers``;
    /// no two members with the same (`userId`, `clientOrderId`); `quantity` equal to the members' sum.
    public func validationErrors() -> [ValidationError] {
        var problems: [ValidationError] = [
            FieldRules.identifier(batchId)?.named("batchId"),
            FieldRules.symbol(symbol)?.named("symbol"),
            quantity > 0 ? nil : ValidationError(field: "quantity", code: .notPositive, reason: "must be greater than 0, got \(quantity)"),
            FieldRules.timestamp(openedAt)?.named("openedAt"),
            FieldRules.timestamp(closedAt)?.named("closedAt"),
        ].compactMap { $0 }
        for (index, member) in members.enumerated() {
            func add(_ problem: FieldProblem?, _ field: String) {
                if let problem { problems.append(problem.named("members[\(index)].\(field)")) }
            }
            add(FieldRules.identifier(member.clientOrderId), "clientOrderId")
            add(FieldRules.identifier(member.userId), "userId")
            add(FieldRules.quantity(member.quantity), "quantity")
            add(FieldRules.traceparent(member.traceparent), "traceparent")
            if let tracestate = member.tracestate { add(FieldRules.tracestate(tracestate), "tracestate") }
            if let baggage = member.baggage { add(FieldRules.baggage(baggage), "baggage") }
        }
        problems += BatchRules.members(members, quantity: quantity)
        return problems
    }
}
