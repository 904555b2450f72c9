import DriftCore
import Testing

/// The wall clock jumps (NTP step, suspend/resume, an operator): no burst of checks, no key reused for
/// a different occurrence.
@Suite("Wall-clock jumps")
struct ClockJumpTests {
    static let interval = 15 * minute
    static let ids = machineIDs(1_000, prefix: "jump-")

    static func key(_ event: CheckEvent) -> String {
        IdempotencyKey(machineID: event.machineID, occurrence: event.occurrence, trigger: "scheduled").value
    }

    /// A fleet in steady state: every machine checked at its slots for a while (reports live a day).
    static func steadyFleet(maxInFlight: Int = 1_000_000) -> SchedulerHarness {
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: maxInFlight, catchUpWindowMs: minute))
        harness.setMachines(ids.map { MachinePlan(id: $0, intervalMs: interval) })
        harness.run(until: t0 + 2 * interval) { freshReport(now: $0.firedAt, ttl: 24 * hour) }
        return harness
    }

    /// Same bound as after downtime: 1,000 machines over 600 buckets of 100 ms, at most 10 per bucket.
    @Test("forward by one hour: overdue machines are spread over the catch-up window, for their current slots")
    func forwardJump() {
        var harness = Self.steadyFleet()
        let usedKeys = Set(harness.checks.map { Self.key($0) })
        let checksBefore = harness.checks.count
        let jumpedTo = harness.now + hour
        harness.now = jumpedTo
        harness.run(until: jumpedTo + 2 * minute) { freshReport(now: $0.firedAt, ttl: 24 * hour) }

        let after = Array(harness.checks[checksBefore...])
        let firsts = Self.ids.compactMap { id in after.first { $0.machineID == id } }
        #expect(firsts.count == Self.ids.count)
        #expect(firsts.allSatisfy { $0.firedAt >= jumpedTo && $0.firedAt < jumpedTo + minute })
        let perBucket = bucketCounts(firsts.map(\.firedAt), width: 100)
        let busiest = perBucket.values.max() ?? 0
        #expect(busiest <= 10, "\(busiest) checks in one 100 ms bucket right after the jump")
        for check in after {
            let phase = SlotMath.phase(machineID: check.machineID, intervalMs: Self.interval)
            #expect(check.occurrence == Occurrence(kind: .scheduled, at: SlotMath.slotStart(containing: check.firedAt, intervalMs: Self.interval, phaseMs: phase)))
            #expect(!usedKeys.contains(Self.key(check)))
        }
        #expect(Set(after.map(\.occurrence)).count >= 1)
        #expect(harness.expiries.isEmpty)
    }

    @Test("forward by one hour with a small max_in_flight: still no burst beyond the catch-up spread")
    func forwardJumpSmallConcurrency() {
        var harness = Self.steadyFleet(maxInFlight: 8)
        let checksBefore = harness.checks.count
        harness.now += hour
        let jumpedTo = harness.now
        harness.run(until: jumpedTo + 2 * minute) { freshReport(now: $0.firedAt, ttl: 24 * hour) }
        let after = harness.checks[checksBefore...]
        let perBucket = bucketCounts(after.filter { $0.firedAt < jumpedTo + minute }.map(\.firedAt), width: 100)
        #expect((perBucket.values.max() ?? 0) <= 10)
        #expect(Set(after.map(\.machineID)).count == Self.ids.count)
    }

    @Test("back by one hour: no check until the clock passes each machine's last completed slot; no key reused")
    func backwardJump() {
        var harness = Self.steadyFleet()
        var lastSlot: [String: Int64] = [:]
        for check in harness.checks { lastSlot[check.machineID] = max(lastSlot[check.machineID] ?? .min, check.occurrence.at) }
        let checksBefore = harness.checks.count
        let jumpedFrom = harness.now
        harness.now = jumpedFrom - hour
        harness.run(until: jumpedFrom + 2 * Self.interval) { freshReport(now: $0.firedAt, ttl: 24 * hour) }

        let after = harness.checks[checksBefore...]
        #expect(!after.isEmpty)
        for check in after {
            let last = lastSlot[check.machineID]!
            #expect(check.firedAt > last, "\(check.machineID) checked at \(check.firedAt), before its last completed slot \(last)")
            #expect(check.occurrence.at > last)
        }
        // Nothing at all during the replayed hour.
        #expect(!after.contains { $0.firedAt < jumpedFrom - Self.interval })
        // One key per occurrence, one occurrence per key, over the whole run.
        let pairs = Set(harness.checks.map { "\($0.machineID)|\($0.occurrence)" })
        let keys = Set(harness.checks.map { Self.key($0) })
        #expect(pairs.count == harness.checks.count)
        #expect(keys.count == pairs.count)
    }

    @Test("back by one hour while checks are in flight or backing off: retries keep their key, completed slots stay done")
    func backwardJumpMidCheck() {
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 100, catchUpWindowMs: minute))
        let ids = machineIDs(50, prefix: "mid-")
        harness.setMachines(ids.map { MachinePlan(id: $0, intervalMs: Self.interval) })
        harness.run(until: t0 + minute)
        #expect(harness.outstanding.count == 50)
        let original = harness.outstanding
        harness.now -= hour
        // Half succeed, half fail and retry (back-off measured on the jumped clock).
        for (index, id) in ids.enumerated() {
            harness.complete(id, index.isMultiple(of: 2) ? freshReport(now: harness.now, ttl: 24 * hour) : .retry(retryAfterMs: nil))
        }
        harness.run(until: t0 + 2 * Self.interval) { freshReport(now: $0.firedAt, ttl: 24 * hour) }
        for (index, id) in ids.enumerated() {
            let checks = harness.checks(of: id)
            if index.isMultiple(of: 2) {
                // Done: the next check is the next slot, not an earlier one.
                #expect(checks.dropFirst().allSatisfy { $0.occurrence.at > original[id]!.occurrence.at })
            } else {
                #expect(checks[1].occurrence == original[id]!.occurrence)
                #expect(checks[1].attempt == 2)
                #expect(checks[1].firedAt < t0, "the retry did not wait for the clock to catch up")
            }
            #expect(Set(checks.map(\.occurrence)).count == checks.count - (index.isMultiple(of: 2) ? 0 : 1))
        }
    }

    @Test("a timer up to 1s late fires at once; a later one is deferred once, never twice")
    func lateTimerDeferredOnce() {
        let id = "mch_late"
        let phase = SlotMath.phase(machineID: id, intervalMs: Self.interval)
        let slot = SlotMath.nextSlot(after: t0, intervalMs: Self.interval, phaseMs: phase)
        let delay = SlotMath.catchUpDelay(machineID: id, windowMs: minute)
        #expect(delay > 0)
        var onTime = SchedulerCore(settings: SchedulerSettings(catchUpWindowMs: minute))
        onTime.setMachines([MachinePlan(id: id, intervalMs: Self.interval, lastSlotMs: slot - Self.interval)], now: t0)
        #expect(onTime.fire(now: slot + SchedulerCore.lateToleranceMs).count == 1)

        var late = SchedulerCore(settings: SchedulerSettings(catchUpWindowMs: minute))
        late.setMachines([MachinePlan(id: id, intervalMs: Self.interval, lastSlotMs: slot - Self.interval)], now: t0)
        #expect(late.fire(now: slot + 5 * second).isEmpty)
        #expect(late.nextDue(machineID: id) == slot + 5 * second + delay)
        // The adapter is late again (an overloaded host): the deferred check runs anyway.
        #expect(late.fire(now: slot + 5 * second + delay + 5 * second) == [.check(
            machineID: id, occurrence: Occurrence(kind: .scheduled, at: slot), attempt: 1, dueAtMs: slot + 5 * second + delay)])
    }

    @Test("a forward jump never defers a refresh past the report's expiry")
    func lateRefreshDoesNotLapse() {
        let id = "mch_late_refresh"
        let phase = SlotMath.phase(machineID: id, intervalMs: Self.interval)
        let slot = SlotMath.nextSlot(after: t0, intervalMs: Self.interval, phaseMs: phase)
        var harness = SchedulerHarness(settings: SchedulerSettings(refreshBeforeMs: minute, catchUpWindowMs: minute), now: slot + 1)
        harness.setMachines([MachinePlan(id: id, intervalMs: Self.interval, lastSlotMs: slot, reportCreatedAtMs: slot,
                                         reportExpiresAtMs: slot + 5 * minute, stateKnown: true)])
        #expect(harness.core.nextDue(machineID: id) == slot + 4 * minute)
        // The refresh was due at slot+4m; the clock jumps to 20s before expiry.
        harness.now = slot + 5 * minute - 20 * second
        harness.run(until: slot + 10 * minute) { freshReport(now: $0.firedAt, ttl: 5 * minute) }
        let refresh = try! #require(harness.checks.first)
        #expect(refresh.occurrence == Occurrence(kind: .refresh, at: slot + 4 * minute))
        #expect(refresh.firedAt < slot + 5 * minute - 10 * second)
        #expect(harness.expiries.isEmpty)
    }
}
