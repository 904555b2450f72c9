import DriftCore
import Testing

/// At most `maxInFlight` checks outstanding; waiting machines go in due order; `nextWakeup()` tells the adapter.
@Suite("max_in_flight and nextWakeup")
struct MaxInFlightTests {
    static let interval = 15 * minute

    @Test("never more than maxInFlight checks outstanding, whatever the completion order", arguments: [1, 4, 16])
    func neverMoreThanMax(maxInFlight: Int) {
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: maxInFlight, catchUpWindowMs: 10 * second))
        let ids = machineIDs(200)
        harness.setMachines(ids.map { MachinePlan(id: $0, intervalMs: Self.interval) })
        var rng = SplitMix64(seed: UInt64(maxInFlight))
        // Each check takes 0-3 s; completions arrive in random order.
        var finishing: [(at: Int64, id: String)] = []
        while harness.now < t0 + 3 * Self.interval {
            let nextFinish = finishing.map(\.at).min() ?? .max
            let wake = harness.core.nextWakeup().map { $0 == .min ? harness.now : $0 } ?? .max
            harness.now = max(harness.now, min(nextFinish, wake, t0 + 3 * Self.interval))
            for finished in finishing.filter({ $0.at <= harness.now }) {
                harness.complete(finished.id, freshReport(now: harness.now, ttl: hour))
            }
            finishing.removeAll { $0.at <= harness.now }
            for action in harness.fire() {
                if case .check(let id, _, _, _) = action {
                    finishing.append((harness.now + Int64.random(in: 0...3_000, using: &rng), id))
                }
            }
            #expect(harness.outstanding.count <= maxInFlight)
            #expect(harness.core.inFlight == harness.outstanding.count)
        }
        #expect(harness.peakOutstanding == maxInFlight)
        // Everybody got their checks: 200 machines x 3 intervals (first check + 2 slots, or so).
        for id in ids { #expect(harness.checks(of: id).count >= 2) }
    }

    @Test("completions release slots to waiting machines in due order")
    func dueOrder() {
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 3, catchUpWindowMs: minute))
        let ids = machineIDs(50)
        harness.setMachines(ids.map { MachinePlan(id: $0, intervalMs: Self.interval) })
        let dues = ids.map { harness.core.nextDue(machineID: $0)! }.sorted()
        // Nothing completes for a minute: the first three run, the others queue up as they fall due.
        harness.run(until: t0 + minute)
        #expect(harness.checks.count == 3)
        #expect(harness.core.inFlight == 3)
        // Full: the adapter need not wake before a completion (no timer is armed, everybody is waiting).
        #expect(harness.core.nextWakeup() == nil)
        while let oldest = harness.outstanding.values.min(by: { $0.dueAtMs < $1.dueAtMs }) {
            harness.complete(oldest.machineID, freshReport(now: harness.now, ttl: hour))
            if harness.checks.count < 50 {
                #expect(harness.core.nextWakeup() == .min, "a free slot and a waiting machine: fire now")
            }
            let actions = harness.fire()
            #expect(actions.count <= 1, "one completion frees one slot")
            #expect(harness.outstanding.count <= 3)
        }
        #expect(harness.checks.count == 50)
        #expect(harness.checks.map(\.dueAtMs) == dues)
        // Each check was started for the slot containing the moment it actually ran.
        for check in harness.checks {
            let phase = SlotMath.phase(machineID: check.machineID, intervalMs: Self.interval)
            #expect(check.occurrence.at == SlotMath.slotStart(containing: check.firedAt, intervalMs: Self.interval, phaseMs: phase))
        }
    }

    @Test("nextWakeup: nil when idle, the earliest due time, .min when a waiting machine can start, nothing early")
    func nextWakeupBehaviour() {
        var core = SchedulerCore(settings: SchedulerSettings(maxInFlight: 1, catchUpWindowMs: 0))
        #expect(core.nextWakeup() == nil)
        #expect(core.fire(now: t0).isEmpty)
        #expect(core.earliestDue() == nil)

        let a = "mch_a", b = "mch_b"
        let phaseA = SlotMath.phase(machineID: a, intervalMs: Self.interval)
        let phaseB = SlotMath.phase(machineID: b, intervalMs: Self.interval)
        let nextA = SlotMath.nextSlot(after: t0, intervalMs: Self.interval, phaseMs: phaseA)
        let nextB = SlotMath.nextSlot(after: t0, intervalMs: Self.interval, phaseMs: phaseB)
        core.setMachines([
            MachinePlan(id: a, intervalMs: Self.interval, lastSlotMs: nextA - Self.interval),
            MachinePlan(id: b, intervalMs: Self.interval, lastSlotMs: nextB - Self.interval),
        ], now: t0)
        #expect(core.nextWakeup() == min(nextA, nextB))
        #expect(core.earliestDue() == min(nextA, nextB))
        #expect(core.fire(now: min(nextA, nextB) - 1).isEmpty)

        // Both due: one runs, the other waits for the single slot.
        let late = max(nextA, nextB)
        let started = core.fire(now: late)
        #expect(started.count == 1)
        #expect(core.inFlight == 1)
        #expect(core.nextWakeup() == nil)
        guard case .check(let first, let occurrence, _, _) = started.first else { return }
        #expect(core.nextDue(machineID: first) == nil)
        core.complete(machineID: first, occurrence: occurrence, outcome: .report(createdAtMs: late, expiresAtMs: late + 3 * Self.interval), now: late)
        #expect(core.nextWakeup() == .min)
        let second = core.fire(now: late)
        #expect(second.count == 1)
        // Full again: the next wake-up is the first machine's next slot.
        #expect(core.nextWakeup() == min(nextA, nextB) + Self.interval)
        guard case .check(let other, let otherOccurrence, _, _) = second.first else { return }
        #expect(other != first)
        core.complete(machineID: other, occurrence: otherOccurrence, outcome: .report(createdAtMs: late, expiresAtMs: late + 3 * Self.interval), now: late)
        #expect(core.nextWakeup() == min(nextA, nextB) + Self.interval)
        #expect(core.inFlight == 0)
    }

    @Test("a completion for an unknown machine or a stale occurrence changes nothing")
    func strayCompletions() {
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 2, catchUpWindowMs: 0))
        harness.setMachines([MachinePlan(id: "mch_a", intervalMs: Self.interval)])
        harness.fire()
        #expect(harness.core.inFlight == 1)
        let event = harness.outstanding["mch_a"]!
        harness.core.complete(machineID: "nobody", occurrence: event.occurrence, outcome: .skip(stateKnown: false), now: t0)
        harness.core.complete(machineID: "mch_a", occurrence: Occurrence(kind: .scheduled, at: event.occurrence.at - 1),
                              outcome: .skip(stateKnown: false), now: t0)
        #expect(harness.core.inFlight == 1)
        harness.complete("mch_a", freshReport(now: t0, ttl: hour))
        #expect(harness.core.inFlight == 0)
        // A duplicate completion does not drive the counter below zero.
        harness.core.complete(machineID: "mch_a", occurrence: event.occurrence, outcome: .skip(stateKnown: false), now: t0)
        #expect(harness.core.inFlight == 0)
    }
}
