import AkuaAPI
import DriftCore
import DriftStore
import DriftWebhooks
import Logging

/// The engine's whole policy as a value: scheduler, per-machine memory and fleet conditions. `reduce`
/// turns a batch of completions into an `EngineStep`; no I/O, no clock other than its `now` argument.
public struct EngineState: Sendable {
    public var settings: EngineSettings
    public var core: SchedulerCore
    public var machines: [String: EngineMachine] = [:]
    public var summary = FleetSummary()
    public var fleet = FleetConditions()
    /// The notification policy's tracks, group windows, silences and deadlines.
    public var notify = NotifyMemory()

    /// How many expired replays in a row are followed before the report counts as invalid.
    public static let maximumReplayChain = 64
    /// A skew beyond this is logged (once) as an operator problem.
    public static let skewWarningMs: Int64 = 5_000

    public init(settings: EngineSettings, seed: UInt64) {
        self.settings = settings
        core = SchedulerCore(settings: settings.scheduler, seed: seed)
    }

    /// Reduces a batch: checks first, then expiries, so an expiry never overrides a report received
    /// earlier or in the same batch. `latestReport` reads the stored report for a transition's payload.
    public mutating func reduce(_ batch: [EngineCompletion], now: Int64, latestReport: (String) -> DriftReport?) -> EngineStep {
        var step = EngineStep()
        var working: [String: EngineMachine] = [:]
        var freshInBatch = Set<String>()
        for completion in batch where !completion.isExpiry {
            guard case .check(let id, let occurrence, let result, let receivedAt) = completion else { continue }
            guard var machine = working[id] ?? machines[id] else {
                // Removed by a reload while running: let the scheduler forget it.
                core.complete(machineID: id, occurrence: occurrence, outcome: .skip(stateKnown: false), now: now)
                continue
            }
            var record = CheckRecord(machineID: id, checkedAt: receivedAt)
            let fresh = reduceCheck(
                id, occurrence, result, receivedAt: receivedAt, now: now, machine: &machine, record: &record,
                step: &step, latestReport: latestReport)
            if fresh { freshInBatch.insert(id) }
            record.nextDueAt = core.nextDue(machineID: id)
            working[id] = machine
            step.machines.append((id, machine))
            step.records.append(record)
        }
        for completion in batch where completion.isExpiry {
            guard case .expiry(let id, _) = completion else { continue }
            guard var machine = working[id] ?? machines[id], machine.state != .unknown, !freshInBatch.contains(id) else { continue }
            if let report = machine.report, report.localExpiresAtMs > now { continue }
            step.expiries.append(completion)
            let latest = latestReport(id).flatMap { $0.id == machine.report?.id ? $0 : nil }
            guard let transition = TransitionRules.afterExpiry(
                machineID: id, machineName: machine.name, current: machine.state, latest: latest, now: now) else { continue }
            machine.state = transition.state
            working[id] = machine
            step.machines.append((id, machine))
            var record = CheckRecord(machineID: id, checkedAt: now, transition: transition)
            announce(.unknown(transition, eventAtMs: WebhookPayload.timestampMs(of: transition)),
                     machineID: id, name: machine.name, transition: transition, now: now, record: &record, step: &step)
            step.records.append(record)
        }
        reduceNotifyTicks(now: now, step: &step)
        return step
    }

