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
            let record = byID[machine.id].map { records[$0] }
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
        core.setMachines(plans, now: now)
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
        return changed
    }

    /// The step could not be written: its checks are tried again (same occurrences) after a backoff;
    /// memory keeps the machines as they were before the step.
    public mutating func storeFailed(_ step: EngineStep, now: Int64) {
        for (machineID, occurrence) in step.retryOnStoreFailure {
            core.retryAfterStoreFailure(machineID: machineID, occurrence: occurrence, now: now)
        }
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
