/// What the policy remembers for one webhook and one machine: what was announced, what is waiting for
/// confirmation, which reminders went out and whether a mute held something back. Persisted (JSON) in the
/// same transaction as the outbox rows it produced, so a restart resumes exactly where the last commit was.
public struct NotifyTrack: Sendable, Hashable, Codable {
    /// A state seen but not yet confirmed.
    public struct Pending: Sendable, Hashable, Codable {
        /// The announcement state waiting for confirmation.
        public var state: DriftState
        /// The transition that began it: sent as is (same event id) once confirmed.
        public var transition: Transition
        /// Unix ms the confirmation window counts from (the transition's event timestamp).
        public var sinceMs: Int64
        /// Reports in a row that agreed with `state`, the first one included.
        public var reports: Int

        public init(state: DriftState, transition: Transition, sinceMs: Int64, reports: Int) {
            self.state = state
            self.transition = transition
            self.sinceMs = sinceMs
            self.reports = reports
        }
    }

    /// The announcement state receivers were told (or would have been, but for a mute).
    public var announced: DriftState
    /// The transition of that announcement (nil for the state a track starts from).
    public var announcedTransition: Transition?
    /// Its event timestamp (unix ms, as `WebhookPayload.timestampMs`): reminders are due from here.
    public var announcedAtMs: Int64?
    /// The differing attributes (ignored ones removed, sorted) of the announced drift, for `drift_changed`.
    public var announcedAttributes: [String]
    /// The announcement state last actually sent; differs from `announced` only while a mute held it back.
    public var lastSent: DriftState
    public var pending: Pending?
    /// The number of the last reminder due for `announcedTransition` (sent, or skipped while muted).
    public var reminders: Int
    /// Until when the last decision found the machine muted, if it was.
    public var mutedUntilMs: Int64?
    /// The machine had never been observed when the track began, and nothing was announced since: the first
    /// announcement is a first observation (sent only when drifted), whatever flapped before it.
    public var unobserved: Bool

    /// A track starting from `state` (announced already: nothing is sent for it); `unobserved` for a
    /// machine never observed before.
    public init(state: DriftState, attributes: [String] = [], unobserved: Bool = false) {
        announced = state
        announcedTransition = nil
        announcedAtMs = nil
        announcedAttributes = attributes
        lastSent = state
        pending = nil
        reminders = 0
        mutedUntilMs = nil
        self.unobserved = unobserved
    }

    /// When the policy must look at this track again without a new report (unix ms), if ever: the end of
    /// a `for` window, the next reminder, or the end of a mute that held back a change.
    public func deadline(rules: NotifyRules) -> Int64? {
        var next: Int64?
        func consider(_ value: Int64?) { if let value { next = min(next ?? value, value) } }
        // The end of a `for` window, once the reports are there (else the next report decides).
        if let pending, rules.confirmForMs > 0, pending.state == .unknown || pending.reports >= rules.confirmReports {
            consider(pending.sinceMs.addingSaturating(rules.confirmForMs))
        }
        if let due = nextReminderDueMs(rules: rules) { consider(due) }
        if let until = mutedUntilMs, announced != lastSent { consider(until) }
        return next
    }

    /// When reminder `reminders + 1` is due, if reminders apply.
    func nextReminderDueMs(rules: NotifyRules) -> Int64? {
        guard let interval = rules.repeatIntervalMs, interval > 0, announced != .inSync,
              announcedTransition != nil, let at = announcedAtMs else { return nil }
        return at.addingSaturating(interval.multipliedSaturating(by: Int64(reminders + 1)))
    }
}