    /// One finished check; returns whether a valid report arrived.
    private mutating func reduceCheck(
        _ id: String, _ occurrence: Occurrence, _ result: CheckResult, receivedAt: Int64, now: Int64,
        machine: inout EngineMachine, record: inout CheckRecord, step: inout EngineStep,
        latestReport: (String) -> DriftReport?
    ) -> Bool {
        switch result {
        case .report(let report, let serverDate):
            let skew = serverDate.map { $0 - receivedAt }
            noteSkew(skew, step: &step)
            let serverNow = receivedAt + (skew ?? 0)
            let created = Self.ms(report.createdAt), expires = Self.ms(report.expiresAt)
            if expires > created, expires <= serverNow, machine.replayChain < Self.maximumReplayChain,
               created > machine.lastReplayCreatedMs ?? .min {
                // A replay of a create that outlived a restart, or that another replica made earlier: its
                // report has expired since. Follow it with a refresh keyed on that report. Each replay is
                // newer than the last, so the chain ends at the latest report or at a key nobody used yet.
                machine.replayChain += 1
                machine.lastReplayCreatedMs = created
                step.logs.append(log(.info, "the Akua API replayed report \(report.id) of machine \(label(id, machine)), which has expired since; refreshing", id))
                if occurrence.kind == .scheduled { record.completedSlot = occurrence.at }
                core.complete(machineID: id, occurrence: occurrence, outcome: .replayedExpired(createdAtMs: created, expiresAtMs: expires), now: now)
                return false
            }
            guard expires > created, expires > serverNow else {
                let why = expires <= created
                    ? "report \(report.id) expires_at \(report.expiresAt) is not after created_at \(report.createdAt)"
                    : "report \(report.id) had already expired on arrival (expires_at \(report.expiresAt))"
                invalidReport(id, occurrence, message: why, now: now, machine: &machine, record: &record, step: &step)
                return false
            }
            let localExpires = min(receivedAt + (expires - created), expires - (skew ?? 0))
            endPause(step: &step)
            let transition = TransitionRules.afterReport(
                machineID: id, machineName: machine.name, current: machine.state, everObserved: machine.observed,
                report: report, now: serverNow)
            record.report = report
            record.reportLocalExpiresAt = localExpires
            record.completedSlot = occurrence.kind == .scheduled ? occurrence.at : nil
            record.transition = transition.map { var t = $0; t.at = receivedAt; return t }
            announce(
                .report(report, transition: record.transition,
                        eventAtMs: record.transition.map(WebhookPayload.timestampMs(of:)) ?? Self.ms(report.createdAt)),
                machineID: id, name: machine.name, transition: record.transition, now: now, record: &record, step: &step)
            if machine.failingAnnounced {
                let notice = CheckNotice(
                    kind: .recovered, machineID: id, machineName: machine.name, state: transition?.state ?? machine.state,
                    consecutiveFailures: machine.failures, lastError: nil, reportID: report.id, at: receivedAt)
                record.notices = notices(for: notice)
                step.logs.append(log(.notice, "machine \(label(id, machine)) checks recovered after \(machine.failures) failure\(machine.failures == 1 ? "" : "s")",
                                     id, messageID: JournalMessageID.checksRecovered))
            } else if machine.failures > 0 {
                step.logs.append(log(.notice, "machine \(label(id, machine)) checks recovered after \(machine.failures) failure\(machine.failures == 1 ? "" : "s")", id))
            }
            machine.failingAnnounced = false
            machine.replayChain = 0
            machine.lastReplayCreatedMs = nil
            machine.invalidLogged = false
            machine.operatorLogged = false
            machine.observed = true
            machine.failures = 0
            machine.report = ReportLife(id: report.id, localExpiresAtMs: localExpires)
            if let transition { machine.state = transition.state }
            core.complete(machineID: id, occurrence: occurrence,
                          outcome: .report(createdAtMs: created, expiresAtMs: expires, localExpiresAtMs: localExpires), now: now)
            step.retryOnStoreFailure.append((id, occurrence))
            return true
        case .machineGone, .failure(.unknownMachine):
            // Confirmed by GET /machines/{id}, or unconfirmable (a source that cannot ask): gone.
            let message = "the Akua API no longer knows machine \(id) (HTTP 404)"
            countFailure(id, message: message, machine: &machine, record: &record, step: &step)
            if !machine.operatorLogged {
                machine.operatorLogged = true
                step.logs.append(log(.error, "check of machine \(label(id, machine)) failed: \(message)", id,
                                     messageID: JournalMessageID.checkFailing, error: message))
            }
            let latest = latestReport(id).flatMap { $0.id == machine.report?.id ? $0 : nil }
            if let transition = TransitionRules.afterMachineGone(
                machineID: id, machineName: machine.name, current: machine.state, latest: latest, now: now) {
                record.transition = transition
                announce(.unknown(transition, eventAtMs: WebhookPayload.timestampMs(of: transition)),
                         machineID: id, name: machine.name, transition: transition, now: now, record: &record, step: &step)
                machine.state = transition.state
            }
            machine.report = nil
            giveUp(id, occurrence, stateKnown: false, now: now, record: &record)
            step.retryOnStoreFailure.append((id, occurrence))
        case .failure(let error) where error.isSchemaViolation:
            invalidReport(id, occurrence, message: error.description, now: now, machine: &machine, record: &record, step: &step)
        case .failure(let error):
            failure(id, occurrence, error, now: now, machine: &machine, record: &record, step: &step)
        case .operationUnavailable(let error):
            countFailure(id, message: error.description, machine: &machine, record: &record, step: &step)
            // The scheduler knows the interval: no scan of the fleet per completion.
            fleet.operationUnavailableUntilMs = now + (core.intervalMs(machineID: id) ?? 60_000)
            operationUnavailable(error, confirmedBy: id, step: &step)
            giveUp(id, occurrence, stateKnown: true, now: now, record: &record)
        }
        return false
    }

