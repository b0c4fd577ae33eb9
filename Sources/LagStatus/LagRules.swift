/// How a partition's samples become a status (README, "Consumer lag").
///
/// Over the samples of the last ``window`` seconds (at least ``minimumSamples`` of them), checked in
/// this order:
///
/// 1. **ERR**: the newest sample has no log-end offset.
/// 2. **LOSS**: the committed offset is below the partition's first offset: records were deleted
///    before the group read them.
/// 3. **REWIND**: the committed offset went down between two samples of the window.
/// 4. **OK**: the lag was 0 in a sample of the window (or there are too few samples to judge).
/// 5. **STOP**: records wait and the committed offset has not moved for longer than the window.
/// 6. **STALL**: records wait and the committed offset did not move in any sample of the window.
/// 7. **AT RISK**: the lag is at least ``atRiskFraction`` of what the broker keeps of the
///    partition: ``retainedRecords``, or, once the broker deletes (first offset > 0), what it
///    holds now (log end − first offset).
/// 8. **WARN**: the committed offset moves, but the lag grew from every sample to the next.
/// 9. Otherwise **OK**.
public struct LagRules: Hashable, Sendable {
    /// Seconds of samples judged together.
    public var window: Double
    /// Fewer samples than this in the window: OK (not enough to say more), unless ERR or LOSS.
    public var minimumSamples: Int
    /// How many records the broker keeps per partition, when known (`nil`: judged only once it
    /// deletes).
    public var retainedRecords: Int64?
    /// AT RISK from this fraction of what the broker keeps.
    public var atRiskFraction: Double

    public init(window: Double = 60, minimumSamples: Int = 3, retainedRecords: Int64? = nil, atRiskFraction: Double = 0.8) {
        self.window = window
        self.minimumSamples = minimumSamples
        self.retainedRecords = retainedRecords
        self.atRiskFraction = atRiskFraction
    }

    /// The status of a partition from its samples, oldest first (older ones than the window are
    /// used only to tell how long the offset has not moved).
    public func evaluate(_ samples: [PartitionSample]) -> LagEvaluation {
        guard let newest = samples.last else { return LagEvaluation(.ok, "no samples yet") }
        guard let logEnd = newest.logEnd, let lag = newest.lag else {
            return LagEvaluation(.error, "the partition's log-end offset cannot be read")
        }
        if let committed = newest.committed, committed < newest.logStart {
            return LagEvaluation(
                .loss, "committed offset \(committed) is below the first offset \(newest.logStart): \(newest.logStart - committed) records were deleted unread")
        }
        let inWindow = samples.filter { $0.time >= newest.time - window }
        for (earlier, later) in zip(inWindow, inWindow.dropFirst()) {
            if let before = earlier.committed, let after = later.committed, after < before {
                return LagEvaluation(.rewind, "committed offset went back from \(before) to \(after)")
            }
        }
        if inWindow.count < minimumSamples {
            return LagEvaluation(.ok, "\(inWindow.count) of \(minimumSamples) samples so far; lag \(lag)")
        }
        if inWindow.contains(where: { $0.lag == 0 }) {
            return LagEvaluation(.ok, lag == 0 ? "caught up" : "caught up within the window; lag \(lag)")
        }
        // How long the committed offset has stood where it is now.
        var unchangedSince = newest.time
        for sample in samples.reversed() {
            guard sample.committed == newest.committed else { break }
            unchangedSince = sample.time
        }
        let frozenFor = newest.time - unchangedSince
        let frozenThroughWindow = inWindow.allSatisfy { $0.committed == newest.committed }
        if frozenFor > window {
            return LagEvaluation(.stop, "no progress for \(Int(frozenFor)) s (window \(Int(window)) s) while \(lag) records wait")
        }
        if frozenThroughWindow {
            return LagEvaluation(.stall, "committed offset \(newest.committed.map(String.init) ?? "none") has not moved in \(inWindow.count) samples while \(lag) records wait")
        }
        let kept = newest.logStart > 0 ? logEnd - newest.logStart : retainedRecords
        if let kept, kept > 0, Double(lag) >= atRiskFraction * Double(kept) {
            return LagEvaluation(.atRisk, "lag \(lag) is \(Int(100 * Double(lag) / Double(kept)))% of the \(kept) records the broker keeps")
        }
        let lags = inWindow.compactMap(\.lag)
        if lags.count == inWindow.count, zip(lags, lags.dropFirst()).allSatisfy({ $0 < $1 }) {
            return LagEvaluation(.warn, "lag grew at every sample, from \(lags.first!) to \(lags.last!)")
        }
        return LagEvaluation(.ok, "moving; lag \(lag)")
    }

    /// A group's status: its worst partition's, with that partition's reason.
    public static func worst(_ evaluations: [(partition: String, evaluation: LagEvaluation)]) -> LagEvaluation {
        guard let worst = evaluations.max(by: { $0.evaluation.state < $1.evaluation.state }) else {
            return LagEvaluation(.ok, "no partitions")
        }
        return LagEvaluation(worst.evaluation.state, "\(worst.partition): \(worst.evaluation.reason)")
    }
}
