import DriftCore
import Testing

/// `setMachines` on reload: unchanged machines keep their rhythm and keys, removed ones go (even mid-check),
/// changed intervals re-place, and in-flight accounting survives removal and re-adding.
@Suite("Reload via setMachines")
struct ReloadTests {
    static let interval = 15 * minute
    static let ids = machineIDs(20)

    static func plans(_ ids: [String], interval: Int64 = interval) -> [MachinePlan] {
        ids.map { MachinePlan(id: $0, intervalMs: interval) }
    }

    @Test("unchanged machines keep their due times and keys across a reload")
    func unchangedMachinesKeepRhythm() {
        var control = SchedulerHarness()
        var reloaded = SchedulerHarness()
        control.setMachines(Self.plans(Self.ids))
        reloaded.setMachines(Self.plans(Self.ids))
        let ok = { (event: CheckEvent) -> CheckOutcome? in freshReport(now: event.firedAt, ttl: hour) }
        control.run(until: t0 + Self.interval + 7 * minute, outcome: ok)
        reloaded.run(until: t0 + Self.interval + 7 * minute, outcome: ok)

        let before = Self.ids.map { reloaded.core.nextDue(machineID: $0) }
        // The reload hands in plans without any history (as from a config), plus new machines, reordered.
        reloaded.setMachines((Self.plans(Self.ids) + Self.plans(["new-1", "new-2"])).reversed())
        #expect(Self.ids.map { reloaded.core.nextDue(machineID: $0) } == before)
        #expect(reloaded.core.machineCount == 22)

        control.run(until: t0 + 4 * Self.interval, outcome: ok)
        reloaded.run(until: t0 + 4 * Self.interval, outcome: ok)
        let old = Set(Self.ids)
        #expect(reloaded.checks.filter { old.contains($0.machineID) } == control.checks)
        #expect(reloaded.checks(of: "new-1").count >= 3)
    }

    @Test("removed machines disappear: no due time, no more checks")
    func removedMachinesDisappear() {
        var harness = SchedulerHarness()
        harness.setMachines(Self.plans(Self.ids))
        harness.run(until: t0 + Self.interval) { freshReport(now: $0.firedAt, ttl: hour) }
        let removed = Set(Self.ids.prefix(5))
        harness.setMachines(Self.plans(Array(Self.ids.dropFirst(5))))
        #expect(harness.core.machineCount == 15)
        for id in removed { #expect(harness.core.nextDue(machineID: id) == nil) }
        let reloadedAt = harness.now
        harness.run(until: t0 + 5 * Self.interval) { freshReport(now: $0.firedAt, ttl: hour) }
        #expect(!harness.checks.contains { removed.contains($0.machineID) && $0.firedAt > reloadedAt })
        #expect(harness.expiries.isEmpty)
        harness.setMachines([])
        #expect(harness.core.machineCount == 0)
        #expect(harness.core.earliestDue() == nil)
    }

    @Test("a machine removed while its check is in flight disappears when the check completes")
    func removedWhileInFlight() {
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 4))
        harness.setMachines(Self.plans(Self.ids))
        let victim = Self.ids[3]
        harness.run(until: t0 + 2 * minute) { $0.machineID == victim ? nil : freshReport(now: $0.firedAt, ttl: hour) }
        #expect(harness.outstanding.keys.sorted() == [victim])
        #expect(harness.core.inFlight == 1)

        harness.setMachines(Self.plans(Self.ids.filter { $0 != victim }))
        #expect(harness.core.inFlight == 1)
        harness.complete(victim, freshReport(now: harness.now, ttl: hour))
        #expect(harness.core.inFlight == 0)
        #expect(harness.core.nextDue(machineID: victim) == nil)
        let checksBefore = harness.checks(of: victim).count
        harness.run(until: t0 + 3 * Self.interval) { freshReport(now: $0.firedAt, ttl: hour) }
        #expect(harness.checks(of: victim).count == checksBefore)
        #expect(harness.core.inFlight == 0)
        // All four request slots are still usable: nobody else got stuck.
        for id in Self.ids where id != victim { #expect(harness.checks(of: id).count >= 3) }

        // Added back later: a fresh machine, checked within the catch-up window.
        let readdedAt = harness.now
        harness.setMachines(Self.plans(Self.ids))
        harness.run(until: readdedAt + minute) { freshReport(now: $0.firedAt, ttl: hour) }
        #expect(harness.checks(of: victim).count == checksBefore + 1)
    }

