/// A partition's (or a group's) lag status, as Burrow names them, plus two Burrow lacks.
/// Ordered from best to worst: a group's status is its worst partition's.
public enum LagState: Int, Comparable, CaseIterable, Sendable, CustomStringConvertible {
    /// Caught up at least once in the window.
    case ok
    /// The consumer moves, but its lag grew at every sample of the window.
    case warn
    /// The lag is close to what the broker keeps: records may soon be deleted unread.
    case atRisk
    /// The committed offset went backwards.
    case rewind
    /// The committed offset stayed the same through the window while records wait.
    case stall
    /// No progress for longer than the window while records wait.
    case stop
    /// Records were deleted before they were read: the committed offset is below the
    /// partition's first offset.
    case loss
    /// The partition could not be read (no log-end offset).
    case error

    public static func < (lhs: LagState, rhs: LagState) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `OK`, `WARN`, `AT RISK`, `REWIND`, `STALL`, `STOP`, `LOSS`, `ERR`.
    public var description: String {
        switch self {
        case .ok: "OK"
        case .warn: "WARN"
        case .atRisk: "AT RISK"
        case .rewind: "REWIND"
        case .stall: "STALL"
        case .stop: "STOP"
        case .loss: "LOSS"
        case .error: "ERR"
        }
    }
}

/// One observation of a partition for one group.
public struct PartitionSample: Hashable, Sendable {
    /// Seconds, on any clock that only moves forward (the same for every sample).
    public var time: Double
    /// The group's committed offset, or `nil` when it has none.
    public var committed: Int64?
    /// The partition's next offset (high watermark), or `nil` when it could not be read.
    public var logEnd: Int64?
    /// The partition's first offset (low watermark).
    public var logStart: Int64

    public init(time: Double, committed: Int64?, logEnd: Int64?, logStart: Int64 = 0) {
        self.time = time
        self.committed = committed
        self.logEnd = logEnd
        self.logStart = logStart
    }

    /// Records waiting: from the committed offset (or the first offset, without a commit) to
    /// the end; `nil` when the end is unknown.
    public var lag: Int64? {
        guard let logEnd else { return nil }
        return max(0, logEnd - max(committed ?? logStart, logStart))
    }
}

/// A status and why.
public struct LagEvaluation: Hashable, Sendable {
    public var state: LagState
    public var reason: String

    public init(_ state: LagState, _ reason: String) {
        self.state = state
        self.reason = reason
    }
}
