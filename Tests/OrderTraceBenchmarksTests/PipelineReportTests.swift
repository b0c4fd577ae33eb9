import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Histogram
import Testing

@testable import OrderTraceBenchmarks

@Suite struct PipelineReportTests {
    @Test func resultLineHasTheIssuesFormat() {
        let line = PipelineResult.line(traced: 4_123.4, untraced: 5_000, p50Milliseconds: 3.456, p99Milliseconds: 12.5)
        #expect(line == "bench: traced=4123 untraced=5000 ratio=0.82 p50_ms=3.46 p99_ms=12.50")
    }

    @Test("the paced latency's stages add up to the whole, and only orders with all three marks have stages")
    func latencyStages() {
        let tracker = RoundTracker(orders: PipelineOrders(prefix: "t-", count: 3))
        // Order 0 goes through every mark, one after the other; order 1 ends without its batch
        // seen; order 2 never ends.
        tracker.markSent(0..<3)
        tracker.observe([(index: 0, status: .accepted), (index: 1, status: .accepted)])
        tracker.observeBatched([0], batches: 1)
        tracker.observe([(index: 0, status: .filled)])
        let one = tracker.latencies()
        #expect(one.raw.totalCount == 1 && one.adjusted.totalCount == 1)
        #expect(one.intake.totalCount == 1 && one.window.totalCount == 1 && one.afterBatch.totalCount == 1)
        // Stages are whole microseconds in a histogram of 3 significant digits: within that of
        // the whole, and the whole minus the window is the adjusted latency.
        let whole = one.raw.max
        let tolerance = whole / 500 + 3
        let stages = one.intake.max + one.window.max + one.afterBatch.max
        #expect(stages <= whole + tolerance && whole <= stages + tolerance, "stages \(stages) µs, whole \(whole) µs")
        let adjusted = one.adjusted.max + one.window.max
        #expect(adjusted <= whole + tolerance && whole <= adjusted + tolerance)

        tracker.observe([(index: 1, status: .filled)])
        let two = tracker.latencies()
        #expect(two.raw.totalCount == 2 && two.adjusted.totalCount == 2)
        #expect(two.afterBatch.totalCount == 1, "an order whose batch was not seen has no stages")

        #expect(tracker.counts.updates == 4, "every update counts, of every status")
        #expect(tracker.counts.batches == 1)

        var merged = RoundLatencies()
        merged.add(two)
        merged.add(one)
        #expect(merged.raw.totalCount == 3 && merged.window.totalCount == 2)
    }

    @Test func medianOfOddAndEvenCounts() {
        #expect(PipelineResult.median([3, 1, 2]) == 2)
        #expect(PipelineResult.median([4, 1, 3, 2]) == 2.5)
        #expect(PipelineResult.median([]) == 0)
    }

    @Test func ninesPlacePercentilesOnTheLogAxis() {
        #expect(LatencyPlot.nines(0) == 0)
        #expect(abs(LatencyPlot.nines(90) - 1) < 1e-9)
        #expect(abs(LatencyPlot.nines(99.9) - 3) < 1e-9)
    }

    @Test func pointsOfAHistogramRiseToItsMaximum() {
        var histogram = Histogram<UInt64>(highestTrackableValue: 1_000_000, numberOfSignificantValueDigits: .three)
        for microseconds in 1...1_000 { _ = histogram.record(UInt64(microseconds * 10)) }
        let points = LatencyPlot.points(histogram)
        #expect(points.first!.percentile < 1)
        #expect(zip(points, points.dropFirst()).allSatisfy { $0.milliseconds <= $1.milliseconds && $0.percentile <= $1.percentile })
        #expect(abs(points.last!.milliseconds - 10) < 0.01)
    }

