import AkuaAPI
import DriftCore
import DriftStore
import DriftWebhooks
import Dispatch
import Logging

/// The always-on watcher: drives `SchedulerCore` with one Dispatch timer, runs the checks it asks for
/// (at most `max_in_flight` at a time), records results, transitions and webhook deliveries in the state
/// file, and announces transitions to the journal.
///
/// All mutable state lives on `queue` (a serial Dispatch queue); checks run as tasks and hop back to it.
/// Results that arrive together are written in one SQLite transaction.
public final class DriftEngine: @unchecked Sendable {
    /// What an engine reports after each batch (for sd_notify STATUS=).
    public typealias StatusHandler = @Sendable (_ summary: FleetSummary, _ nextCheckInMs: Int64?) -> Void

    struct MachineState {
        var name: String?
        var state: DriftState
        var observed: Bool
        var failures: Int
    }

    enum Completion {
        case check(machineID: String, occurrence: Occurrence, result: Result<DriftReport, AkuaAPIError>, startedAt: Int64)
        case expiry(machineID: String, expiresAtMs: Int64)
    }

    let queue = DispatchQueue(label: "akua-driftd.engine")
    let database: AppDatabase
    let clock: any EngineClock
    let logger: Logger
    private var source: any DriftReportSource
    private var settings: EngineSettings
    private var core: SchedulerCore
    private var machines: [String: MachineState] = [:]
    private var summary = FleetSummary()
    private var completions: [Completion] = []
    private var flushScheduled = false
    private var timer: (any DispatchSourceTimer)?
    private var stopped = false
    private var inFlightTasks: [String: Task<Void, Never>] = [:]
    private var lastStatusAt: Int64 = 0
    private var statusDirty = true
    /// Unix ms of the last time the timer callback ran (for the watchdog).
    private var lastFireAt: Int64 = 0

    /// Called (off the engine queue) when new deliveries are in the outbox.
    public var onOutbox: (@Sendable () -> Void)?
    public var onStatus: StatusHandler?
    /// Called after each check with (due, started) unix ms: scheduling lag for benchmarks.
    public var onCheckStarted: (@Sendable (_ dueMs: Int64, _ startedMs: Int64) -> Void)?

    public init(
        database: AppDatabase, source: any DriftReportSource, settings: EngineSettings,
        clock: any EngineClock = SystemClock(), logger: Logger, seed: UInt64 = UInt64.random(in: 1...UInt64.max)
    ) {
        self.database = database
        self.source = source
        self.settings = settings
        self.clock = clock
        self.logger = logger
        core = SchedulerCore(settings: settings.scheduler, seed: seed)
    }

    // MARK: Lifecycle

    /// Loads the state file, places every machine on its schedule, journals transitions a crash left
    /// unjournaled, and arms the timer. Throws when the state file cannot be read or written.
    public func start() throws {
        try database.configureMachines(settings.machines.map { ($0.id, $0.name) })
        let records = try database.machineBookkeeping()
        try queue.sync {
            let now = clock.nowMs()
            let plans = adopt(settings.machines, records: records, keepMemory: false)
            core.setMachines(plans, now: now)
            try journalPending()
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.setEventHandler { [weak self] in self?.fire() }
            self.timer = timer
            timer.activate()
            lastFireAt = now
            rearm(now: now)
            publishStatus(now: now, force: true)
        }
        MemoryTrim.soon()
    }

