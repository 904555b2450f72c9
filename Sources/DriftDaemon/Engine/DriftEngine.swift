import AkuaAPI
import DriftCore
import DriftStore
import DriftWebhooks
import Dispatch
import Logging

/// The always-on watcher: the I/O step around `EngineState`. It arms the timer driver for the
/// scheduler's next wake-up, runs the checks it asks for (at most `max_in_flight` at a time), writes what
/// the reducer decides in one SQLite transaction, and only then updates memory, journals and wakes the
/// webhook dispatcher.
///
/// All mutable state lives on `queue` (a serial Dispatch queue); a check starts there, and its completion
/// hops back to it from the HTTP client's event loop.
public final class DriftEngine: @unchecked Sendable {
    let queue = DispatchQueue(label: "akua-driftd.engine")
    let database: AppDatabase
    let clock: any EngineClock
    let logger: Logger
    private let timer: any EngineTimerDriver
    private let callbacks: EngineCallbacks
    private var source: any DriftReportSource
    private var state: EngineState
    private var completions: [EngineCompletion] = []
    private var flushScheduled = false
    private var stopped = false
    /// The checks running, by machine: each one's cancel (their completions hop back to `queue`).
    private var inFlight: [String: @Sendable () -> Void] = [:]
    private var lastStatusAt: Int64 = 0
    private var statusDirty = true
    /// Unix ms of the last time the timer callback ran (for the watchdog).
    private var lastFireAt: Int64 = 0
    /// The wall and elapsed clocks at the last wake-up: their drift apart is a wall-clock jump.
    private var lastReading: (wall: Int64, elapsed: Int64)?
    /// Beyond this a wall-clock change relative to elapsed time is a jump, not timer jitter.
    static let jumpToleranceMs: Int64 = 2_000
    /// The state file's `PRAGMA data_version` when the silences were last read.
    private var silencesDataVersion: Int64?

    public init(
        database: AppDatabase, source: any DriftReportSource, settings: EngineSettings,
        clock: any EngineClock = SystemClock(), timer: any EngineTimerDriver = DispatchTimerDriver(),
        logger: Logger, callbacks: EngineCallbacks = EngineCallbacks(),
        seed: UInt64 = UInt64.random(in: 1...UInt64.max)
    ) {
        self.database = database
        self.source = source
        self.clock = clock
        self.timer = timer
        self.logger = logger
        self.callbacks = callbacks
        state = EngineState(settings: settings, seed: seed)
    }

    // MARK: Lifecycle

    /// Loads the state file, places every machine on its schedule, journals transitions a crash left
    /// unjournaled, and arms the timer. Throws when the state file cannot be read or written.
    public func start() throws {
        try database.configureMachines(state.settings.machines.map { ($0.id, $0.name) })
        let records = try database.machineBookkeeping()
        let skew = try? database.clockSkewMs()
        let tracks = try database.notifyTracks()
        let members = try database.notifyGroupMembers()
        try queue.sync {
            let now = clock.nowMs()
            state.load(records, keepMemory: false, now: now)
            state.fleet.skewMs = skew ?? nil
            state.loadNotify(tracks: tracks, members: members)
            reloadSilences(now: now)
            try journalPending()
            timer.start(queue: queue) { [weak self] in self?.fire() }
            timer.expectLoad(state.settings.timerLoad)
            lastFireAt = now
            lastReading = clock.elapsedMs().map { (now, $0) }
            rearm(now: now)
            publishStatus(now: now, force: true)
        }
        MemoryTrim.soon()
    }

