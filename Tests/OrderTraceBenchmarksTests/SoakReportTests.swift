import Foundation
import Testing

@testable import OrderTraceBenchmarks

@Suite struct SoakReportTests {
    @Test("the soak report gives each process's growth over the second half of the sending, per order")
    func growthPerOrder() {
        let samples = Samples()
        // 100 s of sending 1,000 orders: "steady" is full at once, "leaky" grows 1 MB every 10 s.
        for step in 0...12 {
            let seconds = Double(step * 10)
            samples.record(at: seconds, ["steady": 50 << 20, "leaky": (40 + min(step, 10)) << 20])
        }
        let report = samples.report(sendingEnded: 100, allEnded: 101, orders: 1_000)
        // From 50 s to 100 s: 500 orders, 5 MB.
        #expect(report.contains("+5 MB (10486 bytes per order)"), "\(report)")
        #expect(report.contains("+0 MB (0 bytes per order)"), "\(report)")
        #expect(report.hasSuffix("bench-soak: orders=1000 largest_growth=leaky bytes_per_order=10486"), "\(report)")
    }

    @Test("a process's resident memory is read from /proc")
    func residentOfThisProcess() throws {
        let bytes = try #require(ProcessMemory.resident(getpid()))
        #expect(bytes > 1 << 20)
    }
}
