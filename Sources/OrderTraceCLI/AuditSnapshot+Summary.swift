import CommandLineSupport
import Foundation
import OrderModel
import TopicAudit

extension AuditSnapshot {
    func printSummary(violations: [InvariantViolation]) {
        if let followedSince {
            let audited = self.audited
            let leftOut = clientOrders.count - audited.clientOrders.count
            say("audit: every record written since \(followedSince.formatted(.iso8601)), read as it was written (none was deleted unread)" + (leftOut > 0 ? "; \(leftOut) orders in a batch with an earlier order left out" : ""))
            audited.printCounts(violations: violations)
            return
        }
        if let horizon {
            let audited = self.audited
            let time = Date(timeIntervalSince1970: Double(horizon.milliseconds) / 1000)
            say("audit: the broker no longer holds the oldest records of some partitions (retention): auditing the \(audited.clientOrders.count) orders received after \(horizon.milliseconds == Int64.max ? "the end" : time.formatted(.iso8601)) whose whole life it holds; \(clientOrders.count - audited.clientOrders.count) earlier ones (or in a batch with one) left out")
            if audited.clientOrders.isEmpty && !clientOrders.isEmpty {
                say("audit: WARNING: the broker holds the whole life of none of its orders, so nothing was checked; on the embedded broker keep runs shorter (it keeps about 5 MB per partition), or use a real Kafka (the compose stack)")
            }
            audited.printCounts(violations: violations)
            return
        }
        printCounts(violations: violations)
    }

    private func printCounts(violations: [InvariantViolation]) {
        var terminal: [OrderStatus: Int] = [:]
        var last: [OrderKey: OrderStatus] = [:]
        for update in updates { last[update.orderKey] = update.status }
        for (_, status) in last { terminal[status, default: 0] += 1 }
        let open = clientOrders.filter { !(last[$0.orderKey]?.isTerminal ?? false) }.count
        say("audit: \(clientOrders.count) client orders, \(batches.count) batches, \(fills.count) fills, \(updates.count) order updates")
        say("  orders by last status: " + terminal.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))
        say("  not yet terminal: \(open); refused at intake: \(intakeRejections.count)")
        if !unreadable.isEmpty {
            say("  unreadable records (dead-lettered by the pipeline): " + unreadable.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if conflictingDuplicates > 0 { say("  client orders repeating a key with other content (ignored, as the order manager does): \(conflictingDuplicates)") }
        if violations.isEmpty {
            say("audit: OK, every invariant holds")
        } else {
            say("audit: \(violations.count) VIOLATIONS")
            for violation in violations.prefix(50) { say("  \(violation)") }
            if violations.count > 50 { say("  ... and \(violations.count - 50) more") }
        }
    }
}

