/// One thing the policy reacts to.
public enum NotifyInput: Sendable, Hashable {
    /// A valid report was recorded; `transition` is the machine's raw change of state it caused, if any.
    /// `eventAtMs`: the timestamp of that change as its webhook body carries it (`WebhookPayload.timestampMs`),
    /// or of the report (`created_at`) when there is no change.
    case report(DriftReport, transition: Transition?, eventAtMs: Int64)
    /// The latest report expired, or the API no longer knows the machine: a transition to `unknown`.
    case unknown(Transition, eventAtMs: Int64)
    /// A deadline the policy asked for came (or the mutes changed).
    case tick
}

/// A message the policy decided to send to the webhook.
public struct NotifyMessage: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// `machine.drift.transition`: `transition`'s own body and event id.
        case transition
        /// `machine.drift.reminder` number `n` of `transition`.
        case reminder(Int)
        /// `machine.drift.changed`: `report` differs in other attributes than `previousAttributes`.
        case changed(previousAttributes: [String], report: DriftReport)
    }

    public var kind: Kind
    public var eventID: String
    /// The transition announced (for `.changed`: the announced drift's transition, if known).
    public var transition: Transition?
    /// The message's timestamp (unix ms): the transition's, a reminder's due instant, a report's creation.
    public var atMs: Int64
}

/// The outcome of one decision.
public struct NotifyDecision: Sendable, Hashable {
    public var track: NotifyTrack
    public var messages: [NotifyMessage]
    /// When to tick this track next (equals `track.deadline(rules:)`).
    public var deadline: Int64?
    /// Whether a mute kept something from being sent in this decision.
    public var silenced: Bool
}

/// The notification policy for one webhook and one machine, as a pure reducer: a function of the track,
/// the input, the rules, the mute in force and `now` only, so replicas and restarts decide alike.
///
/// - Confirmation: a new announcement state is announced once `confirmReports` reports in a row agree
///   and `confirmForMs` has passed since its transition. `unknown` has no reports: only `for` applies.
///   Coming back to the announced state cancels a pending one (flapping announces nothing).
/// - Ignore: a drift whose differing attributes are all ignored counts as `in_sync`.
/// - Reminders while the announced state is `drifted`/`unknown`, numbered from 1; the latest due one only.
/// - Mutes: nothing is sent while muted; afterwards the announced state is sent if it differs from the last sent.
public enum NotifyPolicy {
    public static func decide(
        track: NotifyTrack, input: NotifyInput, rules: NotifyRules, mute: Mute?, now: Int64, machineName: String? = nil
    ) -> NotifyDecision {
        var track = track
        var messages: [NotifyMessage] = []
        var silenced = false
        func send(_ message: NotifyMessage) {
            if mute == nil { messages.append(message) } else { silenced = true }
        }

        switch input {
        case .report(let report, let raw, let eventAtMs):
            let attributes = announcedAttributes(of: report, rules: rules)
            let state = announceState(of: report, rules: rules)
            if state == track.announced {
                track.pending = nil
                if state == .drifted, attributes != track.announcedAttributes {
                    let previous = track.announcedAttributes
                    track.announcedAttributes = attributes
                    if rules.driftChanged {
                        send(NotifyMessage(
                            kind: .changed(previousAttributes: previous, report: report),
                            eventID: NotifyEventID.changed(machineID: report.machineID, reportID: report.id),
                            transition: track.announcedTransition, atMs: report.createdAt.multipliedSaturating(by: 1000)))
                    }
                }
            } else if var pending = track.pending, pending.state == state {
                pending.reports += 1
                track.pending = pending
            } else {
                let transition = beginning(
                    raw: raw, state: state, previous: track.pending?.state ?? track.announced, report: report,
                    machineName: machineName, now: now)
                track.pending = .init(state: state, transition: transition, sinceMs: eventAtMs, reports: 1)
            }
        case .unknown(let transition, let eventAtMs):
            if track.announced == .unknown {
                track.pending = nil
            } else if track.pending?.state != .unknown {
                track.pending = .init(state: .unknown, transition: transition, sinceMs: eventAtMs, reports: 1)
            }
        case .tick:
            break
        }

        // Confirmation.
        if let pending = track.pending,
           pending.state == .unknown || pending.reports >= rules.confirmReports,
           now >= pending.sinceMs.addingSaturating(rules.confirmForMs) {
            var pending = pending
            if track.unobserved {
                // Receivers have heard nothing of this machine yet: this is its first observation.
                pending.transition.firstObservation = true
                track.unobserved = false
            }
            track.pending = nil
            track.announced = pending.state
            track.announcedTransition = pending.transition
            track.announcedAtMs = pending.sinceMs
            track.announcedAttributes = pending.state == .drifted
                ? pending.transition.report.map { announcedAttributes(of: $0, rules: rules) } ?? [] : []
            track.reminders = 0
            if mute == nil {
                track.lastSent = pending.state
                messages.append(message(for: pending.transition, atMs: pending.sinceMs))
            } else {
                silenced = true
            }
        }

        // A mute ended (or never held this back): the announced state goes out if it is not the last sent.
        if mute == nil, track.announced != track.lastSent, let transition = track.announcedTransition {
            track.lastSent = track.announced
            messages.append(message(for: transition, atMs: track.announcedAtMs ?? transition.at))
            // Reminders count on from now: none for the time the mute held the state back.
            skipReminders(&track, rules: rules, now: now)
        }

        // Reminders: the latest one due, if any (only one after a long pause); none while muted.
        if let due = track.nextReminderDueMs(rules: rules), due <= now, let transition = track.announcedTransition,
           let at = track.announcedAtMs, let interval = rules.repeatIntervalMs {
            let number = Int((now - at) / interval)
            track.reminders = number
            if mute == nil {
                messages.append(NotifyMessage(
                    kind: .reminder(number),
                    eventID: NotifyEventID.reminder(transitionEventID: transition.eventID, number: number),
                    transition: transition, atMs: at.addingSaturating(interval.multipliedSaturating(by: Int64(number)))))
            } else {
                silenced = true
            }
        }

        track.mutedUntilMs = mute?.untilMs
        return NotifyDecision(track: track, messages: messages, deadline: track.deadline(rules: rules), silenced: silenced)
    }

