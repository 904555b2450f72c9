/// What the scheduler needs to know about one configured machine, plus what it remembers from the
/// state file so that a restart keeps the rhythm and does not repeat a finished check.
public struct MachinePlan: Sendable, Hashable {
    public var id: String
    public var intervalMs: Int64
    /// Start of the last scheduled slot whose check completed (unix ms), if any.
    public var lastSlotMs: Int64?
    /// The latest report's creation and expiry (unix ms), if any.
    public var reportCreatedAtMs: Int64?
    public var reportExpiresAtMs: Int64?
    /// Whether the machine's effective state is currently known (in_sync or drifted).
    public var stateKnown: Bool

    public init(
        id: String, intervalMs: Int64, lastSlotMs: Int64? = nil,
        reportCreatedAtMs: Int64? = nil, reportExpiresAtMs: Int64? = nil, stateKnown: Bool = false
    ) {
        self.id = id
        self.intervalMs = intervalMs
        self.lastSlotMs = lastSlotMs
        self.reportCreatedAtMs = reportCreatedAtMs
        self.reportExpiresAtMs = reportExpiresAtMs
        self.stateKnown = stateKnown
    }
}

/// Scheduler-wide settings.
public struct SchedulerSettings: Sendable, Hashable {
    public var maxInFlight: Int
    public var refreshBeforeMs: Int64
    public var catchUpWindowMs: Int64
    public var backoff: Backoff

    public init(maxInFlight: Int = 8, refreshBeforeMs: Int64 = 60_000, catchUpWindowMs: Int64 = 60_000, backoff: Backoff = Backoff()) {
        self.maxInFlight = max(1, maxInFlight)
        self.refreshBeforeMs = refreshBeforeMs
        self.catchUpWindowMs = catchUpWindowMs
        self.backoff = backoff
    }
}

/// How a check ended, as far as scheduling is concerned.
public enum CheckOutcome: Sendable, Hashable {
    /// A valid report arrived.
    case report(createdAtMs: Int64, expiresAtMs: Int64)
    /// Try the same occurrence again later (same key), no sooner than `retryAfterMs` when given.
    case retry(retryAfterMs: Int64?)
    /// Give this occurrence up and wait for the next slot (404, 409, 4xx...). `stateKnown` tells whether
    /// the machine's effective state is still known afterwards (a 404 turns it unknown).
    case skip(stateKnown: Bool)
}

/// What the scheduler asks its adapter to do.
public enum SchedulerAction: Sendable, Hashable {
    /// Create a drift report for `machineID` with the key of `occurrence`; `attempt` counts from 1.
    case check(machineID: String, occurrence: Occurrence, attempt: Int, dueAtMs: Int64)
    /// The latest report of `machineID` (which expired at `expiresAtMs`) was not replaced in time.
    case expire(machineID: String, expiresAtMs: Int64)
}
