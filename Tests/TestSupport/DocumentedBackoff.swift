/// The retry backoff of failed checks as the README documents it ("exponential backoff and equal jitter
/// (1 s doubling, capped at the machine's interval or 5 min; a `Retry-After` … is a floor)"), written out
/// as a table. It deliberately does not use DriftCore: `DriftCoreTests/Retry/DefaultBackoffScheduleTests`
/// pins the implementation's default to it, and the reliability tests take their minimum delays from it.
public enum DocumentedBackoff {
    /// Row n-1: the nominal delay (ms) before the retry that follows failed attempt n, for a machine whose
    /// interval is at least 5 minutes. Equal jitter: the actual delay is in [nominal / 2, nominal).
    public static let nominalMs: [Int64] = [
        1_000,    // after attempt 1
        2_000,    // 2
        4_000,    // 3
        8_000,    // 4
        16_000,   // 5
        32_000,   // 6
        64_000,   // 7
        128_000,  // 8
        256_000,  // 9
        300_000,  // 10 and every later attempt: capped at 5 min
    ]

    /// 5 minutes: the cap for a machine whose interval is longer.
    public static let capMs: Int64 = 300_000

    /// The nominal delay after failed attempt `attempt` (1-based) of a machine checked every `intervalMs`:
    /// the table's row, capped at the interval (an interval below the 1 s minimum of the config counts as 1 s).
    public static func nominalMs(afterAttempt attempt: Int, intervalMs: Int64) -> Int64 {
        let row = nominalMs[min(max(attempt, 1), nominalMs.count) - 1]
        return min(row, max(intervalMs, 1_000))
    }

    /// The shortest delay the documentation allows after failed attempt `attempt`: half the nominal delay
    /// (equal jitter), or the server's `Retry-After` when that is longer.
    public static func minimumMs(afterAttempt attempt: Int, intervalMs: Int64, retryAfterMs: Int64? = nil) -> Int64 {
        max(nominalMs(afterAttempt: attempt, intervalMs: intervalMs) / 2, retryAfterMs ?? 0)
    }

    /// Every delay is below this (without a longer `Retry-After`).
    public static func maximumMs(afterAttempt attempt: Int, intervalMs: Int64) -> Int64 {
        nominalMs(afterAttempt: attempt, intervalMs: intervalMs)
    }
}
