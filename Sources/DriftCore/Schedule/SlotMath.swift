/// Interval slots: machine `id` is checked at `phase(id) + k * interval` (unix ms), like Prometheus'
/// scrape offsets, so its rhythm survives restarts and reloads and a fleet spreads over the interval.
public enum SlotMath {
    /// A stable offset in `[0, interval)` derived from the machine id.
    public static func phase(machineID: String, intervalMs: Int64) -> Int64 {
        precondition(intervalMs > 0)
        return Int64(StableHash.fnv1a64(machineID) % UInt64(intervalMs))
    }

    /// The start of the slot containing `time`: the largest `phase + k * interval` that is `<= time`.
    public static func slotStart(containing time: Int64, intervalMs: Int64, phaseMs: Int64) -> Int64 {
        let offset = time - phaseMs
        var k = offset / intervalMs
        if offset % intervalMs != 0, offset < 0 { k -= 1 }
        return phaseMs + k * intervalMs
    }

    /// The first slot start strictly after `time`.
    public static func nextSlot(after time: Int64, intervalMs: Int64, phaseMs: Int64) -> Int64 {
        slotStart(containing: time, intervalMs: intervalMs, phaseMs: phaseMs) + intervalMs
    }

    /// A stable spread in `[0, window)` for catching up on overdue machines without a burst.
    public static func catchUpDelay(machineID: String, windowMs: Int64) -> Int64 {
        guard windowMs > 1 else { return 0 }
        // A different mix than `phase` so that catch-up order does not mirror slot order.
        return Int64((StableHash.fnv1a64(machineID) >> 17) % UInt64(windowMs))
    }

    /// When to refresh a report before it goes stale: `refreshBefore` ahead of `expiresAt`, but never
    /// earlier than half-way through its lifetime (a short TTL must not cause a refresh loop).
    public static func refreshTime(createdAtMs: Int64, expiresAtMs: Int64, refreshBeforeMs: Int64) -> Int64 {
        let lifetime = max(0, expiresAtMs - createdAtMs)
        return expiresAtMs - min(refreshBeforeMs, lifetime / 2)
    }
}
