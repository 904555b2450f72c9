import DriftCore
import DriftTestSupport
import Testing

/// The default retry backoff, pinned number for number to the README ("1 s doubling, capped at the
/// machine's interval or 5 min", equal jitter), as tabulated in `DocumentedBackoff`.
@Suite("Default backoff schedule (pinned)")
struct DefaultBackoffScheduleTests {
    /// The table itself, spelled out once more: attempt -> (shortest, longest) delay in ms for a long interval.
    static let pinned: [(attempt: Int, minMs: Int64, nominalMs: Int64)] = [
        (1, 500, 1_000), (2, 1_000, 2_000), (3, 2_000, 4_000), (4, 4_000, 8_000), (5, 8_000, 16_000),
        (6, 16_000, 32_000), (7, 32_000, 64_000), (8, 64_000, 128_000), (9, 128_000, 256_000),
        (10, 150_000, 300_000), (11, 150_000, 300_000), (20, 150_000, 300_000), (1_000, 150_000, 300_000),
    ]

    @Test("the documented table: 1 s doubling, capped at 5 min, equal jitter")
    func documentedTable() {
        for row in Self.pinned {
            #expect(DocumentedBackoff.nominalMs(afterAttempt: row.attempt, intervalMs: 3_600_000) == row.nominalMs)
            #expect(DocumentedBackoff.minimumMs(afterAttempt: row.attempt, intervalMs: 3_600_000) == row.minMs)
        }
        // Capped at the machine's interval.
        #expect((1...6).map { DocumentedBackoff.nominalMs(afterAttempt: $0, intervalMs: 3_000) } == [1_000, 2_000, 3_000, 3_000, 3_000, 3_000])
        #expect(DocumentedBackoff.minimumMs(afterAttempt: 1, intervalMs: 3_000, retryAfterMs: 2_000) == 2_000)
    }

    @Test("Backoff() and SchedulerSettings().backoff follow the table for every attempt (jitter 0 and just below 1)")
    func defaultFollowsTable() {
        for backoff in [Backoff(), SchedulerSettings().backoff] {
            for row in Self.pinned {
                #expect(backoff.delay(attempt: row.attempt, jitter: 0) == row.minMs, "attempt \(row.attempt)")
                let top = backoff.delay(attempt: row.attempt, jitter: 0.999_999_9)
                #expect(top < row.nominalMs && top >= row.nominalMs - row.nominalMs / 1_000, "attempt \(row.attempt): \(top)")
            }
        }
    }

    @Test("the scheduler's retries of one occurrence keep to the table, capped at the interval", arguments: [3_000, 20_000, 3_600_000] as [Int64])
    func schedulerFollowsTable(intervalMs: Int64) {
        let id = "mch_pinned"
        let phase = SlotMath.phase(machineID: id, intervalMs: intervalMs)
        let slot = SlotMath.nextSlot(after: t0, intervalMs: intervalMs, phaseMs: phase)
        var harness = SchedulerHarness(settings: SchedulerSettings(maxInFlight: 4, catchUpWindowMs: 0), seed: 9, now: slot)
        harness.setMachines([MachinePlan(id: id, intervalMs: intervalMs)])
        // Retries of the first slot's occurrence only (a retry spilling into the next slot starts over).
        harness.run(until: slot + min(intervalMs - 1, 30 * minute)) { _ in .retry(retryAfterMs: nil) }
        let checks = harness.checks.filter { $0.occurrence == Occurrence(kind: .scheduled, at: slot) }
        #expect(checks.count >= 3)
        for (previous, next) in zip(checks, checks.dropFirst()) {
            let gap = next.firedAt - previous.firedAt
            let low = DocumentedBackoff.minimumMs(afterAttempt: previous.attempt, intervalMs: intervalMs)
            let high = DocumentedBackoff.maximumMs(afterAttempt: previous.attempt, intervalMs: intervalMs)
            #expect(gap >= low && gap < high, "interval \(intervalMs): retry after attempt \(previous.attempt) came after \(gap) ms, documented [\(low), \(high))")
        }
    }
}
