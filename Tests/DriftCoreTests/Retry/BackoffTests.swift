import DriftCore
import Testing

@Suite("Backoff (pure)")
struct BackoffTests {
    let backoff = Backoff(baseMs: 1_000, capMs: 300_000)

    @Test("the nominal delay doubles per attempt, with equal jitter in [nominal/2, nominal)")
    func doublingWithJitter() {
        for attempt in 1...8 {
            let nominal = Int64(1_000) << (attempt - 1)
            #expect(backoff.delay(attempt: attempt, jitter: 0) == nominal / 2)
            #expect(backoff.delay(attempt: attempt, jitter: 0.5) == nominal / 2 + nominal / 4)
            let top = backoff.delay(attempt: attempt, jitter: 0.999_999_999)
            #expect(top < nominal && top >= nominal - 1)
        }
    }

    @Test("the delay is capped, also for huge attempt numbers (no overflow)", arguments: [10, 11, 30, 40, 62, 63, 64, 1_000, Int.max])
    func capped(attempt: Int) {
        #expect(backoff.delay(attempt: attempt, jitter: 0) == 150_000)
        #expect(backoff.delay(attempt: attempt, jitter: 0.999_999) < 300_000)
        #expect(backoff.delay(attempt: attempt, jitter: 0.999_999) >= 299_999)
    }

    @Test("attempt 0 or negative counts as the first")
    func lowAttempts() {
        #expect(backoff.delay(attempt: 0, jitter: 0) == 500)
        #expect(backoff.delay(attempt: -3, jitter: 0) == 500)
    }

    @Test("jitter draws outside [0, 1) are clamped")
    func jitterClamped() {
        #expect(backoff.delay(attempt: 1, jitter: -5) == 500)
        #expect(backoff.delay(attempt: 1, jitter: 7) < 1_000)
        #expect(backoff.delay(attempt: 1, jitter: .nan) >= 500)
    }

    @Test("Retry-After is a floor, capped at one hour; a shorter one does not shorten the backoff")
    func retryAfter() {
        #expect(backoff.delay(attempt: 1, jitter: 0, retryAfterMs: 45_000) == 45_000)
        #expect(backoff.delay(attempt: 10, jitter: 0, retryAfterMs: 1_000) == 150_000)
        #expect(backoff.delay(attempt: 1, jitter: 0, retryAfterMs: 10 * hour) == hour)
        #expect(backoff.delay(attempt: 1, jitter: 0, retryAfterMs: 0) == 500)
        #expect(backoff.delay(attempt: 1, jitter: 0, retryAfterMs: -1_000) == 500)
    }
}

/// Retries in the scheduler: same occurrence, growing delays, Retry-After, caps, slot changes, `.skip`.
@Suite("Scheduler backoff")
struct SchedulerBackoffTests {
    static let interval = hour
    static let id = "mch_flaky"
    static let phase = SlotMath.phase(machineID: id, intervalMs: interval)
    static let slot = SlotMath.nextSlot(after: t0, intervalMs: interval, phaseMs: phase)

    static func harness(backoff: Backoff = Backoff(baseMs: 1_000, capMs: 300_000), interval: Int64 = interval, seed: UInt64 = 1) -> SchedulerHarness {
        let phase = SlotMath.phase(machineID: id, intervalMs: interval)
        let slot = SlotMath.nextSlot(after: t0, intervalMs: interval, phaseMs: phase)
        var harness = SchedulerHarness(
            settings: SchedulerSettings(maxInFlight: 4, catchUpWindowMs: 0, backoff: backoff), seed: seed, now: slot)
        harness.setMachines([MachinePlan(id: id, intervalMs: interval)])
        return harness
    }

    @Test("retryable failures retry the same occurrence with growing, jittered, capped delays", arguments: [1, 2, 3] as [UInt64])
    func growingDelays(seed: UInt64) {
        var harness = Self.harness(seed: seed)
        harness.run(until: Self.slot + 40 * minute) { _ in .retry(retryAfterMs: nil) }
        let checks = harness.checks
        #expect(checks.count >= 12)
        #expect(Set(checks.map(\.occurrence)) == [Occurrence(kind: .scheduled, at: Self.slot)])
        #expect(checks.map(\.attempt) == Array(1...checks.count))
        var jitters: Set<Int64> = []
        for (index, (previous, next)) in zip(checks, checks.dropFirst()).enumerated() {
            let gap = next.firedAt - previous.firedAt
            let nominal = min(300_000, Int64(1_000) << index)
            #expect(gap >= nominal / 2 && gap < nominal, "retry \(index + 1) after \(gap) ms, nominal \(nominal)")
            jitters.insert(gap - nominal / 2)
        }
        // The jitter is random, not a constant offset.
        #expect(jitters.count > checks.count / 2)
    }

    @Test("the backoff of a check is capped at its interval")
    func cappedAtInterval() {
        var harness = Self.harness(interval: 20 * second)
        harness.run(until: Self.slot + 10 * minute) { _ in .retry(retryAfterMs: nil) }
        let gaps = zip(harness.checks, harness.checks.dropFirst()).map { $1.firedAt - $0.firedAt }
        #expect(gaps.count > 20)
        #expect(gaps.allSatisfy { $0 <= 20 * second })
    }

