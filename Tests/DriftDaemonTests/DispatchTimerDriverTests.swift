import DriftDaemon
import Testing

/// The production timer's wake-up grid (README, Performance): wake-ups at a low rate share a grid step of
/// up to 100 ms; at a high rate the step shrinks so that a wake-up starts about four checks, not a burst.
@Suite("DispatchTimerDriver's wake-up grid")
struct DispatchTimerDriverTests {
    @Test("the step is the time in which about four checks come due, between 1 ms and the longest step", arguments: [
        // 100,000 machines at 1 h: 27.8 checks/s, four in 144 ms, so the longest step.
        (100_000.0 / 3_600, 100),
        // 1,000 checks/s: four in 4 ms.
        (1_000.0, 4),
        // 3,000 checks/s: four in 1.33 ms, rounded up.
        (3_000.0, 2),
        // 100,000 machines every second: below a millisecond, so 1 ms.
        (100_000.0, 1),
        // 40 checks/s: four in exactly 100 ms.
        (40.0, 100),
        // 50 checks/s: four in 80 ms.
        (50.0, 80),
        // No machines, or a rate that is not a number: the longest step.
        (0.0, 100), (Double.nan, 100), (Double.infinity, 100),
    ])
    func step(rate: Double, expectedMs: Int) {
        #expect(DispatchTimerDriver.stepMs(checksPerSecond: rate, maxMs: 100) == expectedMs)
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
