import LagStatus
import Testing

@Suite struct LagRulesTests {
    let rules = LagRules(window: 60, minimumSamples: 3)

    /// Samples every 10 s: (committed, log end), first offset 0 unless given.
    func samples(_ points: [(Int64?, Int64?)], start: Double = 0, logStart: Int64 = 0) -> [PartitionSample] {
        points.enumerated().map { index, point in
            PartitionSample(time: start + Double(index) * 10, committed: point.0, logEnd: point.1, logStart: logStart)
        }
    }

    @Test func caughtUpInTheWindowIsOK() {
        let evaluation = rules.evaluate(samples([(100, 100), (100, 120), (130, 150)]))
        #expect(evaluation.state == .ok)
    }

    @Test func movingWithLagThatNeverGrowsIsOK() {
        #expect(rules.evaluate(samples([(100, 150), (150, 190), (190, 220), (220, 240)])).state == .ok)
    }

    @Test func lagGrowingAtEverySampleWhileMovingIsWARN() {
        let evaluation = rules.evaluate(samples([(100, 110), (105, 130), (110, 150), (115, 180)]))
        #expect(evaluation.state == .warn)
        #expect(evaluation.reason.contains("from 10 to 65"))
    }

    @Test func anOffsetFrozenThroughTheWindowIsSTALLThenSTOP() {
        // Frozen in every sample of the window (30 s so far): STALL.
        let stalled = rules.evaluate(samples([(100, 120), (100, 130), (100, 140), (100, 150)]))
        #expect(stalled.state == .stall)
        // Frozen for more than the window: STOP.
        let stopped = rules.evaluate(samples([(90, 100)] + Array(repeating: (100, 150), count: 8)))
        #expect(stopped.state == .stop)
        #expect(stopped.reason.contains("70 s"))
        // It moves again and catches up: OK.
        let resumed = rules.evaluate(samples([(90, 100)] + Array(repeating: (100, 150), count: 8) + [(150, 150)]))
        #expect(resumed.state == .ok)
    }

    @Test func anOffsetGoingBackIsREWIND() {
        let evaluation = rules.evaluate(samples([(100, 200), (150, 210), (40, 220)]))
        #expect(evaluation.state == .rewind)
        #expect(evaluation.reason.contains("150 to 40"))
    }

    @Test func recordsDeletedBeforeTheyWereReadAreLOSS() {
        let evaluation = rules.evaluate(samples([(100, 40_000), (100, 45_000)], logStart: 5_000))
        #expect(evaluation.state == .loss)
        #expect(evaluation.reason.contains("4900 records were deleted unread"))
    }

    @Test func lagNearWhatTheBrokerKeepsIsATRISK() {
        // The broker deletes (first offset 10,000) and keeps 30,000; 27,000 wait.
        let deleting = rules.evaluate(samples([(12_000, 38_000), (12_500, 39_000), (13_000, 40_000)], logStart: 10_000))
        #expect(deleting.state == .atRisk)
        // Not deleting yet, but the broker is known to keep 33,000 per partition.
        let known = LagRules(window: 60, minimumSamples: 3, retainedRecords: 33_000)
        #expect(known.evaluate(samples([(0, 27_000), (1_000, 28_000), (2_000, 30_000)])).state == .atRisk)
        #expect(known.evaluate(samples([(0, 2_000), (1_000, 3_000), (2_000, 3_500)])).state == .ok)
    }

    @Test func anUnreadablePartitionIsERR() {
        #expect(rules.evaluate(samples([(100, 100), (100, nil)])).state == .error)
    }

    @Test func aGroupIsItsWorstPartition() {
        let group = LagRules.worst([
            ("orders/0", LagEvaluation(.ok, "caught up")),
            ("orders/1", LagEvaluation(.stall, "frozen")),
            ("orders/2", LagEvaluation(.warn, "growing")),
        ])
        #expect(group.state == .stall)
        #expect(group.reason == "orders/1: frozen")
        #expect(LagState.allCases.sorted() == [.ok, .warn, .atRisk, .rewind, .stall, .stop, .loss, .error])
    }

    @Test func withoutACommitTheLagCountsFromTheFirstOffset() {
        let sample = PartitionSample(time: 0, committed: nil, logEnd: 500, logStart: 100)
        #expect(sample.lag == 400)
    }
}