    @Test("Retry-After is honoured as a floor")
    func retryAfterFloor() {
        var harness = Self.harness()
        harness.run(until: Self.slot) { _ in .retry(retryAfterMs: 45_000) }
        #expect(harness.core.nextDue(machineID: Self.id) == Self.slot + 45_000)
        harness.now = Self.slot + 45_000 - 1
        #expect(harness.fire().isEmpty)
        harness.run(until: Self.slot + 45_000) { _ in .retry(retryAfterMs: 2 * hour) }
        #expect(harness.checks.map(\.firedAt) == [Self.slot, Self.slot + 45_000])
        #expect(harness.checks.last?.attempt == 2)
        // A Retry-After beyond an hour counts as one hour.
        #expect(harness.core.nextDue(machineID: Self.id) == Self.slot + 45_000 + hour)
    }

    @Test("a retry never comes sooner than 1 ms", arguments: [nil, 0, -5_000] as [Int64?])
    func neverSoonerThanOneMs(retryAfter: Int64?) {
        var harness = Self.harness(backoff: Backoff(baseMs: 0, capMs: 0))
        harness.run(until: Self.slot + 50) { _ in .retry(retryAfterMs: retryAfter) }
        #expect(harness.busyLoopAt == nil)
        #expect(harness.checks.map(\.firedAt) == (0...50).map { Self.slot + Int64($0) })
        #expect(Set(harness.checks.map(\.occurrence)).count == 1)
    }

    @Test("a retry spilling into the next slot checks the new slot's occurrence (new key), from attempt 1")
    func retrySpillsIntoNextSlot() {
        let interval = 10 * minute
        var harness = Self.harness(interval: interval)
        let slot = harness.now
        harness.run(until: slot + 5 * minute) { _ in .retry(retryAfterMs: nil) }
        let before = harness.checks.count
        #expect(harness.checks.allSatisfy { $0.occurrence == Occurrence(kind: .scheduled, at: slot) })
        // The last failure of this slot asks for 8 minutes: past the next slot start (slot + 10m).
        harness.run(until: slot + 30 * minute) { event in
            event.occurrence.at == slot ? .retry(retryAfterMs: 8 * minute) : freshReport(now: event.firedAt, ttl: hour)
        }
        let spilled = harness.checks[before...].first { $0.occurrence.at != slot }
        let next = try! #require(spilled)
        #expect(next.occurrence == Occurrence(kind: .scheduled, at: slot + interval))
        #expect(next.attempt == 1)
        let key = { (e: CheckEvent) in IdempotencyKey(machineID: e.machineID, occurrence: e.occurrence, trigger: "scheduled").value }
        #expect(key(next) != key(harness.checks[0]))
        // And the old occurrence is never retried after that.
        let index = harness.checks.firstIndex(of: next)!
        #expect(harness.checks[index...].allSatisfy { $0.occurrence.at != slot })
    }

    @Test(".skip gives the occurrence up until the next slot")
    func skipWaitsForNextSlot() {
        var harness = Self.harness()
        harness.run(until: Self.slot) { _ in .skip(stateKnown: false) }
        #expect(harness.core.nextDue(machineID: Self.id) == Self.slot + Self.interval)
        harness.run(until: Self.slot + Self.interval - 1) { _ in .skip(stateKnown: false) }
        #expect(harness.checks.count == 1)
        harness.run(until: Self.slot + 2 * Self.interval) { _ in .skip(stateKnown: true) }
        #expect(harness.checks.map(\.occurrence) == (0...2).map { Occurrence(kind: .scheduled, at: Self.slot + Int64($0) * Self.interval) })
        #expect(harness.checks.allSatisfy { $0.attempt == 1 })
    }

    @Test("one machine backing off never stalls the others")
    func backoffDoesNotStallOthers() {
        let interval = minute
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 1, catchUpWindowMs: 0))
        let healthy = machineIDs(5, prefix: "ok-")
        harness.setMachines((healthy + ["bad"]).map { MachinePlan(id: $0, intervalMs: interval) })
        harness.run(until: t0 + 10 * interval) { event in
            event.machineID == "bad" ? .retry(retryAfterMs: 5 * minute) : freshReport(now: event.firedAt, ttl: hour)
        }
        for id in healthy {
            let checks = harness.checks(of: id)
            #expect(checks.count == 11, "\(id): \(checks.count)")
            #expect(checks.allSatisfy { $0.firedAt - $0.dueAtMs == 0 })
        }
    }

    @Test("resetBackoff re-places a backing-off machine soon, still for the same occurrence")
    func resetBackoffKeepsOccurrence() {
        var harness = Self.harness()
        harness.run(until: Self.slot + 2 * minute) { _ in .retry(retryAfterMs: 50 * minute) }
        #expect(harness.checks.count == 1)
        harness.core.resetBackoff(now: harness.now)
        #expect(harness.core.nextDue(machineID: Self.id) == harness.now)
        harness.run(until: harness.now) { freshReport(now: $0.firedAt, ttl: 2 * hour) }
        #expect(harness.checks.map(\.occurrence) == [Occurrence(kind: .scheduled, at: Self.slot), Occurrence(kind: .scheduled, at: Self.slot)])
    }
}
