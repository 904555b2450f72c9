import DriftCore
import Testing

/// Each machine is checked once per interval at its own stable phase, and a fleet spreads over the interval.
@Suite("Scheduler rhythm and phases")
struct SchedulerRhythmTests {
    @Test("each machine is checked exactly once per interval, on its phase grid after the first check")
    func oncePerIntervalAtPhase() {
        let interval = 5 * minute
        var harness = SchedulerHarness()
        let ids = machineIDs(40)
        harness.setMachines(ids.map { MachinePlan(id: $0, intervalMs: interval) })
        let end = t0 + 10 * interval
        harness.run(until: end) { freshReport(now: $0.firedAt, ttl: 10 * interval) }

        for id in ids {
            let phase = SlotMath.phase(machineID: id, intervalMs: interval)
            let checks = harness.checks(of: id)
            guard let first = checks.first else {
                Issue.record("\(id) was never checked")
                continue
            }
            // A machine with no history is checked first within the catch-up window, for its current slot.
            #expect(first.firedAt == t0 + SlotMath.catchUpDelay(machineID: id, windowMs: minute))
            #expect(first.occurrence == Occurrence(
                kind: .scheduled, at: SlotMath.slotStart(containing: first.firedAt, intervalMs: interval, phaseMs: phase)))
            // Then exactly at every slot start of its grid, never twice for one slot.
            let rest = checks.dropFirst()
            let expectedSlots = Array(stride(from: first.occurrence.at + interval, through: end, by: Int(interval)))
            #expect(rest.map(\.firedAt) == expectedSlots, "\(id)")
            #expect(rest.allSatisfy { $0.occurrence == Occurrence(kind: .scheduled, at: $0.firedAt) && $0.attempt == 1 })
            #expect(rest.allSatisfy { floorMod($0.firedAt - phase, interval) == 0 })
            #expect(Set(checks.map(\.occurrence)).count == checks.count)
        }
        #expect(harness.expiries.isEmpty)
    }

    @Test("the phase of a machine is the same in every scheduler instance (restart, second replica)")
    func phasesAreStableAcrossInstances() {
        let interval = 15 * minute
        let ids = machineIDs(500) + ["web-1", "db.primary", "façade-ü", "🚀-launcher", String(repeating: "x", count: 54)]
        // Both restored from the same state: the current slot of each machine is done.
        let plans = ids.map { id in
            let phase = SlotMath.phase(machineID: id, intervalMs: interval)
            return MachinePlan(id: id, intervalMs: interval,
                               lastSlotMs: SlotMath.slotStart(containing: t0, intervalMs: interval, phaseMs: phase))
        }
        var first = SchedulerCore(settings: SchedulerSettings(), seed: 1)
        var second = SchedulerCore(settings: SchedulerSettings(maxInFlight: 3), seed: 0xdead_beef)
        first.setMachines(plans, now: t0)
        second.setMachines(plans.reversed(), now: t0 + 1_234)
        for plan in plans {
            let phase = SlotMath.phase(machineID: plan.id, intervalMs: interval)
            #expect((0..<interval).contains(phase))
            #expect(first.nextDue(machineID: plan.id) == plan.lastSlotMs! + interval)
            #expect(second.nextDue(machineID: plan.id) == first.nextDue(machineID: plan.id))
        }
        // Pinned values: a change of the hash would move every machine's rhythm (and its keys) on upgrade.
        #expect(SlotMath.phase(machineID: "web-1", intervalMs: interval) == 849_439)
        #expect(SlotMath.phase(machineID: "mch_00000", intervalMs: interval) == 687_908)
    }

    /// 10,000 machines over 900 one-second bins: with uniformly spread phases the count per second is about
    /// Poisson(λ = 11.1). P(X ≥ 30) ≈ 2.1e-6, so by the union bound over 900 seconds the chance that a uniform
    /// spread puts 30 or more in some second is under 0.2%: a bound of 29 fails only for a skewed hash.
    /// And P(X = 0) = e^-11.1 ≈ 1.5e-5, so (expectedly ~0.013 empty seconds) at least 890 of the 900 seconds see a check.
    @Test("10,000 machines on a 15m interval never put more than 29 checks in one second", arguments: [
        "mch_", "web-", "prod-eu-west-1/rack-07/host-",
    ])
    func fleetSpreadsOverTheInterval(prefix: String) {
        let interval = 15 * minute
        let count = 10_000
        var harness = SchedulerHarness()
        let ids = machineIDs(count, prefix: prefix)
        harness.setMachines(ids.map { MachinePlan(id: $0, intervalMs: interval) })
        let windowStart = t0 + interval + minute
        harness.run(until: windowStart + interval) { freshReport(now: $0.firedAt, ttl: 3 * interval) }

        // Steady state: any window of one interval holds exactly one check per machine.
        let window = harness.checks.filter { $0.firedAt >= windowStart && $0.firedAt < windowStart + interval }
        #expect(window.count == count)
        #expect(Set(window.map(\.machineID)).count == count)

        let perSecond = bucketCounts(window.map(\.firedAt), width: second)
        let busiest = perSecond.values.max() ?? 0
        #expect(busiest <= 29, "busiest second has \(busiest) checks")
        #expect(busiest < count)
        #expect(perSecond.count >= 890, "only \(perSecond.count) of 900 seconds see a check")
    }
}
