import DriftCore
import Testing

/// `staleCount(now:)` feeds `akua_driftd_machines_stale` from one pass over the scheduler's entries (a
/// lookup by id per machine cost a scrape 100,000 hashes on the engine queue). It must keep the meaning:
/// a machine whose state is known and whose report's local expiry has passed.
@Suite("staleCount")
struct StaleCountTests {
    @Test("after a restart, counts the known machines whose report expired during the downtime")
    func restoredFleet() {
        var rng = SplitMix64(seed: 7)
        let restart = 10 * hour
        var plans: [MachinePlan] = []
        var expected = 0
        for id in machineIDs(200) {
            let known = rng.next() % 4 != 0
            // Expiries before, at and after the restart instant (the instant itself is stale: `<=`).
            let expires = restart + [-hour, -1, 0, 1, hour][Int(rng.next() % 5)]
            plans.append(MachinePlan(
                id: id, intervalMs: 15 * minute, lastSlotMs: expires - hour, reportCreatedAtMs: expires - hour,
                reportExpiresAtMs: expires, stateKnown: known))
            if known && expires <= restart { expected += 1 }
        }
        var core = SchedulerCore(settings: SchedulerSettings())
        core.setMachines(plans, now: restart)
        #expect(core.staleCount(now: restart) == expected)
        #expect(expected > 0 && expected < plans.count, "the fixture mixes stale and fresh machines")
    }

    @Test("equals the number of machines isStale names, through a seeded random walk", arguments: [UInt64(1), 2, 3])
    func matchesPerMachineAnswer(seed: UInt64) {
        print("StaleCountTests seed \(seed)")
        var rng = SplitMix64(seed: seed)
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 4, catchUpWindowMs: 30 * second))
        var ids = machineIDs(30)
        harness.setMachines(ids.map { MachinePlan(id: $0, intervalMs: 5 * minute) })
        var next = 31
        var sawStale = false
        for step in 0..<2_000 {
            switch rng.next() % 10 {
            case 0:
                // A reload: one machine leaves (its entry stays behind, removed), one arrives.
                let gone = ids.remove(at: Int(rng.next() % UInt64(ids.count)))
                ids.append("mch_new\(next)")
                next += 1
                harness.core.updateMachines([MachinePlan(id: ids[ids.count - 1], intervalMs: 5 * minute)], removing: [gone], now: harness.now)
            case 1:
                harness.core.clockJumped(byMs: Int64(rng.next() % 120_000) - 60_000, now: harness.now)
            case 2...5:
                // Reports short enough to lapse between checks, retries and skips.
                if let id = harness.outstanding.keys.sorted().first {
                    let outcomes: [CheckOutcome] = [
                        freshReport(now: harness.now, ttl: [10 * second, 2 * minute, hour][Int(rng.next() % 3)]),
                        .retry(retryAfterMs: nil), .skip(stateKnown: rng.next() % 2 == 0),
                    ]
                    harness.complete(id, outcomes[Int(rng.next() % 3)])
                }
            default:
                harness.now += Int64(rng.next() % 90_000)
                _ = harness.fire()
            }
            let expected = ids.filter { harness.core.isStale(machineID: $0, now: harness.now) }.count
            sawStale = sawStale || expected > 0
            let actual = harness.core.staleCount(now: harness.now)
            #expect(actual == expected, "seed \(seed), step \(step)")
            if actual != expected { return }
        }
        #expect(sawStale, "seed \(seed): the walk never made a machine stale")
    }
}
