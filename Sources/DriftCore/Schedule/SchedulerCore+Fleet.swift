import HeapModule

/// Fleet-level conditions of the scheduler: a pause of the whole queue (429 with Retry-After, 401/403),
/// wall-clock jumps, and reports that went stale while nobody watched.
extension SchedulerCore {
    /// How many checks may be in flight now: the limit, or during a fleet-wide pause none before its end
    /// and one (the probe) after it.
    func startLimit(now: Int64) -> Int {
        guard let until = pausedUntilMs else { return settings.maxInFlight }
        return now >= until ? 1 : 0
    }

    /// Pauses the whole queue until `untilMs` (a 429 with Retry-After, or 401/403), then lets one probe
    /// through at a time until `resumeFleet()`.
    public mutating func pauseFleet(untilMs: Int64) {
        pausedUntilMs = max(pausedUntilMs ?? .min, untilMs)
    }

    /// Ends a fleet-wide pause (a check succeeded).
    public mutating func resumeFleet() {
        pausedUntilMs = nil
    }

    /// Whether the machine's state is known but its report's local expiry has passed (stale: the catch-up
    /// check has not answered yet).
    public func isStale(machineID: String, now: Int64) -> Bool {
        guard let slot = slotByID[machineID] else { return false }
        let plan = entries[Int(slot)].plan
        return plan.stateKnown && (plan.localExpiresAtMs.map { $0 <= now } ?? false)
    }

    /// How many machines are stale at `now` (`isStale` of every machine), from one pass over the entries:
    /// `/metrics` asks at every scrape, and a lookup by id per machine hashed the whole fleet's ids.
    public func staleCount(now: Int64) -> Int {
        var count = 0
        for entry in entries where !entry.removed && entry.plan.stateKnown {
            if let expires = entry.plan.localExpiresAtMs, expires <= now { count += 1 }
        }
        return count
    }

    /// The wall clock moved by `deltaMs` relative to elapsed time (measured by the adapter against a
    /// monotonic clock): every local instant (due times, local expiries, refreshes) moves with it, so that
    /// checks keep the rhythm of real time and no report lapses or lingers because of the jump.
    public mutating func clockJumped(byMs deltaMs: Int64, now: Int64) {
        func shift(_ value: Int64?) -> Int64? { value.map { $0 &+ deltaMs } }
        for index in entries.indices where !entries[index].removed {
            entries[index].refreshAtMs = shift(entries[index].refreshAtMs)
            entries[index].expiryAtMs = shift(entries[index].expiryAtMs)
            entries[index].plan.reportLocalExpiresAtMs = shift(entries[index].plan.localExpiresAtMs)
            entries[index].plan.lastCheckedMs = shift(entries[index].plan.lastCheckedMs)
            if entries[index].dueAtMs != .max { entries[index].dueAtMs &+= deltaMs }
        }
        pausedUntilMs = shift(pausedUntilMs)
        timers = Heap()
        for index in entries.indices where !entries[index].removed {
            let slot = Int32(index)
            if !entries[index].inFlight, !entries[index].queued, entries[index].dueAtMs != .max {
                // Due times keep their place in real time; a slot already checked is never checked again.
                arm(slot, at: max(entries[index].dueAtMs, now))
            }
            armExpiry(slot)
        }
    }

}
