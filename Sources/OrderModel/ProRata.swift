/// Pro-rata allocation of whole units, the rule of `pipeline.md`.
public enum ProRata {
    /// Splits `quantity` units over `weights` (the members' remaining quantities, in arrival order).
    ///
    /// Each share is `quantity × weight / Σ weights` rounded down; the units left over (fewer than the number of
    /// members) go one each to the largest remainders, ties to the earliest member. So the shares sum to
    /// `quantity` exactly, no share exceeds its weight, a zero weight gets nothing, and the same inputs always
    /// give the same shares.
    ///
    /// - Returns: one share per weight, or `nil` when a weight or `quantity` is negative, `quantity` exceeds
    ///   the sum of the weights, or that sum does not fit in `Int64`.
    public static func allocate(_ quantity: Int64, over weights: [Int64]) -> [Int64]? {
        guard quantity >= 0 else { return nil }
        var total: Int64 = 0
        for weight in weights {
            guard weight >= 0 else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(weight)
            guard !overflow else { return nil }
            total = sum
        }
        guard quantity <= total else { return nil }
        var shares = [Int64](repeating: 0, count: weights.count)
        guard quantity > 0 else { return shares }
        if quantity == total { return weights }
        shares.withUnsafeMutableBufferPointer { shares in
            weights.withUnsafeBufferPointer { weights in
                // Stack buffers up to 64 members (1 KiB); the heap past that.
                withUnsafeTemporaryAllocation(of: Int64.self, capacity: weights.count) { remainders in
                    withUnsafeTemporaryAllocation(of: Int.self, capacity: weights.count) { order in
                        split(quantity, over: weights, total: total, shares: shares, remainders: remainders, order: order)
                    }
                }
            }
        }
        return shares
    }

    /// Floors and remainders of `quantity × weight / total`, then the leftover units by largest remainder.
    private static func split(
        _ quantity: Int64, over weights: UnsafeBufferPointer<Int64>, total: Int64,
        shares: UnsafeMutableBufferPointer<Int64>, remainders: UnsafeMutableBufferPointer<Int64>,
        order: UnsafeMutableBufferPointer<Int>
    ) {
        var allocated: Int64 = 0
        for index in weights.indices {
            let (product, overflow) = quantity.multipliedReportingOverflow(by: weights[index])
            if !overflow {
                (shares[index], remainders[index]) = divide(product, by: total)
            } else {
                let wide = Int128(quantity) * Int128(weights[index])
                shares[index] = Int64(wide / Int128(total))
                remainders[index] = Int64(wide % Int128(total))
            }
            allocated += shares[index]
        }
        // Fewer units are left than members with a non-zero remainder (the remainders sum to `leftover × total`
        // and each is below `total`), so each gets at most one and no share passes its weight.
        let leftover = Int(quantity - allocated)
        guard leftover > 0 else { return }
        if weights.count <= 64 {
            // The members with a remainder, by remainder (largest first), then arrival: an insertion sort,
            // which is stable, so equal remainders keep arrival order.
            var count = 0
            for index in weights.indices where remainders[index] > 0 {
                let remainder = remainders[index]
                var position = count
                while position > 0 && remainders[order[position - 1]] < remainder {
                    order[position] = order[position - 1]
                    position -= 1
                }
                order[position] = index
                count += 1
            }
            for rank in 0..<leftover { shares[order[rank]] += 1 }
            return
        }
        // Many members: sort those with a remainder.
        var count = 0
        for index in weights.indices where remainders[index] > 0 {
            order[count] = index
            count += 1
        }
        var ranked = UnsafeMutableBufferPointer(rebasing: order[..<count])
        ranked.sort { remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1 }
        for index in ranked.prefix(leftover) { shares[index] += 1 }
    }

    /// `(dividend / divisor, dividend % divisor)` for non-negative operands, through a floating-point estimate
    /// when both are below 2^53 (much cheaper than an integer division), corrected to the exact result.
    @inline(__always)
    private static func divide(_ dividend: Int64, by divisor: Int64) -> (Int64, Int64) {
        let limit: Int64 = 1 << 53
        guard dividend < limit, divisor < limit else { return dividend.quotientAndRemainder(dividingBy: divisor) }
        var quotient = Int64(Double(dividend) / Double(divisor))
        var remainder = dividend - quotient * divisor
        while remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        while remainder >= divisor {
            quotient += 1
            remainder -= divisor
        }
        return (quotient, remainder)
    }
}
