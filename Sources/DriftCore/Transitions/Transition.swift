/// What caused a change of effective state.
public enum TransitionCause: String, Sendable, Hashable, Codable {
    /// A valid report arrived with a state different from the effective one.
    case report
    /// The latest report expired without a fresh one.
    case expired
    /// The API says the machine does not exist (404).
    case machineGone = "machine_gone"
}

/// A change of a machine's effective state: journaled, and sent to the webhooks that want it.
public struct Transition: Sendable, Hashable, Codable {
    public var eventID: String
    public var machineID: String
    public var machineName: String?
    public var previous: DriftState
    public var state: DriftState
    public var cause: TransitionCause
    /// The report that caused it (or, for an expiry or a 404, the report that was current), if any.
    public var report: DriftReport?
    /// Unix milliseconds.
    public var at: Int64
    /// True for the first state ever observed for the machine (journaled; sent only when drifted).
    public var firstObservation: Bool
    /// Unix ms of the change derived from recorded data, the same on every replica (e.g. the slot of a
    /// confirmed 404), for causes without a report instant; nil: the webhook body uses the report's
    /// `created_at` (cause `report`) or `expires_at` (cause `expired`). See `WebhookPayload.timestampMs`.
    public var occurredAtMs: Int64? = nil

    public init(
        machineID: String, machineName: String?, previous: DriftState, state: DriftState,
        cause: TransitionCause, report: DriftReport?, at: Int64, firstObservation: Bool
    ) {
        self.machineID = machineID
        self.machineName = machineName
        self.previous = previous
        self.state = state
        self.cause = cause
        self.report = report
        self.at = at
        self.firstObservation = firstObservation
        eventID = Transition.eventID(machineID: machineID, reportID: report?.id, previous: previous, state: state)
    }

    /// Deterministic: two replicas announcing the same change produce the same id.
    public static func eventID(machineID: String, reportID: String?, previous: DriftState, state: DriftState) -> String {
        "evt_" + StableHash.sha256Hex([machineID, reportID ?? "", previous.rawValue, state.rawValue], length: 32)
    }

    /// "web-1 (mch_x)" or "mch_x".
    public var machineLabel: String {
        if let machineName, !machineName.isEmpty, machineName != machineID { return "\(machineName) (\(machineID))" }
        return machineID
    }

    /// The one-line journal message, e.g. "machine web-1 (mch_x) drifted: 3 attributes differ (cpu, image, labels)".
    public var message: String {
        switch state {
        case .drifted:
            let attributes = report?.differingAttributes ?? []
            let count = attributes.count
            let detail = count == 0 ? "no attribute detail in the report"
                : "\(count) attribute\(count == 1 ? "" : "s") differ\(count == 1 ? "s" : "") (\(attributes.joined(separator: ", ")))"
            return "machine \(machineLabel) drifted: \(detail)"
        case .inSync:
            return firstObservation ? "machine \(machineLabel) is in sync"
                : "machine \(machineLabel) is back in sync (was \(previous.rawValue))"
        case .unknown:
            switch cause {
            case .expired: return "machine \(machineLabel) state unknown: its latest report expired without a fresh one (was \(previous.rawValue))"
            case .machineGone: return "machine \(machineLabel) state unknown: the API no longer knows this machine (was \(previous.rawValue))"
            case .report: return "machine \(machineLabel) state unknown (was \(previous.rawValue))"
            }
        }
    }

    /// Whether a webhook subscribed to `events` gets this transition: first observations only when drifted.
    public func isWanted(by events: Set<DriftState>) -> Bool {
        guard events.contains(state) else { return false }
        return !firstObservation || state == .drifted
    }
}

/// The effective-state rules, as pure functions of what is known and what just happened.
public enum TransitionRules {
    /// After a report arrives. A report already past `expires_at` is stale and changes nothing.
    public static func afterReport(
        machineID: String, machineName: String?, current: DriftState, everObserved: Bool,
        report: DriftReport, now: Int64
    ) -> Transition? {
        guard report.expiresAt * 1000 > now else { return nil }
        let new = report.state.driftState
        guard new != current else { return nil }
        return Transition(
            machineID: machineID, machineName: machineName, previous: current, state: new, cause: .report,
            report: report, at: now, firstObservation: !everObserved)
    }

    /// When the latest report (`latest`, for the payload) expired without a fresh one. Whether it has
    /// expired is the caller's judgement on the local clock (the report's own lifetime since receipt), so
    /// a skewed API clock neither hastens nor postpones it.
    public static func afterExpiry(
        machineID: String, machineName: String?, current: DriftState, latest: DriftReport?, now: Int64
    ) -> Transition? {
        guard current != .unknown else { return nil }
        return Transition(
            machineID: machineID, machineName: machineName, previous: current, state: .unknown, cause: .expired,
            report: latest, at: now, firstObservation: false)
    }

    /// When the API answers 404 for the machine.
    public static func afterMachineGone(
        machineID: String, machineName: String?, current: DriftState, latest: DriftReport?, now: Int64
    ) -> Transition? {
        guard current != .unknown else { return nil }
        return Transition(
            machineID: machineID, machineName: machineName, previous: current, state: .unknown, cause: .machineGone,
            report: latest, at: now, firstObservation: false)
    }
}