    /// A complete body that breaks the contract (or a report already expired on arrival): a replay would
    /// repeat it, so log once per streak, keep the previous report's expiry and wait for the next slot.
    private mutating func invalidReport(
        _ id: String, _ occurrence: Occurrence, message: String, now: Int64,
        machine: inout EngineMachine, record: inout CheckRecord, step: inout EngineStep
    ) {
        countFailure(id, message: message, machine: &machine, record: &record, step: &step)
        if !machine.invalidLogged {
            machine.invalidLogged = true
            step.logs.append(log(.error, "the Akua API returned an unusable report for machine \(label(id, machine)): \(message); keeping the previous state until it expires",
                                 id, messageID: JournalMessageID.invalidReport, error: message))
        }
        giveUp(id, occurrence, stateKnown: true, now: now, record: &record)
    }

    private mutating func failure(
        _ id: String, _ occurrence: Occurrence, _ error: AkuaAPIError, now: Int64,
        machine: inout EngineMachine, record: inout CheckRecord, step: inout EngineStep
    ) {
        let message = error.description
        countFailure(id, message: message, machine: &machine, record: &record, step: &step)
        let text = "check of machine \(label(id, machine)) failed: \(message)"
        switch error {
        case .unauthorized:
            pause(error, retryAfterMs: nil, now: now, step: &step)
            core.complete(machineID: id, occurrence: occurrence, outcome: .retry(retryAfterMs: nil), now: now)
        case .retryable(429, _, _) where error.retryDelayMilliseconds(nowMs: now) != nil:
            let delay = error.retryDelayMilliseconds(nowMs: now)
            pause(error, retryAfterMs: delay, now: now, step: &step)
            core.complete(machineID: id, occurrence: occurrence, outcome: .retry(retryAfterMs: delay), now: now)
        case .transport, .timeout, .retryable, .badResponse, .cancelled, .oversized, .invalidReport:
            if machine.failures == 1 {
                step.logs.append(log(.warning, "\(text); retrying with backoff", id, error: message))
            } else {
                step.logs.append(log(.debug, "\(text) (failure \(machine.failures))", id, error: message))
            }
            core.complete(machineID: id, occurrence: occurrence,
                          outcome: .retry(retryAfterMs: error.retryDelayMilliseconds(nowMs: now)), now: now)
        case .unknownMachine:
            // Handled with `.machineGone` by the caller; kept for exhaustiveness.
            core.complete(machineID: id, occurrence: occurrence, outcome: .skip(stateKnown: false), now: now)
        case .unsupported:
            operationUnavailable(error, confirmedBy: nil, step: &step)
            giveUp(id, occurrence, stateKnown: true, now: now, record: &record)
        case .idempotencyConflict, .invalidRequest, .configuration, .notFound, .unexpectedStatus:
            if !machine.operatorLogged {
                machine.operatorLogged = true
                step.logs.append(log(.error, text, id, messageID: JournalMessageID.checkFailing, error: message))
            }
            giveUp(id, occurrence, stateKnown: true, now: now, record: &record)
        }
    }

    /// Gives the occurrence up until the machine's next slot (a scheduled one counts as done).
    private mutating func giveUp(_ id: String, _ occurrence: Occurrence, stateKnown: Bool, now: Int64, record: inout CheckRecord) {
        if occurrence.kind == .scheduled { record.completedSlot = occurrence.at }
        core.complete(machineID: id, occurrence: occurrence, outcome: .skip(stateKnown: stateKnown), now: now)
    }

    /// The drift report operation answers 404/405/501: one fleet-wide operator error, logged once.
    private mutating func operationUnavailable(_ error: AkuaAPIError, confirmedBy id: String?, step: inout EngineStep) {
        guard !fleet.operationUnavailableLogged else { return }
        fleet.operationUnavailableLogged = true
        let why = id.map { " although GET /machines/\($0) knows the machine" } ?? ""
        var entry = EngineLogRecord(
            level: .error,
            message: "the Akua API's drift report operation is unavailable (\(error.description))\(why); states are kept until their reports expire",
            metadata: ["message_id": "\(JournalMessageID.apiOperationUnavailable)", "drift_error": "\(error.description)"])
        if let id { entry.metadata["drift_machine_id"] = "\(id)" }
        step.logs.append(entry)
    }