    @Test func svgHasALinePerSeriesTheGoalAndEscapedNames() {
        let plot = LatencyPlot(
            title: "a < b", series: [.init(name: "one", points: [.init(percentile: 0, milliseconds: 1), .init(percentile: 99, milliseconds: 8)]), .init(name: "two & more", points: [])],
            goalMilliseconds: 10, goalLabel: "goal")
        let svg = plot.svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.contains("a &lt; b"))
        #expect(svg.contains("two &amp; more"))
        #expect(svg.contains("stroke-dasharray"))
        // 99% sits at 2 of 5 decades: x = 70 + 690 * 2 / 5 = 346.
        #expect(svg.contains("346.0,"))
        // Well-formed XML.
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }

    @Test func statLineGivesCPUSecondsAndParent() throws {
        // A command name with spaces and parentheses, as /proc/<pid>/stat may hold.
        let stat = "1234 (a (b) c) S 77 1234 1234 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 4 0 100 0 0"
        let parsed = try #require(ProcessCPU.parse(stat: stat))
        #expect(parsed.parent == 77)
        #expect(abs(parsed.seconds - 300.0 / Double(sysconf(Int32(_SC_CLK_TCK)))) < 1e-9)
    }

    @Test func statusGivesThreadSwitches() {
        let status = "Name:\tordertrace\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t1200\nnonvoluntary_ctxt_switches:\t34\n"
        #expect(ProcessSwitches.parse(status: status) == 1_234)
        #expect(ProcessSwitches.parse(status: "Name:\tx\n") == nil)
        // This process has threads, and they have switched.
        #expect((ProcessSwitches.count(getpid()) ?? 0) > 0)
    }

    @Test func ioGivesBytesWrittenToStorage() throws {
        let io = "rchar: 2012\nwchar: 401395729\nsyscr: 7\nsyscw: 110639\nread_bytes: 0\nwrite_bytes: 225165312\ncancelled_write_bytes: 360448\n"
        #expect(ProcessWrites.parse(io: io) == 225_165_312)
        #expect(ProcessWrites.parse(io: "rchar: 1\n") == nil)
        // This process's own file reads.
        #expect(ProcessWrites.bytes(getpid()) != nil)
    }

    @Test func ordersSplitEightyTwentyOverTheDoors() {
        let orders = PipelineOrders(prefix: "x-", count: 1_000)
        let webSocket = (0..<1_000).filter { orders.door($0) != .kafka }.count
        #expect(webSocket == 200)
        #expect(Set((0..<1_000).map(orders.symbol)).count == 8)
        #expect(orders.text(0).contains(#""userId":"k00""#))
        #expect(!orders.text(4).contains("userId"))
        #expect(orders.text(4).contains(#""orderType":"market""#))
    }
}

@Suite struct StepCountsTests {
    @Test("handler and send counts are read by service from up's merged metrics, and summed over a service's consumers")
    func parsesMergedMetrics() {
        let text = """
            # TYPE messaging_process_duration_seconds histogram
            messaging_process_duration_seconds_bucket{service="gateway",messaging_system="kafka",messaging_consumer_group_name="gateway-1",le="0.005"} 2
            messaging_process_duration_seconds_count{service="gateway",messaging_system="kafka",messaging_consumer_group_name="gateway-1"} 6
            messaging_process_duration_seconds_count{service="gateway",messaging_system="kafka",messaging_consumer_group_name="gateway-2"} 4
            messaging_process_duration_seconds_count{service="allocator",messaging_system="kafka",messaging_consumer_group_name="allocator"} 3
            messaging_client_operation_duration_seconds_count{service="allocator",messaging_system="kafka",messaging_operation_name="send"} 7.0
            messaging_client_operation_duration_seconds_sum{service="allocator",messaging_system="kafka",messaging_operation_name="send"} 0.25
            messaging_client_sent_messages_total{service="allocator",messaging_system="kafka",messaging_destination_name="order-updates"} 90
            """
        let counts = StepCounts.parse(text)
        #expect(counts.handled == ["gateway": 10, "allocator": 3])
        #expect(counts.sends == ["allocator": 7])
        let later = StepCounts(handled: ["gateway": 15, "allocator": 3, "algo": 2], sends: ["allocator": 9])
        #expect(later.minus(counts) == StepCounts(handled: ["gateway": 5, "allocator": 0, "algo": 2], sends: ["allocator": 2]))
    }
}
