import DriftCore
import DriftDaemon
import Testing

/// The production timer's wake-up grid (README, Performance): wake-ups at a low rate share a grid step of
/// up to 1 s; at a high rate the step shrinks so that a wake-up starts about 32 checks, not a burst; and a
/// step never exceeds 1% of the shortest interval or a tenth of the refresh lead.
@Suite("DispatchTimerDriver's wake-up grid")
struct DispatchTimerDriverTests {
    @Test("the step is the time in which about 32 checks come due, between 1 ms and the longest step", arguments: [
        // 100,000 machines at 1 h: 27.8 checks/s, 32 in 1.15 s, so the longest step.
        (100_000.0 / 3_600, 1_000),
        // 1,000 checks/s: 32 in 32 ms.
        (1_000.0, 32),
        // 3,000 checks/s: 32 in 10.67 ms, rounded up.
        (3_000.0, 11),
        // 100,000 machines every second: below a millisecond, so 1 ms.
        (100_000.0, 1),
        // 32 checks/s: 32 in exactly 1 s.
        (32.0, 1_000),
        // 40 checks/s: 32 in 800 ms.
        (40.0, 800),
        // No machines, or a rate that is not a number: the longest step.
        (0.0, 1_000), (Double.nan, 1_000), (Double.infinity, 1_000),
    ])
    func step(rate: Double, expectedMs: Int) {
        #expect(DispatchTimerDriver.stepMs(checksPerSecond: rate, maxMs: 1_000) == expectedMs)
    }

    @Test("a config's periods bound the step: 1% of the shortest interval, a tenth of the refresh lead", arguments: [
        // 100,000 machines at 1 h, refresh 1 min before expiry: the rate's step, 1 s.
        (TimerLoad(checksPerSecond: 100_000.0 / 3_600, shortestIntervalMs: 3_600_000, refreshBeforeMs: 60_000), 1_000),
        // The 100,000-machine delivery probe: 1,000 checks/s on a 100 s interval: the rate's 32 ms.
        (TimerLoad(checksPerSecond: 1_000, shortestIntervalMs: 100_000, refreshBeforeMs: 60_000), 32),
        // 1,000 machines every second: the rate would allow 32 ms, the interval 10 ms.
        (TimerLoad(checksPerSecond: 1_000, shortestIntervalMs: 1_000, refreshBeforeMs: 60_000), 10),
        // One machine every 60 s: a wake-up is alone anyway, but waits at most 600 ms.
        (TimerLoad(checksPerSecond: 1.0 / 60, shortestIntervalMs: 60_000, refreshBeforeMs: 60_000), 600),
        // A fleet at 1 h, one machine of it at 5 s: 50 ms.
        (TimerLoad(checksPerSecond: 28, shortestIntervalMs: 5_000, refreshBeforeMs: 60_000), 50),
        // Refresh 2 s before expiry: a refresh may start at most 200 ms late.
        (TimerLoad(checksPerSecond: 28, shortestIntervalMs: 3_600_000, refreshBeforeMs: 2_000), 200),
        // Refresh at expiry (0): no bound from the lead.
        (TimerLoad(checksPerSecond: 28, shortestIntervalMs: 3_600_000, refreshBeforeMs: 0), 1_000),
        // No machines: the longest step.
        (TimerLoad(checksPerSecond: 0, shortestIntervalMs: nil, refreshBeforeMs: 60_000), 1_000),
        // Periods too short for any grid: 1 ms, never 0.
        (TimerLoad(checksPerSecond: 28, shortestIntervalMs: 50, refreshBeforeMs: 5), 1),
    ])
    func boundedStep(load: TimerLoad, expectedMs: Int) {
        #expect(DispatchTimerDriver.stepMs(for: load, maxMs: 1_000) == expectedMs)
    }

    @Test("for any load the step keeps every bound (seeded)", arguments: [UInt64(11), 12, 13])
    func boundsHold(seed: UInt64) {
        print("DispatchTimerDriverTests seed \(seed)")
        var rng = SplitMix64(seed: seed)
        for _ in 0..<5_000 {
            let shortest = rng.next() % 8 == 0 ? nil : Int64(rng.next() % 7_200_000) + 1
            let lead = Int64(rng.next() % 120_000)
            let rate = Double(rng.next() % 1_000_000) / 100
            let step = Int64(DispatchTimerDriver.stepMs(
                for: TimerLoad(checksPerSecond: rate, shortestIntervalMs: shortest, refreshBeforeMs: lead), maxMs: 1_000))
            #expect(step >= 1 && step <= 1_000)
            if let shortest, shortest >= 100 { #expect(step * 100 <= shortest, "interval \(shortest) ms, step \(step) ms") }
            if lead >= 10 { #expect(step * 10 <= lead, "lead \(lead) ms, step \(step) ms") }
            // Never coarser than the time in which 32 checks come due (when that is at least 1 ms).
            if rate > 0 { #expect(Double(step) <= max(1, (32_000 / rate).rounded(.up))) }
        }
    }

    @Test("a deadline is rounded up to the next multiple of the step, never earlier than asked")
    func rounding() {
        let ms: UInt64 = 1_000_000
        // 4 ms step: 1 ms after t = 10.5 ms is 11.5 ms, rounded up to 12 ms.
        #expect(DispatchTimerDriver.deadlineNs(nowNs: 10 * ms + ms / 2, delayMs: 1, stepNs: 4 * ms) == 12 * ms)
        // 100 ms step: the same wake-up waits until 100 ms.
        #expect(DispatchTimerDriver.deadlineNs(nowNs: 10 * ms + ms / 2, delayMs: 1, stepNs: 100 * ms) == 100 * ms)
        // On the grid already: unchanged.
        #expect(DispatchTimerDriver.deadlineNs(nowNs: 96 * ms, delayMs: 4, stepNs: 4 * ms) == 100 * ms)
        for now in stride(from: UInt64(0), to: 500 * ms, by: 7_777_777) {
            for delay: UInt64 in [1, 3, 50, 99, 100, 101] {
                for step in [1 * ms, 4 * ms, 100 * ms] {
                    let deadline = DispatchTimerDriver.deadlineNs(nowNs: now, delayMs: delay, stepNs: step)
                    #expect(deadline >= now + delay * ms && deadline < now + delay * ms + step && deadline % step == 0)
                }
            }
        }
    }
}
