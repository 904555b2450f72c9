import DriftCore
import DriftStore
import DriftWebhooks
import Logging

/// The notification policy inside the reducer: each recorded change (and each valid report) goes to every
/// webhook either at once (default rules, no mute: today's path) or through `NotifyPolicy`, whose track and
/// messages are written with the check's records.
extension EngineState {
    /// The mute in force for `machineID` at `atMs` (silences and maintenance windows), if any.
    public func mute(machineID: String, atMs: Int64) -> Mute? {
        guard !notify.silences.isEmpty || settings.hasMaintenance else { return nil }
        return notify.mute(machineID: machineID, atMs: atMs, maintenance: settings.maintenance, hasMaintenance: settings.hasMaintenance)
    }

    /// Whether anything may route a change through the policy (else the outbox rows are today's, no lookups).
    var policyInPlay: Bool {
        notify.policyActive || !notify.tracks.isEmpty || !notify.silences.isEmpty || settings.hasMaintenance
    }

    /// Announces `input` for `machineID` to every webhook (outbox rows, group members, tracks into `record`).
    mutating func announce(
        _ input: NotifyInput, machineID: String, name: String?, transition: Transition?, now: Int64,
        record: inout CheckRecord, step: inout EngineStep
    ) {
        guard policyInPlay else {
            record.outbox = outbox(for: transition)
            return
        }
        let muted = mute(machineID: machineID, atMs: now)
        var transitionBody: [UInt8]?
        for subscription in settings.subscriptions {
            let rules = subscription.rules(for: machineID)
            let key = NotifyKey(webhook: subscription.webhookID, machineID: machineID)
            let existing = step.notifyTracks[key].map(\.track) ?? notify.tracks[key]
            if existing == nil, rules.isImmediate, muted == nil {
                // Today's path: the transition at once to the webhooks that want it.
                guard let transition, transition.isWanted(by: subscription.events) else { continue }
                let body = transitionBody ?? WebhookPayload.body(for: transition)
                transitionBody = body
                record.outbox.append(OutboxItem(webhook: subscription.webhookID, body: body))
                continue
            }
            guard let start = existing ?? Self.initialTrack(for: input, rules: rules) else { continue }
            let decision = NotifyPolicy.decide(track: start, input: input, rules: rules, mute: muted, now: now, machineName: name)
            emit(decision.messages, subscription: subscription, machineID: machineID, name: name, now: now, record: &record, step: &step)
            keep(decision, key: key, rules: rules, existing: existing, start: start, record: &record, step: &step)
        }
    }

    /// Ticks the policy: tracks whose deadline came and group windows that ended. Returns whether anything was due.
    @discardableResult
    mutating func reduceNotifyTicks(now: Int64, step: inout EngineStep) -> Bool {
        let due = notify.takeDue(now: now)
        guard !due.isEmpty else { return false }
        step.notifyDue += due
        var records: [String: CheckRecord] = [:]
        var order: [String] = []
        for entry in due {
            switch entry {
            case .track(let key):
                guard let track = step.notifyTracks[key].map(\.track) ?? notify.tracks[key] else { continue }
                var record = records[key.machineID] ?? CheckRecord(machineID: key.machineID, checkedAt: now)
                if records[key.machineID] == nil { order.append(key.machineID) }
                guard let subscription = settings.subscriptions.first(where: { $0.webhookID == key.webhook }) else {
                    // The webhook left the config: forget its track.
                    record.notifyTracks.append(NotifyTrackWrite(webhook: key.webhook, machineID: key.machineID, track: nil, deadline: nil))
                    step.notifyTracks[key] = (nil, nil)
                    records[key.machineID] = record
                    continue
                }
                let rules = subscription.rules(for: key.machineID)
                let name = machines[key.machineID]?.name
                let decision = NotifyPolicy.decide(
                    track: track, input: .tick, rules: rules, mute: mute(machineID: key.machineID, atMs: now), now: now, machineName: name)
                emit(decision.messages, subscription: subscription, machineID: key.machineID, name: name, now: now, record: &record, step: &step)
                keep(decision, key: key, rules: rules, existing: track, start: track, record: &record, step: &step)
                records[key.machineID] = record
            case .group(let webhook, let bucket):
                guard let window = notify.groups[webhook]?[bucket] else { continue }
                let members = window.members.sorted { ($0.atMs, $0.eventID) < ($1.atMs, $1.eventID) }
                guard let subscription = settings.subscriptions.first(where: { $0.webhookID == webhook }) else {
                    step.groupFlushes.append(NotifyGroupFlush(webhook: webhook, bucketStartMs: bucket, eventID: "", body: [], atMs: now))
                    continue
                }
                let eventID = NotifyEventID.group(webhook: subscription.name, bucketStartMs: bucket)
                let body = WebhookPayload.groupBody(eventID: eventID, webhook: subscription.name, atMs: window.endMs, members: members.map(\.body))
                step.groupFlushes.append(NotifyGroupFlush(webhook: webhook, bucketStartMs: bucket, eventID: eventID, body: body, atMs: now))
            }
        }
        step.records += order.compactMap { records[$0] }
        return true
    }

