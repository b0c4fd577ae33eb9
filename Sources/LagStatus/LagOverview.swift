/// What a lag monitor last saw, as plain values: every group with its status, every partition
/// with its offsets, status and recent samples. The explorer's lag page shows it; the lag monitor
/// makes it (``LagOverviewSource``).
public struct LagOverview: Sendable, Hashable {
    /// Seconds between samples.
    public var interval: Double
    /// Seconds of samples the status rules judge together.
    public var window: Double
    /// How many recent samples each partition keeps (``Partition/history``).
    public var historyLimit: Int
    /// When the latest round was read, milliseconds since 1970; `nil` before the first one.
    public var sampledAtMilliseconds: Int64?
    /// Why the latest attempt to sample failed, `nil` when it succeeded (the groups are then
    /// those of the last round that did).
    public var failure: Failure?
    /// The groups of the latest round, in the order they were read.
    public var groups: [Group]

    public init(interval: Double, window: Double, historyLimit: Int, sampledAtMilliseconds: Int64?, failure: Failure?, groups: [Group]) {
        self.interval = interval
        self.window = window
        self.historyLimit = historyLimit
        self.sampledAtMilliseconds = sampledAtMilliseconds
        self.failure = failure
        self.groups = groups
    }

    /// A round that could not be read.
    public struct Failure: Sendable, Hashable {
        /// Milliseconds since 1970.
        public var atMilliseconds: Int64
        public var message: String

        public init(atMilliseconds: Int64, message: String) {
            self.atMilliseconds = atMilliseconds
            self.message = message
        }
    }

    /// One consumer group.
    public struct Group: Sendable, Hashable {
        public var name: String
        /// Its worst partition's status, with that partition's reason.
        public var evaluation: LagEvaluation
        /// The broker's state for the group (`Stable`, `Empty`, ...), when it could be described.
        public var brokerState: String?
        /// Why it could not be described, when it could not.
        public var describeError: String?
        /// How many members the broker described, `nil` when it could not describe the group.
        public var members: Int?
        /// How many times the monitor saw a partition of the group change owner between two rounds.
        public var rebalancesObserved: Int
        public var partitions: [Partition]

        public init(
            name: String, evaluation: LagEvaluation, brokerState: String?, describeError: String?, members: Int? = nil, rebalancesObserved: Int = 0,
            partitions: [Partition]
        ) {
            self.name = name
            self.evaluation = evaluation
            self.brokerState = brokerState
            self.describeError = describeError
            self.members = members
            self.rebalancesObserved = rebalancesObserved
            self.partitions = partitions
        }

        /// Records waiting over all its partitions.
        public var lag: Int64 { partitions.reduce(0) { $0 + $1.lag } }
        /// The oldest unconsumed record's age over its partitions, `nil` when none is known.
        public var lagSeconds: Double? { partitions.compactMap(\.lagSeconds).max() }
    }

    /// The member of a group that holds a partition.
    public struct Owner: Sendable, Hashable {
        /// The id the group coordinator gave the member.
        public var memberID: String
        /// The member's `client.id`.
        public var clientID: String
        /// The member's address as the broker sees it.
        public var host: String

        public init(memberID: String, clientID: String, host: String) {
            self.memberID = memberID
            self.clientID = clientID
            self.host = host
        }
    }

    /// One partition of one group.
    public struct Partition: Sendable, Hashable {
        public var topic: String
        public var partition: Int32
        /// The group's committed offset, `nil` when it never committed (lag then counts from
        /// ``logStart``).
        public var committed: Int64?
        /// The partition's first offset.
        public var logStart: Int64
        /// The partition's log-end offset.
        public var logEnd: Int64
        public var lag: Int64
        /// The oldest unconsumed record's age, 0 when caught up, `nil` when unknown.
        public var lagSeconds: Double?
        /// The member holding the partition, when the broker described the group and the
        /// partition is assigned.
        public var owner: Owner?
        public var evaluation: LagEvaluation
        /// The recent samples, oldest first, at most ``LagOverview/historyLimit``.
        public var history: [LagPoint]

        public init(
            topic: String, partition: Int32, committed: Int64?, logStart: Int64, logEnd: Int64, lag: Int64, lagSeconds: Double?,
            owner: Owner?, evaluation: LagEvaluation, history: [LagPoint]
        ) {
            self.topic = topic
            self.partition = partition
            self.committed = committed
            self.logStart = logStart
            self.logEnd = logEnd
            self.lag = lag
            self.lagSeconds = lagSeconds
            self.owner = owner
            self.evaluation = evaluation
            self.history = history
        }
    }
}

/// One sample of a partition's lag, for charts.
public struct LagPoint: Sendable, Hashable {
    /// Milliseconds since 1970.
    public var timeMilliseconds: Int64
    public var lag: Int64
    /// `nil` when the age of the oldest unconsumed record could not be read.
    public var lagSeconds: Double?

    public init(timeMilliseconds: Int64, lag: Int64, lagSeconds: Double?) {
        self.timeMilliseconds = timeMilliseconds
        self.lag = lag
        self.lagSeconds = lagSeconds
    }
}

/// Something that can say what it last saw of consumer lag (the lag monitor does).
public protocol LagOverviewSource: Sendable {
    /// The latest overview; cheap (a copy of what is kept, no request to the cluster).
    func lagOverview() -> LagOverview
}
