import DriftCore
import DriftStore

extension EngineState {
    /// Rebuilds the book of machines for `settings.machines` (memory first when `keepMemory`, as on a
    /// reload; else the state file's rows, as on a start) and places them on the scheduler.
    public mutating func load(_ records: [MachineBookkeeping], keepMemory: Bool, now: Int64) {
        // Indices, not copies: a million rows of bookkeeping copied into a dictionary held 130 MB more at start.
        var byID: [String: Int] = [:]
        byID.reserveCapacity(records.count)
        for (index, record) in records.enumerated() { byID[record.id] = index }
        var next: [String: EngineMachine] = [:]
        next.reserveCapacity(settings.machines.count)
        var plans: [MachinePlan] = []
        plans.reserveCapacity(settings.machines.count)
        var counts = FleetSummary()
        for machine in settings.machines {
            // A new state file has no rows: no lookup (a million hash probes at a cold start).
            let record = records.isEmpty ? nil : byID[machine.id].map { records[$0] }
            var memory = (keepMemory ? machines[machine.id] : nil)
                ?? record.map { EngineMachine(bookkeeping: $0, failingAfter: settings.failingAfter) }
                ?? EngineMachine(name: machine.name, state: .unknown, observed: false, failures: 0)
            memory.name = machine.name
            next[machine.id] = memory
            counts.add(memory.state)
            if memory.failingAnnounced { counts.failing += 1 }
            plans.append(MachinePlan(
                id: machine.id, intervalMs: machine.intervalMs, lastSlotMs: record?.lastSlot,
                reportCreatedAtMs: record?.reportCreatedAt.map(EngineState.ms),
                reportExpiresAtMs: record?.reportExpiresAt.map(EngineState.ms),
                reportLocalExpiresAtMs: record?.reportLocalExpiresAt,
                lastCheckedMs: record?.lastCheckedAt,
                stateKnown: memory.state != .unknown))
        }
        machines = next
        summary = counts
        notify.policyActive = settings.usesPolicy
        core.setMachines(plans, now: now)
    }

    /// A reload's difference, with `settings` already the new ones: removed machines leave memory and
    /// the scheduler, added ones come from `records` (their state file rows) or start unknown, renamed
    /// ones keep their memory, and only added or re-timed machines are placed again. The same outcome as
    /// `load(_:keepMemory: true, now:)`, at a cost proportional to the change.
    mutating func apply(_ change: MachineSetChange, records: [MachineBookkeeping], now: Int64) {
        for id in change.removed {
            guard let old = machines.removeValue(forKey: id) else { continue }
            summary.add(old.state, -1)
            if old.failingAnnounced { summary.failing -= 1 }
        }
        var byID: [String: Int] = [:]
        for (index, record) in records.enumerated() { byID[record.id] = index }
        for (id, name) in change.upserts {
            if var memory = machines[id] {
                memory.name = name
                machines[id] = memory
                continue
            }
            var memory = byID[id].map { EngineMachine(bookkeeping: records[$0], failingAfter: settings.failingAfter) }
                ?? EngineMachine(name: name, state: .unknown, observed: false, failures: 0)
            memory.name = name
            machines[id] = memory
            summary.add(memory.state)
            if memory.failingAnnounced { summary.failing += 1 }
        }
        let plans = change.rescheduled.map { machine in
            // A new state file has no rows: no lookup (a million hash probes at a cold start).
            let record = records.isEmpty ? nil : byID[machine.id].map { records[$0] }
            return MachinePlan(
                id: machine.id, intervalMs: machine.intervalMs, lastSlotMs: record?.lastSlot,
                reportCreatedAtMs: record?.reportCreatedAt.map(EngineState.ms),
                reportExpiresAtMs: record?.reportExpiresAt.map(EngineState.ms),
                reportLocalExpiresAtMs: record?.reportLocalExpiresAt,
                lastCheckedMs: record?.lastCheckedAt,
                stateKnown: (machines[machine.id]?.state ?? .unknown) != .unknown)
        }
        core.updateMachines(plans, removing: change.removed, now: now)
    }

    /// Applies a step whose records are durable; returns whether the fleet summary changed.
    public mutating func commit(_ step: EngineStep) -> Bool {
        var changed = false
        for (machineID, machine) in step.machines {
            guard let old = machines[machineID] else { continue }
            if old.state != machine.state {
                summary.add(old.state, -1)
                summary.add(machine.state)
                changed = true
            }
            if old.failingAnnounced != machine.failingAnnounced {
                summary.failing += machine.failingAnnounced ? 1 : -1
                changed = true
            }
            machines[machineID] = machine
        }
        commitNotify(step)
        return changed
    }

    /// The step could not be written: its checks are tried again (same occurrences) after a backoff;
    /// memory keeps the machines as they were before the step.
    public mutating func storeFailed(_ step: EngineStep, now: Int64) {
        for (machineID, occurrence) in step.retryOnStoreFailure {
            core.retryAfterStoreFailure(machineID: machineID, occurrence: occurrence, now: now)
        }
        notify.putBack(step.notifyDue, at: now + 1_000)
    }
}

extension EngineMachine {
    public init(name: String?, state: DriftState, observed: Bool, failures: Int, report: ReportLife? = nil) {
        self.name = name
        self.state = state
        self.observed = observed
        self.failures = failures
        self.report = report
    }

    /// The memory a restart rebuilds from the state file's row.
    init(bookkeeping record: MachineBookkeeping, failingAfter: Int) {
        self.init(name: nil, state: record.state, observed: record.observed, failures: record.consecutiveFailures)
        if let id = record.reportID, let local = record.reportLocalExpiresAt ?? record.reportExpiresAt.map(EngineState.ms) {
            report = ReportLife(id: id, localExpiresAtMs: local)
        }
        failingAnnounced = record.consecutiveFailures >= failingAfter
    }
}
