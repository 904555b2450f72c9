import DriftCore
import Testing

/// 2026-01-01T00:00:00Z in unix ms: a realistic epoch for the fake clock.
let t0: Int64 = 1_767_225_600_000
let second: Int64 = 1_000
let minute: Int64 = 60_000
let hour: Int64 = 3_600_000

/// One `.check` action the scheduler returned, with the fake-clock time it was returned at.
struct CheckEvent: Hashable {
    var machineID: String
    var occurrence: Occurrence
    var attempt: Int
    var dueAtMs: Int64
    var firedAt: Int64
}

/// Steps a `SchedulerCore` with a fake clock: wakes it when it asks, runs the actions it returns and
/// completes checks (immediately, or later by hand) without sleeping.
struct SchedulerHarness {
    var core: SchedulerCore
    var now: Int64
    var checks: [CheckEvent] = []
    var expiries: [(machineID: String, expiresAtMs: Int64, firedAt: Int64)] = []
    /// Checks returned but not completed yet, by machine.
    var outstanding: [String: CheckEvent] = [:]
    /// The largest number of checks outstanding at once.
    var peakOutstanding = 0
    /// Set when the scheduler asked to be woken at `now` again and again without doing anything.
    var busyLoopAt: Int64?

    init(settings: SchedulerSettings = SchedulerSettings(maxInFlight: 1_000_000), seed: UInt64 = 1, now: Int64 = t0) {
        core = SchedulerCore(settings: settings, seed: seed)
        self.now = now
    }

    mutating func setMachines(_ plans: [MachinePlan]) {
        core.setMachines(plans, now: now)
    }

    /// Fires the scheduler at every wake-up it asks for up to `until` (inclusive), then sets the clock to
    /// `until`. Each check is completed at once with `outcome(check)`, or left outstanding when that is nil.
    mutating func run(until: Int64, outcome: (CheckEvent) -> CheckOutcome? = { _ in nil }) {
        var idleFiresAtSameInstant = 0
        while let wake = core.nextWakeup() {
            let at = wake == .min ? now : max(now, wake)
            if at > until { break }
            if at == now { idleFiresAtSameInstant += 1 } else { idleFiresAtSameInstant = 0 }
            now = at
            let actions = fire()
            if !actions.isEmpty { idleFiresAtSameInstant = 0 }
            if idleFiresAtSameInstant > 10_000 {
                busyLoopAt = now
                break
            }
            for action in actions {
                guard case .check(let machineID, _, _, _) = action, let event = outstanding[machineID],
                      let result = outcome(event) else { continue }
                complete(machineID, result)
            }
        }
        now = max(now, until)
    }

    /// One `fire(now:)` at the current fake time, recording what it returned.
    @discardableResult
    mutating func fire() -> [SchedulerAction] {
        let actions = core.fire(now: now)
        for action in actions {
            switch action {
            case .check(let machineID, let occurrence, let attempt, let dueAtMs):
                let event = CheckEvent(machineID: machineID, occurrence: occurrence, attempt: attempt, dueAtMs: dueAtMs, firedAt: now)
                #expect(outstanding[machineID] == nil, "second concurrent check of \(machineID)")
                outstanding[machineID] = event
                checks.append(event)
            case .expire(let machineID, let expiresAtMs):
                expiries.append((machineID, expiresAtMs, now))
            }
        }
        peakOutstanding = max(peakOutstanding, outstanding.count)
        return actions
    }

    /// Completes the outstanding check of `machineID` at the current fake time.
    mutating func complete(_ machineID: String, _ outcome: CheckOutcome) {
        guard let event = outstanding.removeValue(forKey: machineID) else {
            Issue.record("no outstanding check of \(machineID)")
            return
        }
        core.complete(machineID: machineID, occurrence: event.occurrence, outcome: outcome, now: now)
    }

    /// The checks of one machine, in order.
    func checks(of machineID: String) -> [CheckEvent] { checks.filter { $0.machineID == machineID } }
}

/// A report created now that expires `ttl` later.
func freshReport(now: Int64, ttl: Int64) -> CheckOutcome {
    .report(createdAtMs: now, expiresAtMs: now + ttl)
}

/// Sequential machine ids (`mch_00000`, `mch_00001`, ...): the worst case for a weak hash.
func machineIDs(_ count: Int, prefix: String = "mch_") -> [String] {
    (0..<count).map { index in
        let digits = String(index)
        return prefix + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }
}

/// Counts of `times` per bucket of `width` ms.
func bucketCounts(_ times: [Int64], width: Int64) -> [Int64: Int] {
    var counts: [Int64: Int] = [:]
    for time in times { counts[floorDiv(time, width), default: 0] += 1 }
    return counts
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