    /// The state announcements use: a drift whose differing attributes are all ignored counts as `in_sync`.
    public static func announceState(of report: DriftReport, rules: NotifyRules) -> DriftState {
        let state = report.state.driftState
        guard state == .drifted, !rules.ignoreAttributes.isEmpty else { return state }
        let attributes = report.differingAttributes
        if !attributes.isEmpty, attributes.allSatisfy(rules.ignoreAttributes.contains) { return .inSync }
        return state
    }

    /// The differing attributes that count (sorted, ignored ones removed).
    public static func announcedAttributes(of report: DriftReport, rules: NotifyRules) -> [String] {
        guard report.state == .drifted else { return [] }
        return report.differingAttributes.filter { !rules.ignoreAttributes.contains($0) }
    }

    /// The transition a pending state begins with: the machine's own when it leads to that state, else one
    /// made for the announcement view (ignored attributes turned a drift into `in_sync` or back).
    static func beginning(
        raw: Transition?, state: DriftState, previous: DriftState, report: DriftReport, machineName: String?, now: Int64
    ) -> Transition {
        if let raw, raw.state == state { return raw }
        return Transition(
            machineID: report.machineID, machineName: raw?.machineName ?? machineName, previous: previous, state: state, cause: .report,
            report: report, at: raw?.at ?? now, firstObservation: false)
    }

    static func message(for transition: Transition, atMs: Int64) -> NotifyMessage {
        NotifyMessage(kind: .transition, eventID: transition.eventID, transition: transition, atMs: atMs)
    }

    static func skipReminders(_ track: inout NotifyTrack, rules: NotifyRules, now: Int64) {
        guard let interval = rules.repeatIntervalMs, interval > 0, let at = track.announcedAtMs, now > at else { return }
        track.reminders = max(track.reminders, Int((now - at) / interval))
    }
}
