import DriftCore

/// What the engine tells its owner, fixed at `init` so the engine queue never reads a callback that a
/// reload is replacing (the owner routes `outbox` to whatever dispatcher is current).
public struct EngineCallbacks: Sendable {
    /// New deliveries are in the outbox (called off the engine queue's critical section).
    public var outbox: @Sendable () -> Void
    /// The fleet summary changed (sd_notify STATUS=): counts, next check in ms, failing machines.
    public var status: @Sendable (_ summary: FleetSummary, _ nextCheckInMs: Int64?) -> Void
    /// A check started: its occurrence's own instant (slot or refresh time) and when it started (unix ms).
    public var checkStarted: @Sendable (_ occurrenceMs: Int64, _ startedMs: Int64) -> Void
    /// A check finished with `result` after `durationMs` (called from the check's task, off the queue).
    public var checkFinished: @Sendable (_ result: CheckResult, _ durationMs: Int64) -> Void
    /// A transition was recorded in the state file (called on the engine queue: keep it cheap).
    public var transitioned: @Sendable (_ transition: Transition) -> Void

    public init(
        outbox: @escaping @Sendable () -> Void = {},
        status: @escaping @Sendable (_ summary: FleetSummary, _ nextCheckInMs: Int64?) -> Void = { _, _ in },
        checkStarted: @escaping @Sendable (_ occurrenceMs: Int64, _ startedMs: Int64) -> Void = { _, _ in },
        checkFinished: @escaping @Sendable (_ result: CheckResult, _ durationMs: Int64) -> Void = { _, _ in },
        transitioned: @escaping @Sendable (_ transition: Transition) -> Void = { _ in }
    ) {
        self.outbox = outbox
        self.status = status
        self.checkStarted = checkStarted
        self.checkFinished = checkFinished
        self.transitioned = transitioned
    }
}
