/// The rules that relate a batch's members to each other and to its quantity.
enum BatchRules {
    static func members(_ members: [Batch.Member], quantity: Int64?) -> [ValidationError] {
        var problems: [ValidationError] = []
        if members.isEmpty {
            problems.append(ValidationError(field: "members", code: .empty, reason: "must list at least one member"))
        }
        if members.count > MessageLimits.maxBatchMembers {
            problems.append(
                ValidationError(
                    field: "members", code: .tooLong,
                    reason: "has \(members.count) members; at most \(MessageLimits.maxBatchMembers) are allowed"))
        }
        var seen = Set<OrderKey>()
        for (index, member) in members.enumerated() where !seen.insert(member.orderKey).inserted {
            problems.append(
                ValidationError(
                    field: "members[\(index)]", code: .inconsistent,
                    reason: "repeats the client order \(member.orderKey) of an earlier member"))
        }
        var sum: Int64 = 0
        var overflow = false
        for member in members {
            let (next, didOverflow) = sum.addingReportingOverflow(member.quantity)
            sum = next
            overflow = overflow || didOverflow
        }
        if let quantity, !members.isEmpty, overflow || sum != quantity {
            problems.append(
                ValidationError(
                    field: "quantity", code: .inconsistent,
                    reason: "is \(quantity) but the members' quantities sum to \(overflow ? "more than \(Int64.max)" : "\(sum)")"))
        }
        return problems
    }
}

/// The rules that relate a fill's status to its numbers.
enum FillRules {
    static func status(_ status: FillStatus, quantity: Int64?, price: Price?) -> [ValidationError] {
        var problems: [ValidationError] = []
        if status.isExecution {
            if let quantity, quantity == 0 {
                problems.append(
                    ValidationError(field: "quantity", code: .notPositive, reason: "must be greater than 0 for a \(status.rawValue) fill"))
            }
            if let price, price.ticks == 0 {
                problems.append(
                    ValidationError(field: "price", code: .notPositive, reason: "must be greater than 0 for a \(status.rawValue) fill"))
            }
        } else if let quantity, quantity != 0 {
            problems.append(
                ValidationError(
                    field: "quantity", code: .notAllowed,
                    reason: "must be 0 for a \(status.rawValue) fill (nothing executed), got \(quantity)"))
        }
        return problems
    }
}

/// The rules of an exchange order's slice numbers.
enum ExchangeOrderRules {
    static let maxSlices = 100_000

    static func slice(_ slice: Int, slices: Int) -> ValidationError? {
        guard slices >= 1 else { return nil }  // `slices` reports its own range problem
        guard slice < slices else {
            return ValidationError(field: "slice", code: .inconsistent, reason: "must be less than slices (\(slices)), got \(slice)")
        }
        return nil
    }
}
