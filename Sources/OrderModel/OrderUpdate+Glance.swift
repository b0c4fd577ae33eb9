import WireJSON

extension OrderUpdate {
    /// Whose an update is and what its status is, read from its JSON without decoding or
    /// validating the rest: what a reader that only routes or counts updates needs (a gateway's
    /// updates for users with no socket there, the benchmark's load generator, which read every
    /// update and for which a full decode was the largest cost).
    public struct Glance: Sendable, Equatable {
        public var userId: String
        public var clientOrderId: String
        public var status: OrderStatus

        public init(userId: String, clientOrderId: String, status: OrderStatus) {
            self.userId = userId
            self.clientOrderId = clientOrderId
            self.status = status
        }
    }

    /// The top-level `userId`, `clientOrderId` and `status` of an update's JSON, found by comparing
    /// key bytes (no key becomes a `String`, nothing is hashed), the first of repeated keys
    /// winning; reads the fields before a syntax error. `nil` when one is missing or not a
    /// string, or the status is not one of `OrderStatus`: the caller then decodes the update in
    /// full, which says what is wrong with it.
    ///
    /// An update as `encodeJSON()` writes it has the three among its first five fields: those are
    /// read first, and the rest only when one of the three is not there.
    public static func glance(json bytes: UnsafeRawBufferPointer) -> Glance? {
        if let glance = glance(json: bytes, fields: leadingFields) { return glance }
        return glance(json: bytes, fields: .max)
    }

    /// Where `encodeJSON()` writes `status`, the last of the three (`clientOrderId`, `userId`,
    /// `symbol`, `side`, `status`, ...).
    private static let leadingFields = 5

    private static func glance(json bytes: UnsafeRawBufferPointer, fields limit: Int) -> Glance? {
        JSONFieldList.withList { fields in
            var scanner = JSONScanner(bytes)
            scanner.skipWhitespace()
            try? scanner.parseObjectFields(into: &fields, limit: limit)
            func text(_ name: StaticString) -> String? {
                guard case .string(let token)? = fields.first(name, in: bytes) else { return nil }
                return scanner.string(token)
            }
            guard let status = text("status").flatMap(OrderStatus.init(rawValue:)), let userId = text("userId"),
                let clientOrderId = text("clientOrderId")
            else { return nil }
            return Glance(userId: userId, clientOrderId: clientOrderId, status: status)
        }
    }

    public static func glance(json bytes: [UInt8]) -> Glance? {
        bytes.withUnsafeBytes { glance(json: $0) }
    }
}