    @Test("a machine removed while waiting for a request slot is never checked")
    func removedWhileQueued() {
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 1, catchUpWindowMs: 0))
        harness.setMachines(Self.plans(["mch_a", "mch_b"]))
        harness.fire()
        let running = try! #require(harness.outstanding.keys.first)
        let waiting = running == "mch_a" ? "mch_b" : "mch_a"
        harness.setMachines(Self.plans([running]))
        harness.complete(running, freshReport(now: t0, ttl: hour))
        harness.run(until: t0 + 2 * Self.interval) { freshReport(now: $0.firedAt, ttl: hour) }
        #expect(harness.checks(of: waiting).isEmpty)
        #expect(harness.checks(of: running).count == 3)
        // Removed and re-added while still waiting: checked once, not twice.
        var again = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 1, catchUpWindowMs: 0))
        again.setMachines(Self.plans(["mch_a", "mch_b"]))
        again.fire()
        let first = try! #require(again.outstanding.keys.first)
        let second = first == "mch_a" ? "mch_b" : "mch_a"
        again.setMachines(Self.plans([first]))
        again.setMachines(Self.plans(["mch_a", "mch_b"]))
        again.complete(first, freshReport(now: t0, ttl: hour))
        again.run(until: t0 + minute) { freshReport(now: $0.firedAt, ttl: hour) }
        #expect(again.checks(of: second).count == 1)
    }

    @Test("a changed interval re-places the machine on its new grid")
    func changedIntervalReplaces() {
        var harness = SchedulerHarness()
        let id = "mch_cadence"
        harness.setMachines(Self.plans([id]))
        harness.run(until: t0 + 2 * Self.interval) { freshReport(now: $0.firedAt, ttl: hour) }
        let reloadAt = harness.now
        let newInterval = 5 * minute
        harness.setMachines(Self.plans([id], interval: newInterval))
        let due = try! #require(harness.core.nextDue(machineID: id))
        #expect(due <= reloadAt + newInterval)
        harness.run(until: reloadAt + 6 * newInterval) { freshReport(now: $0.firedAt, ttl: hour) }
        let after = harness.checks(of: id).filter { $0.firedAt >= reloadAt }
        let phase = SlotMath.phase(machineID: id, intervalMs: newInterval)
        #expect(after.count >= 5)
        for (previous, next) in zip(after.dropFirst(), after.dropFirst(2)) {
            #expect(next.firedAt - previous.firedAt == newInterval)
        }
        #expect(after.dropFirst().allSatisfy { floorMod($0.firedAt - phase, newInterval) == 0 && $0.occurrence.at == $0.firedAt })
        #expect(Set(after.map(\.occurrence)).count == after.count)
    }

    @Test("a machine removed and re-added while in flight keeps the in-flight accounting right")
    func removedAndReaddedWhileInFlight() {
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 2, catchUpWindowMs: 0))
        let id = "mch_flip"
        harness.setMachines(Self.plans([id, "mch_other"]))
        harness.fire()
        #expect(harness.core.inFlight == 2)
        harness.complete("mch_other", freshReport(now: t0, ttl: hour))
        let pending = try! #require(harness.outstanding[id])

        harness.setMachines(Self.plans(["mch_other"]))
        harness.setMachines(Self.plans([id, "mch_other"]))
        #expect(harness.core.machineCount == 2)
        #expect(harness.core.inFlight == 1)
        // While still in flight it is not started a second time (the harness flags concurrent checks).
        harness.run(until: t0 + 2 * minute)
        #expect(harness.outstanding.count == 1)
        harness.now = t0 + 2 * minute
        harness.complete(id, freshReport(now: harness.now, ttl: hour))
        #expect(harness.core.inFlight == 0)
        // Completing counted for the machine: its slot is done and the next check is the next slot.
        #expect(harness.core.nextDue(machineID: id) == pending.occurrence.at + Self.interval)
        harness.run(until: t0 + 3 * Self.interval) { freshReport(now: $0.firedAt, ttl: hour) }
        #expect(harness.core.inFlight == 0)
        #expect(harness.checks(of: id).count == 4)
        #expect(harness.peakOutstanding <= 2)
    }

    @Test("a machine removed and re-added while in flight still expires if that check fails")
    func readdedWhileInFlightStillExpires() {
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 2, catchUpWindowMs: 0))
        let id = "mch_flip"
        harness.setMachines(Self.plans([id]))
        harness.run(until: t0) { freshReport(now: $0.firedAt, ttl: 5 * minute) }
        // The refresh check (at +4m) hangs; meanwhile the machine is removed and added back.
        harness.run(until: t0 + 4 * minute)
        #expect(harness.outstanding[id]?.occurrence.kind == .refresh)
        harness.setMachines([])
        harness.setMachines(Self.plans([id]))
        harness.complete(id, .retry(retryAfterMs: 2 * minute))
        harness.run(until: t0 + 10 * minute) { _ in .retry(retryAfterMs: nil) }
        #expect(harness.expiries.map(\.firedAt) == [t0 + 5 * minute])
    }
}
