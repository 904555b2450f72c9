import DriftCore
import Testing

@Suite("Fleet summary and STATUS= line")
struct FleetSummaryTests {
    @Test("counts per state and the STATUS= line in the documented shape")
    func statusLine() {
        var summary = FleetSummary()
        summary.add(.inSync, 117)
        summary.add(.drifted, 2)
        summary.add(.unknown)
        #expect(summary.total == 120)
        #expect(summary.statusLine(nextCheckInMs: 14_000) == "watching 120 machines: 117 in_sync, 2 drifted, 1 unknown; next check in 14s")
        // Rounded up to the second; never negative.
        #expect(summary.statusLine(nextCheckInMs: 13_001).hasSuffix("next check in 14s"))
        #expect(summary.statusLine(nextCheckInMs: 1).hasSuffix("next check in 1s"))
        #expect(summary.statusLine(nextCheckInMs: 0).hasSuffix("next check in 0s"))
        #expect(summary.statusLine(nextCheckInMs: -5_000).hasSuffix("next check in 0s"))
        #expect(summary.statusLine(nextCheckInMs: 5_400_000).hasSuffix("next check in 1h30m"))
        #expect(summary.statusLine(nextCheckInMs: nil) == "watching 120 machines: 117 in_sync, 2 drifted, 1 unknown")
    }

    @Test("singular and empty fleets")
    func singular() {
        #expect(FleetSummary(inSync: 1).statusLine(nextCheckInMs: nil) == "watching 1 machine: 1 in_sync, 0 drifted, 0 unknown")
        #expect(FleetSummary().statusLine(nextCheckInMs: nil) == "watching 0 machines: 0 in_sync, 0 drifted, 0 unknown")
        var summary = FleetSummary(inSync: 2, drifted: 1, unknown: 0)
        summary.add(.drifted, -1)
        summary.add(.inSync, -1)
        summary.add(.unknown, 1)
        #expect(summary == FleetSummary(inSync: 1, drifted: 0, unknown: 1))
    }
}