    /// Stops scheduling, waits up to `graceMs` for running checks (their results are recorded), then
    /// abandons the rest (their keys are retried after a restart, so nothing is duplicated).
    public func stop(graceMs: Int64 = 5_000) async {
        let tasks: [Task<Void, Never>] = queue.sync {
            stopped = true
            timer?.cancel()
            timer = nil
            return Array(inFlightTasks.values)
        }
        let deadline = clock.nowMs() + graceMs
        for task in tasks {
            while clock.nowMs() < deadline, queue.sync(execute: { inFlightTasks.values.contains { $0 == task } }) {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        queue.sync {
            for task in inFlightTasks.values { task.cancel() }
            flush()
        }
    }

    /// Applies a reloaded config: new or changed machines are (re)placed, removed ones dropped, unchanged
    /// ones keep their rhythm and reports. A new report source (say, a new token) resets backoff.
    public func reload(settings newSettings: EngineSettings, source newSource: (any DriftReportSource)?) throws {
        // The state file's watched set always equals `settings.machines` (set at start, changed only here
        // after the write succeeded), so only the difference is written, and only new machines are read.
        let change = MachineSetChange(from: queue.sync { settings.machines }, to: newSettings.machines)
        try database.updateConfiguredMachines(upserting: change.upserts, removing: change.removed)
        let records = change.added.count > 10_000
            ? try database.machineBookkeeping() : try database.machineBookkeeping(ids: change.added)
        defer { MemoryTrim.soon() }
        queue.sync {
            let now = clock.nowMs()
            let plans = adopt(newSettings.machines, records: records, keepMemory: true)
            settings = newSettings
            core.updateSettings(newSettings.scheduler)
            core.setMachines(plans, now: now)
            if let newSource {
                source = newSource
                core.resetBackoff(now: now)
            }
            rearm(now: now)
            publishStatus(now: now, force: true)
        }
    }

    /// Rebuilds the in-memory book of machines (memory first when `keepMemory`, else the state file) and
    /// returns their scheduling plans. Runs on the engine queue.
    private func adopt(_ configured: [EngineSettings.Machine], records: [MachineBookkeeping], keepMemory: Bool) -> [MachinePlan] {
        var byID: [String: MachineBookkeeping] = [:]
        byID.reserveCapacity(records.count)
        for record in records { byID[record.id] = record }
        var next: [String: MachineState] = [:]
        next.reserveCapacity(configured.count)
        var plans: [MachinePlan] = []
        plans.reserveCapacity(configured.count)
        summary = FleetSummary()
        for machine in configured {
            let record = byID[machine.id]
            var state = (keepMemory ? machines[machine.id] : nil) ?? record.map {
                MachineState(name: machine.name, state: $0.state, observed: $0.observed, failures: $0.consecutiveFailures)
            } ?? MachineState(name: machine.name, state: .unknown, observed: false, failures: 0)
            state.name = machine.name
            next[machine.id] = state
            summary.add(state.state)
            plans.append(MachinePlan(
                id: machine.id, intervalMs: machine.intervalMs, lastSlotMs: record?.lastSlot,
                reportCreatedAtMs: record?.reportCreatedAt.map { $0 * 1000 },
                reportExpiresAtMs: record?.reportExpiresAt.map { $0 * 1000 },
                stateKnown: state.state != .unknown))
        }
        machines = next
        return plans
    }

    // MARK: Timer

    private func rearm(now: Int64) {
        guard let timer, !stopped else { return }
        guard let next = core.nextWakeup() else {
            timer.schedule(deadline: .distantFuture)
            return
        }
        let delay = next == .min ? 0 : max(0, next - now)
        // Small leeway: lets the kernel coalesce wake-ups without adding visible lag.
        let leeway = min(max(delay / 50, 1), 20)
        timer.schedule(deadline: .now() + .milliseconds(Int(min(delay, 86_400_000))), leeway: .milliseconds(Int(leeway)))
    }

    private func fire() {
        guard !stopped else { return }
        let now = clock.nowMs()
        lastFireAt = now
        for action in core.fire(now: now) {
            switch action {
            case .check(let machineID, let occurrence, let attempt, let dueAtMs):
                startCheck(machineID: machineID, occurrence: occurrence, attempt: attempt, dueAtMs: dueAtMs, now: now)
            case .expire(let machineID, let expiresAtMs):
                completions.append(.expiry(machineID: machineID, expiresAtMs: expiresAtMs))
                scheduleFlush()
            }
        }
        rearm(now: now)
    }

    private func startCheck(machineID: String, occurrence: Occurrence, attempt: Int, dueAtMs: Int64, now: Int64) {
        let key = IdempotencyKey(machineID: machineID, occurrence: occurrence, trigger: settings.trigger).value
        let trigger = settings.trigger
        let source = self.source
        onCheckStarted?(dueAtMs, now)
        if attempt > 1 {
            logger.debug("retrying check of \(machineID)", metadata: ["drift_machine_id": "\(machineID)", "attempt": "\(attempt)", "idempotency_key": "\(key)"])
        }
        let task = Task { [weak self] in
            let result: Result<DriftReport, AkuaAPIError>
            do throws(AkuaAPIError) {
                result = .success(try await source.createDriftReport(machineID: machineID, idempotencyKey: key, trigger: trigger))
            } catch {
                result = .failure(error)
            }
            guard let self else { return }
            self.queue.async {
                self.inFlightTasks[machineID] = nil
                self.completions.append(.check(machineID: machineID, occurrence: occurrence, result: result, startedAt: now))
                self.scheduleFlush()
            }
        }
        inFlightTasks[machineID] = task
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        queue.async { [weak self] in self?.flush() }
    }

    // MARK: Recording

    /// Turns every pending completion into records, writes them in one transaction, then (only once
    /// they are durable) updates memory, journals the transitions and wakes the webhook dispatcher.
    private func flush() {
        flushScheduled = false
        guard !completions.isEmpty else { return }
        let batch = completions
        completions.removeAll(keepingCapacity: true)
        let now = clock.nowMs()
        var records: [CheckRecord] = []
        records.reserveCapacity(batch.count)
        var effects: [(machineID: String, state: MachineState)] = []
        var retryOnFailure: [(String, Occurrence)] = []
        var working: [String: MachineState] = [:]

        for completion in batch {
            switch completion {
            case .check(let machineID, let occurrence, let result, _):
                guard var state = working[machineID] ?? machines[machineID] else {
                    // Removed by a reload while running: let the scheduler forget it.
                    core.complete(machineID: machineID, occurrence: occurrence, outcome: .skip(stateKnown: false), now: now)
                    continue
                }
                var record = CheckRecord(machineID: machineID, checkedAt: now)
                switch result {
                case .success(let report):
                    let transition = TransitionRules.afterReport(
                        machineID: machineID, machineName: state.name, current: state.state,
                        everObserved: state.observed, report: report, now: now)
                    record.report = report
                    record.completedSlot = occurrence.kind == .scheduled ? occurrence.at : nil
                    record.transition = transition
                    record.outbox = outbox(for: transition)
                    if state.failures > 0 {
                        logger.notice("machine \(label(machineID, state)) checks recovered after \(state.failures) failure\(state.failures == 1 ? "" : "s")",
                                      metadata: ["drift_machine_id": "\(machineID)"])
                    }
                    if report.expiresAt * 1000 <= now {
                        logger.warning("machine \(label(machineID, state)): the API returned an already expired report \(report.id); ignoring its state",
                                       metadata: ["drift_machine_id": "\(machineID)", "drift_report_id": "\(report.id)"])
                    } else {
                        state.observed = true
                    }
                    if let transition { state.state = transition.state }
                    state.failures = 0
                    core.complete(machineID: machineID, occurrence: occurrence,
                                  outcome: .report(createdAtMs: report.createdAt * 1000, expiresAtMs: report.expiresAt * 1000), now: now)
                    retryOnFailure.append((machineID, occurrence))
                case .failure(let error):
                    let failure = CheckFailure(error, nowMs: now)
                    record.error = failure.message
                    state.failures += 1
                    logFailure(machineID: machineID, state: state, failure: failure, occurrence: occurrence)
                    if failure.machineGone {
                        let latest = try? database.machine(id: machineID)?.report
                        let transition = TransitionRules.afterMachineGone(
                            machineID: machineID, machineName: state.name, current: state.state, latest: latest, now: now)
                        record.transition = transition
                        record.outbox = outbox(for: transition)
                        if let transition { state.state = transition.state }
                    }
                    if case .skip = failure.outcome, occurrence.kind == .scheduled { record.completedSlot = occurrence.at }
                    core.complete(machineID: machineID, occurrence: occurrence, outcome: failure.outcome, now: now)
                    if failure.machineGone { retryOnFailure.append((machineID, occurrence)) }
                }
                record.nextDueAt = core.nextDue(machineID: machineID)
                working[machineID] = state
                effects.append((machineID, state))
                records.append(record)
            case .expiry(let machineID, let expiresAtMs):
                guard var state = working[machineID] ?? machines[machineID], state.state != .unknown else { continue }
                guard let latest = try? database.machine(id: machineID)?.report, latest.expiresAt * 1000 <= expiresAtMs else { continue }
                let transition = TransitionRules.afterExpiry(
                    machineID: machineID, machineName: state.name, current: state.state, latest: latest, now: now)
                guard let transition else { continue }
                state.state = transition.state
                working[machineID] = state
                effects.append((machineID, state))
                records.append(CheckRecord(machineID: machineID, checkedAt: now, transition: transition, outbox: outbox(for: transition)))
            }
        }

        let fresh: [TransitionRecord]
        do {
            fresh = try database.record(records)
        } catch {
            logger.error("cannot write the state file \(database.path): \(error); the affected checks will be retried and nothing is announced until they are recorded")
            for (machineID, occurrence) in retryOnFailure {
                core.retryAfterStoreFailure(machineID: machineID, occurrence: occurrence, now: now)
            }
            retryExpiriesAfterStoreFailure(batch)
            rearm(now: clock.nowMs())
            return
        }
        for (machineID, state) in effects {
            if let old = machines[machineID], old.state != state.state {
                summary.add(old.state, -1)
                summary.add(state.state)
                statusDirty = true
            }
            if machines[machineID] != nil { machines[machineID] = state }
        }
        if !fresh.isEmpty {
            journal(fresh)
            let subscriptions = settings.subscriptions
            if fresh.contains(where: { record in subscriptions.contains { record.transition.isWanted(by: $0.events) } }) {
                onOutbox?()
            }
        }
        // Finished checks freed request slots: start what is due right here rather than through a
        // zero-delay timer (a round trip through the Dispatch manager thread per batch under load).
        let after = clock.nowMs()
        if let next = core.nextWakeup(), next <= after {
            fire()
        } else {
            rearm(now: after)
        }
        publishStatus(now: now, force: false)
    }

    /// Expiries whose transition could not be recorded are tried again a second later (the scheduler has
    /// already let go of them), so that a full or failing disk never leaves a machine known past its report.
    private func retryExpiriesAfterStoreFailure(_ batch: [Completion]) {
        let expiries = batch.filter { if case .expiry = $0 { true } else { false } }
        guard !expiries.isEmpty else { return }
        queue.asyncAfter(deadline: .now() + .seconds(1)) { [weak self] in
            guard let self, !self.stopped else { return }
            self.completions.append(contentsOf: expiries)
            self.scheduleFlush()
        }
    }

    private func outbox(for transition: Transition?) -> [OutboxItem] {
        guard let transition else { return [] }
        let wanting = settings.subscriptions.filter { transition.isWanted(by: $0.events) }
        guard !wanting.isEmpty else { return [] }
        let body = WebhookPayload.body(for: transition)
        return wanting.map { OutboxItem(webhook: $0.webhookID, body: body) }
    }

    private func label(_ machineID: String, _ state: MachineState) -> String {
        if let name = state.name, !name.isEmpty, name != machineID { return "\(name) (\(machineID))" }
        return machineID
    }

    private func logFailure(machineID: String, state: MachineState, failure: CheckFailure, occurrence: Occurrence) {
        let metadata: Logger.Metadata = ["drift_machine_id": "\(machineID)", "drift_error": "\(failure.message)"]
        let text = "check of machine \(label(machineID, state)) failed: \(failure.message)"
        if failure.needsOperator {
            var withID = metadata
            withID["message_id"] = "\(JournalMessageID.checkFailing)"
            // Operator problems are logged once per streak, then every 10th time.
            if state.failures == 1 || state.failures % 10 == 0 { logger.error("\(text)", metadata: withID) }
        } else if state.failures == 1 {
            logger.warning("\(text); retrying with backoff", metadata: metadata)
        } else {
            logger.debug("\(text) (failure \(state.failures))", metadata: metadata)
        }
    }

    // MARK: Journal and status

    private func journal(_ transitions: [TransitionRecord]) {
        for record in transitions {
            TransitionAnnouncer.announce(record.transition, logger: logger)
        }
        do {
            try database.markJournaled(transitions.map(\.seq))
        } catch {
            logger.error("cannot mark transitions as journaled in \(database.path): \(error)")
        }
    }

    /// Journals transitions that were recorded but not journaled (the process died in between).
    private func journalPending() throws {
        while true {
            let pending = try database.unjournaledTransitions(limit: 500)
            if pending.isEmpty { return }
            journal(pending)
        }
    }

    private func publishStatus(now: Int64, force: Bool) {
        guard let onStatus else { return }
        guard force || (statusDirty && now - lastStatusAt >= 1000) || now - lastStatusAt >= 10_000 else { return }
        lastStatusAt = now
        statusDirty = false
        let next = core.earliestDue().map { max(0, $0 - now) }
        onStatus(summary, next)
    }

    // MARK: Introspection

    /// Whether the scheduler is keeping up: its timer is not overdue by more than `toleranceMs`.
    /// Runs on the engine queue, so a wedged queue never answers (and the watchdog is not fed).
    public func isMakingProgress(toleranceMs: Int64) -> Bool {
        queue.sync {
            guard !stopped else { return false }
            let now = clock.nowMs()
            guard let next = core.nextWakeup(), next != .min else { return true }
            return next >= now - toleranceMs || now - lastFireAt < toleranceMs
        }
    }

    /// Counts per state and the time to the next check.
    public func currentSummary() -> (FleetSummary, Int64?) {
        queue.sync {
            let now = clock.nowMs()
            return (summary, core.earliestDue().map { max(0, $0 - now) })
        }
    }
}
