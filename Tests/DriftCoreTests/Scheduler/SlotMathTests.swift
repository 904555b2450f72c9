import DriftCore
import Testing

@Suite("Slot math")
struct SlotMathTests {
    @Test("phase is in [0, interval) and stable", arguments: [1, 2, 999, 1_000, 60_000, 900_000, 86_400_000] as [Int64])
    func phaseRange(interval: Int64) {
        for id in machineIDs(500) + ["", "🚀", String(repeating: "x", count: 54)] {
            let phase = SlotMath.phase(machineID: id, intervalMs: interval)
            #expect(phase >= 0 && phase < interval)
            #expect(phase == SlotMath.phase(machineID: id, intervalMs: interval))
        }
    }

    @Test("slotStart is the largest phase + k * interval <= time, also before 1970")
    func slotStart() {
        let interval: Int64 = 1_000, phase: Int64 = 300
        let cases: [(Int64, Int64)] = [
            (300, 300), (299, -700), (1_299, 300), (1_300, 1_300), (0, -700), (-700, -700), (-701, -1_700), (-1, -700),
            (t0 + 300, t0 + 300), (t0 + 299, t0 - 700),
        ]
        for (time, expected) in cases {
            #expect(SlotMath.slotStart(containing: time, intervalMs: interval, phaseMs: phase) == expected, "time \(time)")
            #expect(SlotMath.nextSlot(after: time, intervalMs: interval, phaseMs: phase) == expected + interval)
        }
        var rng = SplitMix64(seed: 3)
        for _ in 0..<10_000 {
            let interval = Int64.random(in: 1...86_400_000, using: &rng)
            let phase = Int64.random(in: 0..<interval, using: &rng)
            let time = Int64.random(in: -4_000_000_000_000...4_000_000_000_000, using: &rng)
            let start = SlotMath.slotStart(containing: time, intervalMs: interval, phaseMs: phase)
            #expect(start <= time && time < start + interval && floorMod(start - phase, interval) == 0)
            #expect(SlotMath.nextSlot(after: time, intervalMs: interval, phaseMs: phase) > time)
        }
    }

    @Test("catchUpDelay is stable and in [0, window); 0 for windows of 1 ms or less")
    func catchUpDelay() {
        for id in machineIDs(1_000) {
            let delay = SlotMath.catchUpDelay(machineID: id, windowMs: 60_000)
            #expect(delay >= 0 && delay < 60_000)
        }
        #expect(SlotMath.catchUpDelay(machineID: "x", windowMs: 1) == 0)
        #expect(SlotMath.catchUpDelay(machineID: "x", windowMs: 0) == 0)
        #expect(SlotMath.catchUpDelay(machineID: "x", windowMs: -5) == 0)
        // A different mix than the phase: catch-up order does not simply mirror the slot order.
        let ids = machineIDs(200)
        let byPhase = ids.sorted { SlotMath.phase(machineID: $0, intervalMs: 60_000) < SlotMath.phase(machineID: $1, intervalMs: 60_000) }
        let byCatchUp = ids.sorted { SlotMath.catchUpDelay(machineID: $0, windowMs: 60_000) < SlotMath.catchUpDelay(machineID: $1, windowMs: 60_000) }
        #expect(byPhase != byCatchUp)
    }

    @Test("refreshTime: refresh_before ahead of expiry, but never before half the lifetime")
    func refreshTime() {
        #expect(SlotMath.refreshTime(createdAtMs: 0, expiresAtMs: 900_000, refreshBeforeMs: 60_000) == 840_000)
        #expect(SlotMath.refreshTime(createdAtMs: 0, expiresAtMs: 30_000, refreshBeforeMs: 60_000) == 15_000)
        #expect(SlotMath.refreshTime(createdAtMs: 0, expiresAtMs: 120_000, refreshBeforeMs: 60_000) == 60_000)
        #expect(SlotMath.refreshTime(createdAtMs: 100, expiresAtMs: 100, refreshBeforeMs: 60_000) == 100)
        #expect(SlotMath.refreshTime(createdAtMs: 500, expiresAtMs: 100, refreshBeforeMs: 60_000) == 100)
        #expect(SlotMath.refreshTime(createdAtMs: 0, expiresAtMs: 900_000, refreshBeforeMs: 0) == 900_000)
    }
}