    /// The track a webhook starts from for a machine it has none for: the state before `input`, announced.
    static func initialTrack(for input: NotifyInput, rules: NotifyRules) -> NotifyTrack? {
        switch input {
        case .report(let report, let transition, _):
            if let transition { return NotifyTrack(state: transition.previous, unobserved: transition.firstObservation) }
            let state = NotifyPolicy.announceState(of: report, rules: rules)
            return NotifyTrack(state: state, attributes: state == .drifted ? NotifyPolicy.announcedAttributes(of: report, rules: rules) : [])
        case .unknown(let transition, _):
            return NotifyTrack(state: transition.previous)
        case .tick:
            return nil
        }
    }

    /// Whether `track` can be forgotten: nothing pending or held back, and rules that need no memory
    /// between changes (announce at once, no reminders, no drift changes, nothing ignored; grouping
    /// aside): the next change rebuilds it from the machine's previous state, so a large fleet under
    /// a chat receiver's default `group_wait` keeps no track per machine.
    static func needsNoMemory(_ track: NotifyTrack, rules: NotifyRules) -> Bool {
        track.pending == nil && track.announced == track.lastSent && rules.confirmReports == 1 && rules.confirmForMs == 0
            && rules.repeatIntervalMs == nil && !rules.driftChanged && rules.ignoreAttributes.isEmpty
    }

    /// Writes the decision's track when it changed; a track that needs no memory is forgotten.
    private func keep(
        _ decision: NotifyDecision, key: NotifyKey, rules: NotifyRules, existing: NotifyTrack?, start: NotifyTrack,
        record: inout CheckRecord, step: inout EngineStep
    ) {
        let track = decision.track
        let kept: NotifyTrack? = Self.needsNoMemory(track, rules: rules) ? nil : track
        if existing == nil, kept == nil || kept == start { return }
        let deadline = kept == nil ? nil : decision.deadline
        let changed = existing != kept
        if changed {
            record.notifyTracks.append(NotifyTrackWrite(webhook: key.webhook, machineID: key.machineID, track: kept, deadline: deadline))
        }
        if changed || notify.deadline(of: key) != deadline { step.notifyTracks[key] = (kept, deadline) }
    }

