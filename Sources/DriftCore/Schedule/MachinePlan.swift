/// What the scheduler needs to know about one configured machine, plus what it remembers from the
/// state file so that a restart keeps the rhythm and does not repeat a finished check.
public struct MachinePlan: Sendable, Hashable {
    public var id: String
    public var intervalMs: Int64
    /// Start of the last scheduled slot whose check completed (unix ms), if any.
    public var lastSlotMs: Int64?
    /// The latest report's `created_at` and `expires_at` on the API's clock (unix ms), if any: the
    /// refresh key is derived from these alone, so a replica or a restart derives the same key.
    public var reportCreatedAtMs: Int64?
    public var reportExpiresAtMs: Int64?
    /// When the latest report expires on the local clock (receipt + lifetime, skew-bounded); defaults to
    /// `reportExpiresAtMs`.
    public var reportLocalExpiresAtMs: Int64?
    /// Local unix ms at which the latest report was received (the rhythm after a backward clock jump).
    public var lastCheckedMs: Int64?
    /// Whether the machine's effective state is currently known (in_sync or drifted).
    public var stateKnown: Bool

    public init(
        id: String, intervalMs: Int64, lastSlotMs: Int64? = nil,
        reportCreatedAtMs: Int64? = nil, reportExpiresAtMs: Int64? = nil, reportLocalExpiresAtMs: Int64? = nil,
        lastCheckedMs: Int64? = nil, stateKnown: Bool = false
    ) {
        self.id = id
        self.intervalMs = intervalMs
        self.lastSlotMs = lastSlotMs
        self.reportCreatedAtMs = reportCreatedAtMs
        self.reportExpiresAtMs = reportExpiresAtMs
        self.reportLocalExpiresAtMs = reportLocalExpiresAtMs
        self.lastCheckedMs = lastCheckedMs
        self.stateKnown = stateKnown
    }

    /// The local expiry instant, falling back to the API's.
    var localExpiresAtMs: Int64? { reportLocalExpiresAtMs ?? reportExpiresAtMs }
}

/// Scheduler-wide settings.
public struct SchedulerSettings: Sendable, Hashable {
    public var maxInFlight: Int
    public var refreshBeforeMs: Int64
    public var catchUpWindowMs: Int64
    public var backoff: Backoff
    /// The API request timeout: how long an expiry waits for a check in flight.
    public var requestTimeoutMs: Int64

    public init(
        maxInFlight: Int = 8, refreshBeforeMs: Int64 = 60_000, catchUpWindowMs: Int64 = 60_000,
        backoff: Backoff = Backoff(), requestTimeoutMs: Int64 = 30_000
    ) {
        self.maxInFlight = max(1, maxInFlight)
        self.refreshBeforeMs = refreshBeforeMs
        self.catchUpWindowMs = catchUpWindowMs
        self.backoff = backoff
        self.requestTimeoutMs = max(0, requestTimeoutMs)
    }

    /// How long a report that expired while nobody watched (downtime, suspend) stays "stale" before it is
    /// announced `unknown`: the catch-up check's chance, that is the catch-up window, the request timeout
    /// and one retry.
    public var expiryGraceMs: Int64 {
        catchUpWindowMs + 2 * requestTimeoutMs + backoff.baseMs
    }
}

/// How a check ended, as far as scheduling is concerned.
public enum CheckOutcome: Sendable, Hashable {
    /// A valid report arrived: its `created_at` and `expires_at` on the API's clock, and (when known)
    /// its expiry on the local clock.
    case report(createdAtMs: Int64, expiresAtMs: Int64, localExpiresAtMs: Int64? = nil)
    /// The API replayed a report that has expired since it was made (its create outlived a restart):
    /// refresh at once with a key derived from that report, so the next create is a new one.
    case replayedExpired(createdAtMs: Int64, expiresAtMs: Int64)
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
