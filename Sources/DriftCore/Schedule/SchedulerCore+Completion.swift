/// How a check ended: the report's lifetime and refresh, a retry with backoff, or giving the occurrence up.
extension SchedulerCore {
    /// Records how a check ended and schedules the machine's next one.
    public mutating func complete(machineID: String, occurrence: Occurrence, outcome: CheckOutcome, now: Int64) {
        guard let slot = inFlightSlots[machineID] else { return }
        let index = Int(slot)
        guard entries[index].inFlight, entries[index].pending == occurrence else { return }
        inFlightSlots[machineID] = nil
        entries[index].inFlight = false
        inFlight -= 1
        if entries[index].removed {
            freeSlots.append(slot)
            return
        }
        switch outcome {
        case .report(let created, let expires, let localExpires):
            if occurrence.kind == .scheduled {
                entries[index].plan.lastSlotMs = max(entries[index].plan.lastSlotMs ?? .min, occurrence.at)
            }
            let local = localExpires ?? expires
            entries[index].plan.reportCreatedAtMs = created
            entries[index].plan.reportExpiresAtMs = expires
            entries[index].plan.reportLocalExpiresAtMs = local
            entries[index].plan.lastCheckedMs = now
            entries[index].plan.stateKnown = local > now
            entries[index].expiryAtMs = local
            entries[index].expiryGraced = false
            entries[index].expiryWaited = false
            let key = SlotMath.refreshTime(createdAtMs: created, expiresAtMs: expires, refreshBeforeMs: settings.refreshBeforeMs)
            // The refresh is planned from the occurrence's own instant (the slot, or the planned refresh
            // instant) plus the report's lifetime: the same on every replica that got this report, so
            // replicas make the same refresh-or-slot decision and so the same creates.
            let basis = occurrence.kind == .scheduled ? occurrence.at : (entries[index].refreshAtMs ?? now)
            let planned = basis &+ (expires - created)
            let planExpiry = planned > now ? min(planned, local) : local
            entries[index].refreshKeyMs = key
            entries[index].refreshAtMs = refreshInstant(index, keyMs: key, expiresAtMs: expires, localExpiresAtMs: planExpiry, now: now)
            entries[index].pending = nil
            entries[index].attempt = 0
            armExpiry(slot)
            place(slot, now: now, catchUp: false)
        case .replayedExpired(let created, let expires):
            if occurrence.kind == .scheduled {
                entries[index].plan.lastSlotMs = max(entries[index].plan.lastSlotMs ?? .min, occurrence.at)
            }
            // Only the refresh key's basis changes: the state, local expiry and expiry timer stay.
            entries[index].plan.reportCreatedAtMs = created
            entries[index].plan.reportExpiresAtMs = expires
            entries[index].refreshKeyMs = SlotMath.refreshTime(createdAtMs: created, expiresAtMs: expires, refreshBeforeMs: settings.refreshBeforeMs)
            entries[index].refreshAtMs = now
            entries[index].pending = nil
            entries[index].attempt = 0
            arm(slot, at: now)
        case .retry(let retryAfterMs):
            let cap = max(settings.backoff.baseMs, min(settings.backoff.capMs, entries[index].plan.intervalMs))
            let policy = Backoff(baseMs: settings.backoff.baseMs, capMs: cap)
            let unit = Double(random.next() >> 11) / Double(1 << 53)
            let delay = policy.delay(attempt: entries[index].attempt, jitter: unit, retryAfterMs: retryAfterMs)
            arm(slot, at: now + max(delay, 1))
        case .skip(let stateKnown):
            if occurrence.kind == .scheduled {
                entries[index].plan.lastSlotMs = max(entries[index].plan.lastSlotMs ?? .min, occurrence.at)
            } else {
                // A refresh that cannot succeed: stop refreshing this report; the next slot tries again.
                entries[index].refreshAtMs = nil
            }
            entries[index].plan.stateKnown = stateKnown && entries[index].plan.stateKnown
            entries[index].pending = nil
            entries[index].attempt = 0
            if !entries[index].plan.stateKnown { entries[index].expiryGeneration &+= 1 }
            place(slot, now: now, catchUp: false)
        }
    }

    /// When to refresh a report on the local clock, or nil when no refresh is needed: the machine's next
    /// slot comes before the report expires and within `refresh_before_expiry` of the refresh instant
    /// (or before it), so that slot's check is the refresh and steady state costs one create per interval.
    func refreshInstant(_ index: Int, keyMs: Int64, expiresAtMs: Int64, localExpiresAtMs local: Int64, now: Int64) -> Int64? {
        guard local > now else { return nil }
        var refresh = local - (expiresAtMs - keyMs)
        if refresh <= now { refresh = now + (local - now) / 2 }
        refresh = max(refresh, now + Self.minimumRefreshGapMs)
        guard refresh < local else { return nil }
        let plan = entries[index].plan
        let phase = entries[index].phaseMs
        let current = SlotMath.slotStart(containing: now, intervalMs: plan.intervalMs, phaseMs: phase)
        let nextSlot = (plan.lastSlotMs.map { $0 >= current } ?? false)
            ? SlotMath.nextSlot(after: plan.lastSlotMs!, intervalMs: plan.intervalMs, phaseMs: phase) : current
        if nextSlot <= local, refresh >= nextSlot - settings.refreshBeforeMs { return nil }
        return refresh
    }

    /// The result of a check could not be recorded (disk full, read-only state directory): check the same
    /// occurrence again after a backoff, so that nothing is announced that was not recorded.
    public mutating func retryAfterStoreFailure(machineID: String, occurrence: Occurrence, now: Int64) {
        guard let slot = slotByID[machineID] else { return }
        let index = Int(slot)
        guard !entries[index].inFlight, !entries[index].queued else { return }
        if occurrence.kind == .scheduled, entries[index].plan.lastSlotMs == occurrence.at {
            // Recorded nowhere, so not done: forget it was.
            entries[index].plan.lastSlotMs = nil
        }
        entries[index].pending = occurrence
        entries[index].attempt = max(entries[index].attempt, 1)
        let unit = Double(random.next() >> 11) / Double(1 << 53)
        let delay = settings.backoff.delay(attempt: entries[index].attempt, jitter: unit)
        arm(slot, at: now + max(delay, 1))
    }

}
