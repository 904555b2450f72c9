/// Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of many
/// machines spread out while each one still waits at least half its nominal delay.
public struct Backoff: Sendable, Hashable {
    public var baseMs: Int64
    public var capMs: Int64

    public init(baseMs: Int64 = 1_000, capMs: Int64 = 300_000) {
        self.baseMs = baseMs
        self.capMs = capMs
    }

    /// Delay before retry number `attempt` (1 for the first retry), with `unit` in [0, 1) as the jitter draw.
    /// A server's `Retry-After` (when given) is a floor, capped at one hour.
    public func delay(attempt: Int, jitter unit: Double, retryAfterMs: Int64? = nil) -> Int64 {
        let exponent = min(max(attempt - 1, 0), 40)
        let nominal = min(capMs, baseMs.multipliedReportingOverflow(by: Int64(1) << exponent).overflow
            ? capMs : baseMs << exponent)
        let half = nominal / 2
        let draw = unit.isNaN ? 0 : min(max(unit, 0), 0.999_999)
        let jittered = half + Int64(Double(nominal - half) * draw)
        if let retryAfterMs {
            return max(jittered, min(retryAfterMs, 3_600_000))
        }
        return jittered
    }
}