    /// Stops scheduling, waits up to `graceMs` for running checks (their results are recorded), then
    /// abandons the rest (their keys are retried after a restart, so nothing is duplicated).
    public func stop(graceMs: Int64 = 5_000) async {
        queue.sync {
            stopped = true
            timer.cancel()
        }
        let deadline = clock.nowMs() + graceMs
        while clock.nowMs() < deadline, queue.sync(execute: { !inFlight.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        queue.sync {
            for cancel in inFlight.values { cancel() }
            flush()
        }
    }

    /// Applies a reloaded config: new or changed machines are (re)placed, removed ones dropped, unchanged
    /// ones keep their rhythm and reports. A new report source (say, a new token) resets backoff and pauses.
    public func reload(settings newSettings: EngineSettings, source newSource: (any DriftReportSource)?) throws {
        // The state file's watched set always equals `settings.machines` (set at start, changed only here
        // after the write succeeded), so only the difference is written, and only new machines are read.
        let change = MachineSetChange(from: queue.sync { state.settings.machines }, to: newSettings.machines)
        try database.updateConfiguredMachines(upserting: change.upserts, removing: change.removed)
        let records = change.added.count > 10_000
            ? try database.machineBookkeeping() : try database.machineBookkeeping(ids: change.added)
        defer { MemoryTrim.soon() }
        queue.sync {
            let now = clock.nowMs()
            noticeClockJump(now: now)
            state.settings = newSettings
            state.core.updateSettings(newSettings.scheduler)
            state.apply(change, records: records, now: now)
            state.rulesChanged()
            timer.expectLoad(newSettings.timerLoad)
            if let newSource {
                source = newSource
                state.fleet.pauseStreak = 0
                state.fleet.operationUnavailableUntilMs = nil
                state.fleet.operationUnavailableLogged = false
                state.core.resumeFleet()
                state.core.resetBackoff(now: now)
            }
            rearm(now: now)
            publishStatus(now: now, force: true)
        }
    }

    // MARK: Timer

    private func rearm(now: Int64) {
        guard !stopped else { return }
        // The policy's next deadline (a `for` window's end, a reminder, a group window) joins the wake-up.
        var wakeup = state.core.nextWakeup()
        if let policy = state.notify.nextDeadline() { wakeup = min(wakeup ?? policy, policy) }
        guard let next = wakeup else {
            timer.schedule(delayMs: nil)
            return
        }
        timer.schedule(delayMs: next == .min ? 0 : max(0, next - now))
    }

    private func fire() {
        guard !stopped else { return }
        let now = clock.nowMs()
        lastFireAt = now
        noticeClockJump(now: now)
        for action in state.core.fire(now: now) {
            switch action {
            case .check(let machineID, let occurrence, let attempt, _):
                startCheck(machineID: machineID, occurrence: occurrence, attempt: attempt, now: now)
            case .expire(let machineID, let expiresAtMs):
                completions.append(.expiry(machineID: machineID, expiresAtMs: expiresAtMs))
                scheduleFlush()
            }
        }
        if policyDue(now: now) { scheduleFlush() }
        rearm(now: now)
    }

    /// Compares the wall clock with elapsed time since the last wake-up; a difference beyond the
    /// tolerance is a jump: the scheduler moves every local instant with it, and it is logged once.
    private func noticeClockJump(now: Int64) {
        guard let elapsed = clock.elapsedMs() else { return }
        defer { lastReading = (now, elapsed) }
        guard let last = lastReading else { return }
        let jump = (now - last.wall) - (elapsed - last.elapsed)
        guard abs(jump) > Self.jumpToleranceMs else { return }
        state.core.clockJumped(byMs: jump, now: now)
        let direction = jump < 0 ? "back" : "forward"
        logger.warning("the wall clock jumped \(direction) by \(abs(jump) / 1000) s; checks keep the rhythm of elapsed time",
                       metadata: ["message_id": "\(JournalMessageID.clockJumped)", "drift_clock_jump_ms": "\(jump)"])
    }

    private func startCheck(machineID: String, occurrence: Occurrence, attempt: Int, now: Int64) {
        let key = IdempotencyKey(machineID: machineID, occurrence: occurrence, trigger: state.settings.trigger).value
        let trigger = state.settings.trigger
        let source = self.source
        let assumeUnavailable = state.fleet.operationUnavailableUntilMs.map { now < $0 } ?? false
        callbacks.checkStarted(occurrence.at, now)
        if attempt > 1 {
            logger.debug("retrying check of \(machineID)", metadata: ["drift_machine_id": "\(machineID)", "attempt": "\(attempt)", "idempotency_key": "\(key)"])
        }
        let callbacks = self.callbacks
        let started = ContinuousClock.now
        let cancel = CheckRunner.start(
            source: source, machineID: machineID, key: key, trigger: trigger, assumeOperationUnavailable: assumeUnavailable
        ) { [weak self] result in
            let elapsed = (ContinuousClock.now - started).components
            callbacks.checkFinished(result, elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000)
            guard let self else { return }
            self.queue.async {
                self.inFlight[machineID] = nil
                self.completions.append(.check(machineID: machineID, occurrence: occurrence, result: result, receivedAtMs: self.clock.nowMs()))
                self.scheduleFlush()
            }
        }
        // A source that answered synchronously has already queued its completion behind this.
        inFlight[machineID] = cancel
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        queue.async { [weak self] in self?.flush() }
    }

    // MARK: Recording

    /// Reduces every pending completion, writes the records in one transaction, then (only once they
    /// are durable) updates memory, journals the transitions and wakes the webhook dispatcher.
    private func flush() {
        flushScheduled = false
        let now = clock.nowMs()
        // Another process (`akua-driftd silence`) changed the state file: read the silences before deciding.
        if let version = try? database.dataVersion(), version != silencesDataVersion { reloadSilences(now: now) }
        guard !completions.isEmpty || policyDue(now: now) else { return }
        let batch = completions
        completions.removeAll(keepingCapacity: true)
        // A jump noticed only at the next timer would shift the instants this batch sets a second time.
        noticeClockJump(now: now)
        let database = self.database
        let step = state.reduce(batch, now: now) { id in (try? database.machine(id: id))?.report }
        for entry in step.logs { logger.log(level: entry.level, "\(entry.message)", metadata: entry.metadata) }

        let fresh: [TransitionRecord]
        do {
            fresh = try database.record(step.records, groupFlushes: step.groupFlushes)
            if step.skewChanged, let skew = state.fleet.skewMs { try? database.setClockSkewMs(skew) }
        } catch {
            logger.error("cannot write the state file \(database.path): \(error); the affected checks will be retried and nothing is announced until they are recorded")
            state.storeFailed(step, now: now)
            retryExpiriesAfterStoreFailure(step.expiries)
            rearm(now: clock.nowMs())
            return
        }
        if state.commit(step) { statusDirty = true }
        if !fresh.isEmpty { journal(fresh) }
        for record in fresh { callbacks.transitioned(record.transition) }
        if !step.groupFlushes.isEmpty || step.records.contains(where: { !$0.outbox.isEmpty || !$0.notices.isEmpty }) {
            callbacks.outbox()
        }
        // Finished checks freed request slots: start what is due right here rather than through a
        // zero-delay timer (a round trip through the Dispatch manager thread per batch under load).
        let after = clock.nowMs()
        if let next = state.core.nextWakeup(), next <= after {
            fire()
        } else {
            rearm(now: after)
        }
        publishStatus(now: now, force: false)
    }

    /// Expiries whose transition could not be recorded are tried again a second later (the scheduler has
    /// already let go of them), so that a full or failing disk never leaves a machine known past its report.
    private func retryExpiriesAfterStoreFailure(_ expiries: [EngineCompletion]) {
        guard !expiries.isEmpty else { return }
        queue.asyncAfter(deadline: .now() + .seconds(1)) { [weak self] in
            guard let self, !self.stopped else { return }
            self.completions.append(contentsOf: expiries)
            self.scheduleFlush()
        }
    }

    // MARK: Silences

    /// Re-reads the silences from the state file (the runtime calls it on SIGUSR1, after `akua-driftd
    /// silence`): a silence that ended early lets the changes it held back go out at once.
    public func refreshSilences() {
        queue.async { [weak self] in
            guard let self, !self.stopped else { return }
            self.reloadSilences(now: self.clock.nowMs())
            self.scheduleFlush()
        }
    }

    /// Reads the silences; every track a mute held back is looked at again now.
    private func reloadSilences(now: Int64) {
        let version = try? database.dataVersion()
        do {
            state.notify.silences = try database.silencesForEngine(atMs: now)
        } catch {
            logger.error("cannot read the silences from \(database.path): \(error); the previous ones stay in force")
            return
        }
        silencesDataVersion = version
        state.touchMutedTracks(now: now)
    }

    /// Whether a policy deadline has come.
    private func policyDue(now: Int64) -> Bool {
        state.notify.nextDeadline().map { $0 <= now } ?? false
    }

    // MARK: Journal and status

    private func journal(_ transitions: [TransitionRecord]) {
        for record in transitions {
            let transition = record.transition
            TransitionAnnouncer.announce(transition, logger: logger, silenced: state.mute(machineID: transition.machineID, atMs: transition.at))
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
        guard force || (statusDirty && now - lastStatusAt >= 1000) || now - lastStatusAt >= 10_000 else { return }
        lastStatusAt = now
        statusDirty = false
        let next = state.core.earliestDue().map { max(0, $0 - now) }
        callbacks.status(state.summary, next)
    }

    // MARK: Introspection

    /// Whether the scheduler is keeping up: its timer is not overdue by more than `toleranceMs`.
    /// Runs on the engine queue, so a wedged queue never answers (and the watchdog is not fed).
    public func isMakingProgress(toleranceMs: Int64) -> Bool {
        queue.sync {
            guard !stopped else { return false }
            let now = clock.nowMs()
            guard let next = state.core.nextWakeup(), next != .min else { return true }
            return next >= now - toleranceMs || now - lastFireAt < toleranceMs
        }
    }

    /// The fleet as `/metrics` shows it: counts per state, stale machines (as `status` marks them: a known
    /// state whose report expired while nobody watched, its catch-up check pending), and each machine's
    /// state when `perMachine` (one pass over memory, on the queue).
    public func metricsFleet(perMachine: Bool) -> (summary: FleetSummary, stale: Int, states: [(id: String, state: DriftState)]?) {
        queue.sync {
            let now = clock.nowMs()
            let stale = state.core.staleCount(now: now)
            let states = perMachine ? state.machines.map { (id: $0.key, state: $0.value.state) } : nil
            return (state.summary, stale, states)
        }
    }

    /// Counts per state and the time to the next check.
    public func currentSummary() -> (FleetSummary, Int64?) {
        queue.sync {
            let now = clock.nowMs()
            return (state.summary, state.core.earliestDue().map { max(0, $0 - now) })
        }
    }

    /// A copy of the policy state (for tests and the benchmark), taken on the engine queue.
    package func snapshot() -> EngineState {
        queue.sync { state }
    }
}

