import DriftCore
import Testing

/// The next check is the earlier of the next slot and `expires_at - refresh_before`; a lapsed report turns
/// the machine unknown exactly at `expires_at`.
@Suite("Expiry refresh and expiry")
struct ExpiryRefreshTests {
    static let interval = 15 * minute
    static let id = "mch_refresh"
    static let phase = SlotMath.phase(machineID: id, intervalMs: interval)
    /// A slot start of `id` shortly after t0.
    static let slot = SlotMath.nextSlot(after: t0, intervalMs: interval, phaseMs: phase)

    /// A harness whose first check of `id` fires exactly at `slot` (no catch-up spread).
    static func harnessAtSlot(refreshBefore: Int64 = minute, maxInFlight: Int = 8) -> SchedulerHarness {
        var harness = SchedulerHarness(
            settings: SchedulerSettings(maxInFlight: maxInFlight, refreshBeforeMs: refreshBefore, catchUpWindowMs: 0), now: slot)
        harness.setMachines([MachinePlan(id: id, intervalMs: interval)])
        return harness
    }

    @Test("a report expiring before the next slot is refreshed at expires_at - refresh_before")
    func refreshBeforeExpiry() {
        let s = Self.slot
        var harness = Self.harnessAtSlot()
        harness.run(until: s) { freshReport(now: $0.firedAt, ttl: 5 * minute) }
        #expect(harness.checks.map(\.occurrence) == [Occurrence(kind: .scheduled, at: s)])
        // Expires at s+5m: refresh one minute before, well before the next slot (s+15m).
        #expect(harness.core.nextDue(machineID: Self.id) == s + 4 * minute)
        #expect(harness.core.nextWakeup() == s + 4 * minute)
        harness.now = s + 4 * minute - 1
        #expect(harness.fire().isEmpty)

        harness.run(until: s + Self.interval + 5 * minute) { freshReport(now: $0.firedAt, ttl: 5 * minute) }
        #expect(harness.checks.map(\.occurrence) == [
            Occurrence(kind: .scheduled, at: s),
            Occurrence(kind: .refresh, at: s + 4 * minute),
            Occurrence(kind: .refresh, at: s + 8 * minute),
            Occurrence(kind: .refresh, at: s + 12 * minute),
            // The slot comes before the next refresh (s+16m): the rhythm is kept.
            Occurrence(kind: .scheduled, at: s + Self.interval),
            Occurrence(kind: .refresh, at: s + Self.interval + 4 * minute),
        ])
        #expect(harness.checks.map(\.firedAt) == harness.checks.map(\.occurrence.at))
        #expect(harness.expiries.isEmpty)
    }

    @Test("a report outliving the next slot causes no refresh: the next check is the slot")
    func longTTLNoRefresh() {
        let s = Self.slot
        var harness = Self.harnessAtSlot()
        harness.run(until: s + 3 * Self.interval) { freshReport(now: $0.firedAt, ttl: Self.interval + 2 * minute) }
        #expect(harness.checks.map(\.occurrence) == (0...3).map { Occurrence(kind: .scheduled, at: s + Int64($0) * Self.interval) })
    }

    @Test("a restored report expiring before the next slot is refreshed at expires_at - refresh_before")
    func restoredReportRefresh() {
        let s = Self.slot
        var core = SchedulerCore(settings: SchedulerSettings(refreshBeforeMs: minute))
        core.setMachines([MachinePlan(
            id: Self.id, intervalMs: Self.interval, lastSlotMs: s, reportCreatedAtMs: s + 1_000,
            reportExpiresAtMs: s + 6 * minute, stateKnown: true)], now: s + 2 * minute)
        #expect(core.nextDue(machineID: Self.id) == s + 5 * minute)
        #expect(core.fire(now: s + 5 * minute - 1).isEmpty)
        #expect(core.fire(now: s + 5 * minute) == [.check(
            machineID: Self.id, occurrence: Occurrence(kind: .refresh, at: s + 5 * minute), attempt: 1, dueAtMs: s + 5 * minute)])
    }

    /// TTLs shorter than refresh_before (60s): the refresh moves to half the report's life, so the machine
    /// is checked at most twice per TTL, and its state never lapses. (A TTL under 2s, whose half-life is under
    /// the 1s refresh floor, lapses instead: see `nearlyExpiredReports`.)
    @Test("a TTL shorter than refresh_before never causes a refresh loop", arguments: [
        2_000, 3_000, 10_000, 30_000, 59_000, 60_000, 119_000,
    ] as [Int64])
    func shortTTLNoLoop(ttl: Int64) {
        let s = Self.slot
        var harness = Self.harnessAtSlot()
        harness.run(until: s + Self.interval - 1) { freshReport(now: $0.firedAt, ttl: ttl) }
        #expect(harness.busyLoopAt == nil)
        #expect(harness.expiries.isEmpty, "the state lapsed although every refresh succeeded")
        let checks = harness.checks
        #expect(checks.count <= Int(Self.interval / (ttl / 2)) + 2, "\(checks.count) checks in one interval")
        for (previous, next) in zip(checks, checks.dropFirst()) {
            #expect(next.firedAt - previous.firedAt >= ttl / 2)
            #expect(next.occurrence.kind == .refresh)
        }
        #expect(Set(checks.map(\.occurrence)).count == checks.count)
    }

    /// Reports that arrive with (almost) no life left: a TTL of zero, an expiry before creation, a 1s TTL, or a
    /// clock running ahead of the API's by nearly the TTL (the API's timestamps in whole seconds on the wire,
    /// or in ms). Without a floor, each refresh lands at half the remaining life, which then shrinks again:
    /// a chain of refreshes milliseconds apart.
    @Test("reports with (almost) no life left never make the scheduler check more than once a second", arguments: [
        (ttl: 0, skew: 0, tick: 1_000), (ttl: -5_000, skew: 0, tick: 1_000), (ttl: 1_000, skew: 0, tick: 1_000),
        (ttl: 60_000, skew: 58_950, tick: 1_000), (ttl: 900_000, skew: 897_500, tick: 1_000),
        (ttl: 60_000, skew: 59_950, tick: 1), (ttl: 60_000, skew: 59_998, tick: 1),
    ] as [(ttl: Int64, skew: Int64, tick: Int64)])
    func nearlyExpiredReports(ttl: Int64, skew: Int64, tick: Int64) {
        let s = Self.slot
        var harness = Self.harnessAtSlot()
        // The API's clock is `skew` ms behind ours; its timestamps are multiples of `tick` ms.
        harness.run(until: s + Self.interval - 1) { event in
            let created = floorDiv(event.firedAt - skew, tick) * tick
            return .report(createdAtMs: created, expiresAtMs: created + ttl)
        }
        #expect(harness.busyLoopAt == nil)
        #expect(harness.checks.count <= 2 + Int(Self.interval / 1_000), "\(harness.checks.count) checks in one interval")
        let gaps = zip(harness.checks, harness.checks.dropFirst()).map { $1.firedAt - $0.firedAt }
        #expect(gaps.allSatisfy { $0 >= 1_000 }, "\(gaps.filter { $0 < 1_000 }.count) checks less than 1s apart, e.g. \(gaps.prefix(8))")
    }

    @Test("a report that lapses without a fresh one gives one .expire exactly at expires_at")
    func expireExactlyAtExpiresAt() {
        let s = Self.slot
        var harness = Self.harnessAtSlot()
        let expires = s + 5 * minute
        harness.run(until: s) { _ in .report(createdAtMs: s, expiresAtMs: expires) }
        // Every refresh fails (API down).
        harness.run(until: expires - 1) { _ in .retry(retryAfterMs: nil) }
        #expect(harness.checks.count > 1)
        #expect(harness.expiries.isEmpty)
        harness.run(until: s + 2 * Self.interval) { _ in .retry(retryAfterMs: nil) }
        #expect(harness.expiries.count == 1)
        #expect(harness.expiries.first?.machineID == Self.id)
        #expect(harness.expiries.first?.expiresAtMs == expires)
        #expect(harness.expiries.first?.firedAt == expires)
    }

    @Test("a report whose check hangs in flight expires one request timeout after expires_at, not before")
    func expireWhileInFlight() {
        let s = Self.slot
        var harness = Self.harnessAtSlot()
        harness.run(until: s) { _ in .report(createdAtMs: s, expiresAtMs: s + 5 * minute) }
        harness.run(until: s + Self.interval) // the refresh check never returns
        #expect(harness.outstanding.count == 1)
        #expect(harness.expiries.map(\.firedAt) == [s + 5 * minute + SchedulerSettings().requestTimeoutMs])
    }

    @Test("no .expire when the state is not known", arguments: ["restored unknown", "404", "stale on arrival"])
    func noExpireWhenUnknown(scenario: String) {
        let s = Self.slot
        var harness: SchedulerHarness
        switch scenario {
        case "restored unknown":
            harness = SchedulerHarness(settings: SchedulerSettings(catchUpWindowMs: 0), now: s + 1)
            harness.setMachines([MachinePlan(
                id: Self.id, intervalMs: Self.interval, lastSlotMs: s, reportCreatedAtMs: s, reportExpiresAtMs: s + 5 * minute,
                stateKnown: false)])
            harness.run(until: s + 2 * Self.interval) { _ in .retry(retryAfterMs: nil) }
        case "404":
            harness = Self.harnessAtSlot()
            harness.run(until: s) { _ in .report(createdAtMs: s, expiresAtMs: s + 5 * minute) }
            harness.run(until: s + 2 * Self.interval) { _ in .skip(stateKnown: false) }
        default:
            harness = Self.harnessAtSlot()
            harness.run(until: s + 2 * Self.interval) { event in .report(createdAtMs: event.firedAt - 10 * minute, expiresAtMs: event.firedAt) }
        }
        #expect(harness.expiries.isEmpty)
        #expect(harness.busyLoopAt == nil)
    }

    @Test("a known state restored after its report expired during downtime stays stale until its catch-up check had its chance")
    func expiredDuringDowntime() {
        let s = Self.slot
        let settings = SchedulerSettings()
        var core = SchedulerCore(settings: settings)
        let restart = s + 6 * minute
        core.setMachines([MachinePlan(
            id: Self.id, intervalMs: Self.interval, lastSlotMs: s, reportCreatedAtMs: s, reportExpiresAtMs: s + 5 * minute,
            stateKnown: true)], now: restart)
        #expect(core.isStale(machineID: Self.id, now: restart))
        let actions = core.fire(now: restart)
        #expect(!actions.contains { if case .expire = $0 { true } else { false } }, "downtime is not drift")
        #expect(actions.contains { if case .check = $0 { true } else { false } }, "the catch-up check starts at once")
        // The check hangs: unknown once the grace (catch-up window, timeout, one retry) and the wait for it end.
        #expect(core.fire(now: restart + settings.expiryGraceMs).isEmpty, "the check in flight gets its answer's chance")
        let expiresAt = restart + settings.expiryGraceMs + settings.requestTimeoutMs
        #expect(core.fire(now: expiresAt - 1).isEmpty)
        #expect(core.fire(now: expiresAt).contains(.expire(machineID: Self.id, expiresAtMs: s + 5 * minute)))
    }
}