    /// The policy's messages as outbox rows (or group members), for the webhooks that want them.
    private func emit(
        _ messages: [NotifyMessage], subscription: EngineSettings.Subscription, machineID: String, name: String?, now: Int64,
        record: inout CheckRecord, step: inout EngineStep
    ) {
        for message in messages {
            let body: [UInt8]
            switch message.kind {
            case .transition:
                guard let transition = message.transition, transition.isWanted(by: subscription.events) else { continue }
                body = WebhookPayload.body(for: transition)
            case .reminder(let number):
                guard let transition = message.transition, subscription.events.contains(transition.state) else { continue }
                body = WebhookPayload.reminderBody(for: transition, reminder: number, eventID: message.eventID, dueAtMs: message.atMs)
                if step.reminderLogged.insert(message.eventID).inserted {
                    step.logs.append(EngineLogRecord(
                        level: .warning,
                        message: "machine \(transition.machineLabel) is still \(transition.state.rawValue) (reminder \(number))",
                        metadata: [
                            "message_id": "\(JournalMessageID.reminder)", "drift_machine_id": "\(machineID)",
                            "drift_state": "\(transition.state.rawValue)", "drift_event_id": "\(message.eventID)",
                            "drift_transition_event_id": "\(transition.eventID)", "drift_reminder": "\(number)",
                        ]))
                }
            case .changed(let previous, let report):
                body = WebhookPayload.changedBody(
                    machineID: machineID, machineName: name, report: report, previousAttributes: previous, eventID: message.eventID)
            }
            let groupWait = subscription.rules.groupWaitMs
            if groupWait > 0 {
                let bucket = NotifyGroupWindow.bucketStart(eventAtMs: message.atMs, groupWaitMs: groupWait, nowMs: now)
                let member = NotifyGroupMember(
                    webhook: subscription.webhookID, bucketStartMs: bucket, eventID: message.eventID, machineID: machineID,
                    atMs: message.atMs, body: body)
                record.groupMembers.append(member)
                step.groupMembers.append((member, bucket + groupWait))
            } else {
                record.outbox.append(OutboxItem(webhook: subscription.webhookID, body: body, eventID: message.eventID))
            }
        }
    }

    /// Every track a mute held something back for is looked at again at `now` (the silences changed).
    mutating func touchMutedTracks(now: Int64) {
        for (key, track) in notify.tracks where track.mutedUntilMs != nil { notify.touch(key, atMs: now) }
    }

    /// After a reload: each track's deadline under its (possibly new) rules.
    mutating func rulesChanged() {
        for (key, track) in notify.tracks {
            guard let subscription = settings.subscriptions.first(where: { $0.webhookID == key.webhook }) else { continue }
            notify.setTrack(key, track, deadline: track.deadline(rules: subscription.rules(for: key.machineID)))
        }
    }

    /// Applies the policy part of a durable step to memory.
    mutating func commitNotify(_ step: EngineStep) {
        for (key, value) in step.notifyTracks { notify.setTrack(key, value.track, deadline: value.deadline) }
        for (member, end) in step.groupMembers { notify.addMember(member, endMs: end) }
        for flush in step.groupFlushes { notify.removeGroup(webhook: flush.webhook, bucketStartMs: flush.bucketStartMs) }
    }

    /// Loads the stored tracks and open group windows (start): tracks of webhooks no longer configured, and
    /// tracks that need no memory, are left out.
    public mutating func loadNotify(tracks: [StoredNotifyTrack], members: [NotifyGroupMember]) {
        notify.policyActive = settings.usesPolicy
        let subscriptions = Dictionary(settings.subscriptions.map { ($0.webhookID, $0) }, uniquingKeysWith: { first, _ in first })
        for stored in tracks {
            guard let subscription = subscriptions[stored.webhook] else { continue }
            let rules = subscription.rules(for: stored.machineID)
            let track = stored.track
            if Self.needsNoMemory(track, rules: rules) { continue }
            notify.setTrack(NotifyKey(webhook: stored.webhook, machineID: stored.machineID), track, deadline: track.deadline(rules: rules))
        }
        for member in members {
            let wait = subscriptions[member.webhook]?.rules.groupWaitMs ?? 0
            notify.addMember(member, endMs: member.bucketStartMs + max(wait, 0))
        }
    }
}