    /// Counts a failed check and announces "checks failing" once the streak reaches `failing_after`.
    private mutating func countFailure(
        _ id: String, message: String, machine: inout EngineMachine, record: inout CheckRecord, step: inout EngineStep
    ) {
        record.error = message
        machine.failures += 1
        if machine.failures >= settings.failingAfter, !machine.failingAnnounced {
            machine.failingAnnounced = true
            var entry = log(.error, "checks of machine \(label(id, machine)) failing: \(machine.failures) in a row, last: \(message)",
                            id, messageID: JournalMessageID.checksFailing, error: message)
            entry.metadata["drift_cause"] = "check_failing"
            entry.metadata["drift_consecutive_failures"] = "\(machine.failures)"
            entry.metadata["drift_state"] = "\(machine.state.rawValue)"
            step.logs.append(entry)
            let notice = CheckNotice(
                kind: .failing, machineID: id, machineName: machine.name, state: machine.state,
                consecutiveFailures: machine.failures, lastError: message, reportID: machine.report?.id, at: record.checkedAt)
            record.notices = notices(for: notice)
        }
    }

    /// A fleet-wide condition (401/403, or 429 with Retry-After): pause the whole queue, log once per streak.
    private mutating func pause(_ error: AkuaAPIError, retryAfterMs: Int64?, now: Int64, step: inout EngineStep) {
        fleet.pauseStreak += 1
        let unit = settings.scheduler.backoff.delay(attempt: fleet.pauseStreak, jitter: 1)
        let delay = max(retryAfterMs ?? 0, unit)
        core.pauseFleet(untilMs: now + delay)
        if fleet.pauseStreak == 1 {
            let what: String
            if case .unauthorized = error {
                what = "the Akua API rejects the token: \(error.description); checks pause and probe one at a time until it is accepted (fix the token, then `systemctl reload akua-driftd`)"
            } else {
                what = "the Akua API is rate limiting: \(error.description); checks pause and probe one at a time"
            }
            var entry = EngineLogRecord(level: .error, message: what, metadata: ["message_id": "\(JournalMessageID.fleetPaused)", "drift_error": "\(error.description)"])
            if case .retryable = error { entry.level = .warning }
            step.logs.append(entry)
        }
    }

    private mutating func endPause(step: inout EngineStep) {
        guard fleet.pauseStreak > 0 || core.pausedUntilMs != nil else { return }
        if fleet.pauseStreak > 0 {
            step.logs.append(EngineLogRecord(level: .notice, message: "the Akua API accepts checks again; the queue resumes", metadata: [:]))
        }
        fleet.pauseStreak = 0
        core.resumeFleet()
    }

    private mutating func noteSkew(_ skew: Int64?, step: inout EngineStep) {
        guard let skew else { return }
        if fleet.skewMs.map({ abs($0 - skew) >= 1_000 }) ?? true { step.skewChanged = true }
        fleet.skewMs = skew
        if abs(skew) > Self.skewWarningMs, !fleet.skewWarned {
            fleet.skewWarned = true
            step.logs.append(EngineLogRecord(
                level: .warning,
                message: "the local clock and the Akua API's differ by \(skew / 1000) s (API minus local); expiries are judged from each report's own lifetime",
                metadata: ["message_id": "\(JournalMessageID.clockSkew)", "drift_clock_skew_ms": "\(skew)"]))
        }
    }

    /// Outbox rows for the webhooks that list `check_failing`.
    func notices(for notice: CheckNotice) -> [(eventID: String, item: OutboxItem)] {
        let wanting = settings.subscriptions.filter(\.checkFailing)
        guard !wanting.isEmpty else { return [] }
        let body = WebhookPayload.body(for: notice)
        return wanting.map { (notice.eventID, OutboxItem(webhook: $0.webhookID, body: body)) }
    }

    /// Outbox rows for the webhooks that want `transition`.
    public func outbox(for transition: Transition?) -> [OutboxItem] {
        guard let transition else { return [] }
        let wanting = settings.subscriptions.filter { transition.isWanted(by: $0.events) }
        guard !wanting.isEmpty else { return [] }
        let body = WebhookPayload.body(for: transition)
        return wanting.map { OutboxItem(webhook: $0.webhookID, body: body) }
    }

    func label(_ id: String, _ machine: EngineMachine) -> String {
        if let name = machine.name, !name.isEmpty, name != id { return "\(name) (\(id))" }
        return id
    }

    private func log(_ level: Logger.Level, _ message: String, _ id: String, messageID: String? = nil, error: String? = nil) -> EngineLogRecord {
        var metadata: Logger.Metadata = ["drift_machine_id": "\(id)"]
        if let messageID { metadata["message_id"] = "\(messageID)" }
        if let error { metadata["drift_error"] = "\(error)" }
        return EngineLogRecord(level: level, message: message, metadata: metadata)
    }

    /// Seconds to milliseconds, saturating (decoding already bounds timestamps to year 9999).
    static func ms(_ seconds: Int64) -> Int64 {
        let (value, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? (seconds < 0 ? .min : .max) : value
    }
}
