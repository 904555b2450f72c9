import DriftCore
import Testing

/// `earliestDue()` answers from the timer heap when it can (the status line asks each second, and a scan of
/// 100,000 machines cost 4% of the idle daemon's CPU). Its answer must stay the definition: the minimum of
/// `nextDue(machineID:)` over the watched machines, whatever happened before.
@Suite("earliestDue")
struct EarliestDueTests {
    @Test("equals the minimum of nextDue over every machine through a seeded random walk", arguments: [UInt64(1), 2, 3, 4, 5])
    func matchesDefinition(seed: UInt64) {
        print("EarliestDueTests seed \(seed)")
        var rng = SplitMix64(seed: seed)
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 4, catchUpWindowMs: 30 * second))
        var ids = machineIDs(40)
        func interval() -> Int64 { [minute, 5 * minute, 15 * minute][Int(rng.next() % 3)] }
        harness.setMachines(ids.map { MachinePlan(id: $0, intervalMs: interval()) })
        var next = 41

        func definition() -> Int64? {
            ids.compactMap { harness.core.nextDue(machineID: $0) }.min()
        }

        for step in 0..<3_000 {
            switch rng.next() % 20 {
            case 0:
                // A reload: one machine leaves, one arrives, one changes its interval.
                let gone = ids.remove(at: Int(rng.next() % UInt64(ids.count)))
                let added = "mch_new\(next)"
                next += 1
                ids.append(added)
                let changed = ids[Int(rng.next() % UInt64(ids.count))]
                harness.core.updateMachines(
                    [MachinePlan(id: added, intervalMs: interval()), MachinePlan(id: changed, intervalMs: interval())],
                    removing: [gone], now: harness.now)
            case 1:
                harness.core.clockJumped(byMs: Int64(rng.next() % 120_000) - 60_000, now: harness.now)
            case 2:
                harness.core.pauseFleet(untilMs: harness.now + Int64(rng.next() % 20_000))
            case 3:
                harness.core.resumeFleet()
            case 4...9:
                // Complete one outstanding check: a fresh report, a retry or a skip.
                if let id = harness.outstanding.keys.sorted().first {
                    let outcomes: [CheckOutcome] = [
                        freshReport(now: harness.now, ttl: [30 * minute, hour][Int(rng.next() % 2)]),
                        .retry(retryAfterMs: rng.next() % 2 == 0 ? nil : 5_000), .skip(stateKnown: rng.next() % 2 == 0),
                    ]
                    harness.complete(id, outcomes[Int(rng.next() % 3)])
                }
            default:
                // Time passes to somewhere before, at or after the next wake-up, and the timers fire.
                let wake = harness.core.nextWakeup().map { $0 == .min ? harness.now : $0 } ?? harness.now + minute
                harness.now = max(harness.now, wake + Int64(rng.next() % 3_000) - 1_000)
                _ = harness.fire()
            }
            let expected = definition()
            let actual = harness.core.earliestDue()
            #expect(actual == expected, "seed \(seed), step \(step): earliestDue \(String(describing: actual)), nextDue min \(String(describing: expected))")
            if actual != expected { return }
        }
    }
}
