import DriftCore

/// Drives `NotifyPolicy` for one machine over a fake clock the way the engine does: raw transitions from
/// `TransitionRules`, the timestamps a webhook body carries, and the committed track between decisions.
struct PolicyRun {
    static let t0: Int64 = 1_767_225_600  // unix s, 2026-01-01T00:00:00Z
    var machineID = "mch_1"
    var rules: NotifyRules
    var track: NotifyTrack
    var raw: DriftState
    var observed: Bool
    var latest: DriftReport?
    var mute: Mute?
    var sent: [NotifyMessage] = []
    var silencedDecisions = 0
    var lastDeadline: Int64?

    init(rules: NotifyRules, from state: DriftState = .inSync) {
        self.rules = rules
        track = NotifyTrack(state: state, unobserved: state == .unknown)
        raw = state
        observed = state != .unknown
    }

    /// A report created `at` (unix s), valid 15 minutes, differing in `attributes` when drifted.
    @discardableResult
    mutating func report(_ id: String, _ state: ReportState, at seconds: Int64, attributes: [String] = [], nowMs: Int64? = nil) -> [NotifyMessage] {
        let delta: [String: JSONValue]? = state == .drifted
            ? Dictionary(uniqueKeysWithValues: attributes.map { ($0, JSONValue.string("x")) }) : nil
        let report = DriftReport(id: id, machineID: machineID, state: state, etag: "\"\(id)\"", createdAt: seconds,
                                 startedAt: seconds, expiresAt: seconds + 900, delta: delta)
        let now = nowMs ?? seconds * 1000
        let transition = TransitionRules.afterReport(
            machineID: machineID, machineName: "web-1", current: raw, everObserved: observed, report: report, now: now)
        raw = report.state.driftState
        observed = true
        latest = report
        return decide(.report(report, transition: transition, eventAtMs: seconds * 1000), now: now)
    }

    /// The latest report expired (its `expires_at` is the event's timestamp).
    @discardableResult
    mutating func expire(nowMs: Int64) -> [NotifyMessage] {
        guard let transition = TransitionRules.afterExpiry(machineID: machineID, machineName: "web-1", current: raw, latest: latest, now: nowMs)
        else { return [] }
        raw = .unknown
        return decide(.unknown(transition, eventAtMs: (latest?.expiresAt ?? 0) * 1000), now: nowMs)
    }

    @discardableResult
    mutating func tick(_ nowMs: Int64) -> [NotifyMessage] { decide(.tick, now: nowMs) }

    mutating func decide(_ input: NotifyInput, now: Int64) -> [NotifyMessage] {
        let mute = self.mute.flatMap { $0.untilMs > now ? $0 : nil }
        let decision = NotifyPolicy.decide(track: track, input: input, rules: rules, mute: mute, now: now, machineName: "web-1")
        track = decision.track
        lastDeadline = decision.deadline
        if decision.silenced { silencedDecisions += 1 }
        sent += decision.messages
        return decision.messages
    }

    /// Minutes and hours after `t0`, in ms.
    static func minutes(_ m: Int64) -> Int64 { (t0 + m * 60) * 1000 }
    static func seconds(_ s: Int64) -> Int64 { t0 + s }
}
