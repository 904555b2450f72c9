import DriftCore
import Testing

/// After downtime, overdue machines are checked promptly but spread over the catch-up window; a slot already
/// done before the restart is not checked again.
@Suite("Catch-up after downtime")
struct CatchUpTests {
    static let interval = 15 * minute

    static func overduePlans(_ ids: [String], interval: Int64 = interval) -> [MachinePlan] {
        ids.map { id in
            let phase = SlotMath.phase(machineID: id, intervalMs: interval)
            // Last completed slot three days ago: the daemon was down since.
            let last = SlotMath.slotStart(containing: t0 - 3 * 24 * hour, intervalMs: interval, phaseMs: phase)
            return MachinePlan(id: id, intervalMs: interval, lastSlotMs: last, reportCreatedAtMs: last,
                               reportExpiresAtMs: last + interval, stateKnown: false)
        }
    }

    /// 1,000 machines over 600 buckets of 100 ms: about Poisson(λ = 1.67) per bucket. P(X ≥ 11) ≈ 1.5e-6, so
    /// with 600 buckets a uniform spread reaches 11 with probability under 0.1%; all at once would be 1,000.
    @Test("1,000 overdue machines are spread over the catch-up window, for their current slots")
    func overdueMachinesSpread() {
        let ids = machineIDs(1_000, prefix: "overdue-")
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 10_000, catchUpWindowMs: minute))
        harness.setMachines(Self.overduePlans(ids))
        harness.run(until: t0 + 2 * minute) { freshReport(now: $0.firedAt, ttl: hour) }

        let firsts = ids.compactMap { id in harness.checks.first { $0.machineID == id } }
        #expect(firsts.count == ids.count)
        #expect(firsts.allSatisfy { $0.firedAt >= t0 && $0.firedAt < t0 + minute })
        let perBucket = bucketCounts(firsts.map(\.firedAt), width: 100)
        let busiest = perBucket.values.max() ?? 0
        #expect(busiest <= 10, "\(busiest) checks in one 100 ms bucket")
        #expect(perBucket.count >= 400, "only \(perBucket.count) of 600 buckets used")
        // Each catches up on its current slot (one check, not one per missed slot).
        for check in firsts {
            let phase = SlotMath.phase(machineID: check.machineID, intervalMs: Self.interval)
            #expect(check.occurrence == Occurrence(kind: .scheduled, at: SlotMath.slotStart(containing: check.firedAt, intervalMs: Self.interval, phaseMs: phase)))
        }
        // Then each is back on its grid: any later check is exactly the next slot.
        for id in ids {
            let checks = harness.checks(of: id)
            #expect(checks.count <= 2)
            if checks.count == 2 { #expect(checks[1].occurrence == Occurrence(kind: .scheduled, at: checks[0].occurrence.at + Self.interval)) }
        }
    }

    @Test("the catch-up spread is the same after every restart (a stable order, not a random one)")
    func catchUpIsStable() {
        let ids = machineIDs(200, prefix: "overdue-")
        var first = SchedulerCore(settings: SchedulerSettings(), seed: 1)
        var second = SchedulerCore(settings: SchedulerSettings(), seed: 2)
        first.setMachines(Self.overduePlans(ids), now: t0)
        second.setMachines(Self.overduePlans(ids), now: t0)
        for id in ids {
            #expect(first.nextDue(machineID: id) == second.nextDue(machineID: id))
            #expect(first.nextDue(machineID: id) == t0 + SlotMath.catchUpDelay(machineID: id, windowMs: minute))
        }
    }

    @Test("the catch-up window never exceeds the interval")
    func windowBoundedByInterval() {
        let ids = machineIDs(300, prefix: "fast-")
        var core = SchedulerCore(settings: SchedulerSettings(catchUpWindowMs: 10 * minute))
        core.setMachines(Self.overduePlans(ids, interval: 5 * second), now: t0)
        for id in ids {
            let due = try! #require(core.nextDue(machineID: id))
            #expect(due >= t0 && due < t0 + 5 * second)
        }
    }

    @Test("a machine whose current slot completed before the restart is not checked again until its next slot")
    func noRecheckOnRestart() {
        let id = "mch_done"
        let phase = SlotMath.phase(machineID: id, intervalMs: Self.interval)
        let current = SlotMath.slotStart(containing: t0, intervalMs: Self.interval, phaseMs: phase)
        let plan = MachinePlan(id: id, intervalMs: Self.interval, lastSlotMs: current,
                               reportCreatedAtMs: current, reportExpiresAtMs: current + 2 * Self.interval, stateKnown: true)
        var harness = SchedulerHarness(now: t0)
        harness.setMachines([plan])
        #expect(harness.core.nextDue(machineID: id) == current + Self.interval)
        harness.run(until: current + Self.interval - 1) { freshReport(now: $0.firedAt, ttl: hour) }
        #expect(harness.checks.isEmpty)
        harness.run(until: current + Self.interval) { freshReport(now: $0.firedAt, ttl: hour) }
        #expect(harness.checks.map(\.occurrence) == [Occurrence(kind: .scheduled, at: current + Self.interval)])

        // Restarting again right after that check: still nothing until the slot after.
        var again = SchedulerHarness(now: current + Self.interval + 5 * second)
        again.setMachines([MachinePlan(id: id, intervalMs: Self.interval, lastSlotMs: current + Self.interval,
                                       reportCreatedAtMs: current + Self.interval, reportExpiresAtMs: current + Self.interval + hour,
                                       stateKnown: true)])
        again.run(until: current + 2 * Self.interval - 1)
        #expect(again.checks.isEmpty)
    }

    @Test("a restored report whose refresh time passed during downtime is refreshed within the catch-up window, before it expires")
    func refreshAfterDowntime() {
        let id = "mch_refresh_late"
        let phase = SlotMath.phase(machineID: id, intervalMs: Self.interval)
        let current = SlotMath.slotStart(containing: t0, intervalMs: Self.interval, phaseMs: phase)
        // Refresh was due at t0 - 30s (expires - 60s); the report expires at t0 + 30s.
        var harness = SchedulerHarness(settings: SchedulerSettings(refreshBeforeMs: minute, catchUpWindowMs: minute), now: t0)
        harness.setMachines([MachinePlan(id: id, intervalMs: Self.interval, lastSlotMs: current,
                                         reportCreatedAtMs: t0 - 10 * minute, reportExpiresAtMs: t0 + 30 * second, stateKnown: true)])
        let due = try! #require(harness.core.nextDue(machineID: id))
        #expect(due >= t0 && due < t0 + 30 * second)
        harness.run(until: t0 + 30 * second) { freshReport(now: $0.firedAt, ttl: hour) }
        #expect(harness.checks.map(\.occurrence.kind) == [.refresh])
        #expect(harness.expiries.isEmpty)
    }
}
