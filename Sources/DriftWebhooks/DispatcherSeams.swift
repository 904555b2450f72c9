import DriftStore

/// The outbox operations the dispatcher uses. `AppDatabase` is the production outbox; tests wrap it to
/// make writes fail (disk full, read-only state file) without touching the dispatcher.
public protocol WebhookOutbox: Sendable {
    /// Each machine's oldest pending delivery of `webhook` that is due at `now`, at most `limit`.
    func dueDeliveries(webhook: String, now: Int64, limit: Int) throws -> [DeliveryRecord]
    /// When the next deliverable event of `webhook` due later than `after` is due (unix ms), if any.
    func nextDeliveryTime(webhook: String, after: Int64) throws -> Int64?
    func markDelivered(seq: Int64, attempts: Int, at: Int64) throws
    func scheduleRetry(seq: Int64, attempts: Int, nextAttemptAt: Int64, error: String) throws
    func markFailed(seq: Int64, attempts: Int, at: Int64, error: String) throws
}

extension AppDatabase: WebhookOutbox {}

/// The dispatcher's time: the current instant and waiting for an instant, so tests can drive it with a
/// manual clock instead of sleeping.
public protocol DispatcherClock: Sendable {
    /// Unix milliseconds.
    func nowMs() -> Int64
    /// Returns once `deadlineMs` (unix ms; nil: none) has passed on this clock, or earlier when `signal`
    /// fires or the task is cancelled. Callers re-check their condition (an early return is harmless).
    func wait(untilMs deadlineMs: Int64?, signal: WakeSignal) async
}

/// The production clock: `now` for the instant, the monotonic task sleep of `WakeSignal` for waiting.
public struct SystemDispatcherClock: DispatcherClock {
    let now: @Sendable () -> Int64

    public init(now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    public func nowMs() -> Int64 { now() }

    /// Longest single sleep: a far deadline is reached in steps (callers re-check), so no sleep overflows.
    static let longestWaitMs: Int64 = 3_600_000

    public func wait(untilMs deadlineMs: Int64?, signal: WakeSignal) async {
        guard let deadline = deadlineMs else { return await signal.wait(timeoutMs: nil) }
        let (remaining, overflow) = deadline.subtractingReportingOverflow(now())
        let timeout = overflow ? (deadline > 0 ? Self.longestWaitMs : 0) : min(max(0, remaining), Self.longestWaitMs)
        await signal.wait(timeoutMs: timeout)
    }
}
