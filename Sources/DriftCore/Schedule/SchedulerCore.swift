import HeapModule

/// The scheduling state machine: which machine to check when, with which occurrence (and so which key),
/// under a concurrency limit, with backoff, expiry refresh and catch-up.
///
/// Pure: the clock is the `now` argument (unix ms) and the randomness a seeded generator, so tests step
/// through intervals, retries and restarts without sleeping. An adapter arms one timer for `nextWakeup()`,
/// calls `fire(now:)` when it goes off and runs the returned actions.
public struct SchedulerCore: Sendable {
    struct Entry: Sendable {
        var plan: MachinePlan
        var phaseMs: Int64
        var refreshAtMs: Int64?
        var pending: Occurrence?
        var attempt = 0
        var inFlight = false
        var queued = false
        var dueAtMs: Int64 = .max
        var checkGeneration: UInt32 = 0
        var expiryGeneration: UInt32 = 0
        var removed = false
        /// Re-armed once because its timer went off late: it will not be deferred again.
        var catchingUp = false
    }

    struct Timer: Comparable, Sendable {
        var at: Int64
        var slot: Int32
        var generation: UInt32
        var isExpiry: Bool
        static func < (a: Timer, b: Timer) -> Bool { a.at != b.at ? a.at < b.at : a.slot < b.slot }
    }

    public private(set) var settings: SchedulerSettings
    private var entries: [Entry] = []
    private var slotByID: [String: Int32] = [:]
    private var freeSlots: [Int32] = []
    private var timers = Heap<Timer>()
    /// Machines whose check is due but waits for a free request slot, in due order.
    private var ready: [Int32] = []
    private var readyHead = 0
    public private(set) var inFlight = 0
    /// The entry of each machine whose check is running (a removed machine's entry stays until it ends).
    private var inFlightSlots: [String: Int32] = [:]
    private var random: SplitMix64

    /// A refresh never comes sooner than this after the report it refreshes: a tiny TTL, or a clock running
    /// ahead of the API's by nearly the TTL, must not turn refreshes into a stream of requests.
    public static let minimumRefreshGapMs: Int64 = 1_000
    /// A check timer going off later than this (the wall clock jumped forward, the host was suspended) is
    /// treated like downtime: its machine is spread over the catch-up window instead of firing with the rest.
    public static let lateToleranceMs: Int64 = 1_000

    public init(settings: SchedulerSettings, seed: UInt64 = 0x5eed) {
        self.settings = settings
        random = SplitMix64(seed: seed)
    }

    /// Number of machines being watched.
    public var machineCount: Int { slotByID.count }

    /// Replaces the watched set. Machines whose interval did not change keep their state and timers;
    /// new or changed ones are placed on their slot, overdue ones spread over the catch-up window.
    public mutating func setMachines(_ plans: [MachinePlan], now: Int64) {
        var wanted = Set<String>()
        wanted.reserveCapacity(plans.count)
        for plan in plans {
            wanted.insert(plan.id)
            if let slot = slotByID[plan.id] {
                let index = Int(slot)
                if entries[index].plan.intervalMs == plan.intervalMs { continue }
                entries[index].plan.intervalMs = plan.intervalMs
                entries[index].phaseMs = SlotMath.phase(machineID: plan.id, intervalMs: plan.intervalMs)
                if !entries[index].inFlight, !entries[index].queued { place(slot, now: now, catchUp: true) }
            } else {
                add(plan, now: now)
            }
        }
        if wanted.count != slotByID.count {
            for (id, slot) in slotByID where !wanted.contains(id) { remove(slot: slot) }
        }
    }

    /// Applies new settings (a reload); timers are kept.
    public mutating func updateSettings(_ newSettings: SchedulerSettings) {
        settings = newSettings
    }

    /// Forgets backoff of every machine waiting to retry and re-places it (after a reload with, say,
    /// a new token, there is no reason to wait out a long backoff).
    public mutating func resetBackoff(now: Int64) {
        for index in entries.indices where !entries[index].removed && entries[index].attempt > 0
            && !entries[index].inFlight && !entries[index].queued {
            entries[index].attempt = 0
            entries[index].pending = nil
            place(Int32(index), now: now, catchUp: true)
        }
    }

    private mutating func add(_ plan: MachinePlan, now: Int64) {
        let phase = SlotMath.phase(machineID: plan.id, intervalMs: plan.intervalMs)
        if let slot = inFlightSlots[plan.id] {
            // Removed and re-added while its check was running: revive the entry, the check stays valid.
            let index = Int(slot)
            entries[index].removed = false
            entries[index].plan.intervalMs = plan.intervalMs
            entries[index].phaseMs = phase
            slotByID[plan.id] = slot
            // `remove` invalidated its expiry timer: arm it again, or a failing check would never expire it.
            armExpiry(slot)
            return
        }
        var entry = Entry(plan: plan, phaseMs: phase)
        if let created = plan.reportCreatedAtMs, let expires = plan.reportExpiresAtMs {
            entry.refreshAtMs = SlotMath.refreshTime(
                createdAtMs: created, expiresAtMs: expires, refreshBeforeMs: settings.refreshBeforeMs)
        }
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            // Keep generations growing so that timers left over from the previous tenant stay stale.
            entry.checkGeneration = entries[Int(slot)].checkGeneration &+ 1
            entry.expiryGeneration = entries[Int(slot)].expiryGeneration &+ 1
            entries[Int(slot)] = entry
        } else {
            slot = Int32(entries.count)
            entries.append(entry)
        }
        slotByID[plan.id] = slot
        place(slot, now: now, catchUp: true)
        armExpiry(slot)
    }

    private mutating func remove(slot: Int32) {
        let index = Int(slot)
        slotByID[entries[index].plan.id] = nil
        entries[index].removed = true
        entries[index].checkGeneration &+= 1
        entries[index].expiryGeneration &+= 1
        // An in-flight or queued entry is recycled once it leaves that state.
        if !entries[index].inFlight && !entries[index].queued { freeSlots.append(slot) }
    }

    /// Sets the machine's next due time: the earlier of its next slot and its refresh instant; an overdue
    /// machine (when `catchUp`) is spread over the catch-up window instead of firing at once.
    private mutating func place(_ slot: Int32, now: Int64, catchUp: Bool) {
        let index = Int(slot)
        let entry = entries[index]
        let current = SlotMath.slotStart(containing: now, intervalMs: entry.plan.intervalMs, phaseMs: entry.phaseMs)
        var due: Int64
        if let last = entry.plan.lastSlotMs, last >= current {
            due = SlotMath.nextSlot(after: last, intervalMs: entry.plan.intervalMs, phaseMs: entry.phaseMs)
        } else if entry.plan.lastSlotMs == nil || catchUp {
            // Never checked, or a slot passed while we were not looking: check soon, spread out.
            let window = min(settings.catchUpWindowMs, entry.plan.intervalMs)
            due = now + SlotMath.catchUpDelay(machineID: entry.plan.id, windowMs: window)
        } else {
            due = current
        }
        if let refresh = entry.refreshAtMs, entry.plan.stateKnown || entry.plan.reportExpiresAtMs.map({ $0 > now }) == true {
            let refreshDue = refresh <= now && catchUp
                ? now + SlotMath.catchUpDelay(machineID: entry.plan.id, windowMs: min(settings.catchUpWindowMs, max(1, (entry.plan.reportExpiresAtMs ?? now) - now)))
                : refresh
            due = min(due, max(refreshDue, now))
        }
        arm(slot, at: due)
    }

    private mutating func arm(_ slot: Int32, at due: Int64) {
        let index = Int(slot)
        entries[index].checkGeneration &+= 1
        entries[index].catchingUp = false
        entries[index].dueAtMs = due
        timers.insert(Timer(at: due, slot: slot, generation: entries[index].checkGeneration, isExpiry: false))
    }

    private mutating func armExpiry(_ slot: Int32) {
        let index = Int(slot)
        entries[index].expiryGeneration &+= 1
        guard entries[index].plan.stateKnown, let expires = entries[index].plan.reportExpiresAtMs else { return }
        timers.insert(Timer(at: expires, slot: slot, generation: entries[index].expiryGeneration, isExpiry: true))
    }

    /// Pops everything due at `now` and returns the work to do, never more checks in flight than allowed.
    public mutating func fire(now: Int64) -> [SchedulerAction] {
        var actions: [SchedulerAction] = []
        while let top = timers.min, top.at <= now {
            _ = timers.popMin()
            let index = Int(top.slot)
            guard index < entries.count, !entries[index].removed else { continue }
            if top.isExpiry {
                guard top.generation == entries[index].expiryGeneration, entries[index].plan.stateKnown,
                      let expires = entries[index].plan.reportExpiresAtMs else { continue }
                entries[index].plan.stateKnown = false
                actions.append(.expire(machineID: entries[index].plan.id, expiresAtMs: expires))
            } else {
                guard top.generation == entries[index].checkGeneration, !entries[index].inFlight,
                      !entries[index].queued else { continue }
                if now - top.at > Self.lateToleranceMs, !entries[index].catchingUp {
                    let delay = lateCatchUpDelay(index, now: now)
                    if delay > 0 {
                        arm(top.slot, at: now + delay)
                        entries[index].catchingUp = true
                        continue
                    }
                }
                entries[index].queued = true
                ready.append(top.slot)
            }
        }
        while inFlight < settings.maxInFlight, readyHead < ready.count {
            let slot = ready[readyHead]
            readyHead += 1
            let index = Int(slot)
            entries[index].queued = false
            if entries[index].removed {
                freeSlots.append(slot)
                continue
            }
            guard let occurrence = occurrenceDue(index, now: now) else {
                place(slot, now: now, catchUp: false)
                continue
            }
            if entries[index].pending != occurrence { entries[index].attempt = 0 }
            entries[index].pending = occurrence
            entries[index].attempt += 1
            entries[index].inFlight = true
            inFlightSlots[entries[index].plan.id] = slot
            inFlight += 1
            actions.append(.check(
                machineID: entries[index].plan.id, occurrence: occurrence,
                attempt: entries[index].attempt, dueAtMs: entries[index].dueAtMs))
        }
        if readyHead > 1024, readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        return actions
    }

    /// The spread for a machine whose timer went off late: within the catch-up window, and within half the
    /// remaining life of a known report so that the deferral never lets it lapse.
    private func lateCatchUpDelay(_ index: Int, now: Int64) -> Int64 {
        let plan = entries[index].plan
        var window = min(settings.catchUpWindowMs, plan.intervalMs)
        if plan.stateKnown, let expires = plan.reportExpiresAtMs, expires > now { window = min(window, (expires - now) / 2) }
        return SlotMath.catchUpDelay(machineID: plan.id, windowMs: window)
    }

    /// The occurrence a due machine checks now: the current slot if it has not been checked, else a retry
    /// of the pending occurrence, else a refresh whose time has come.
    private func occurrenceDue(_ index: Int, now: Int64) -> Occurrence? {
        let entry = entries[index]
        let current = SlotMath.slotStart(containing: now, intervalMs: entry.plan.intervalMs, phaseMs: entry.phaseMs)
        let slotDone = entry.plan.lastSlotMs.map { $0 >= current } ?? false
        if let pending = entry.pending {
            // A retry keeps its key, unless a newer slot has begun since: that is a new occurrence.
            if pending.kind == .scheduled, pending.at >= current { return pending }
            return slotDone ? pending : Occurrence(kind: .scheduled, at: current)
        }
        if !slotDone { return Occurrence(kind: .scheduled, at: current) }
        if let refresh = entry.refreshAtMs, refresh <= now,
           let expires = entry.plan.reportExpiresAtMs, expires > now {
            return Occurrence(kind: .refresh, at: refresh)
        }
        return nil
    }

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
        case .report(let created, let expires):
            if occurrence.kind == .scheduled {
                entries[index].plan.lastSlotMs = max(entries[index].plan.lastSlotMs ?? .min, occurrence.at)
            }
            entries[index].plan.reportCreatedAtMs = created
            entries[index].plan.reportExpiresAtMs = expires
            entries[index].plan.stateKnown = expires > now
            var refresh = SlotMath.refreshTime(createdAtMs: created, expiresAtMs: expires, refreshBeforeMs: settings.refreshBeforeMs)
            if refresh <= now, expires > now { refresh = now + (expires - now) / 2 }
            refresh = max(refresh, now + Self.minimumRefreshGapMs)
            entries[index].refreshAtMs = refresh < expires ? refresh : nil
            entries[index].pending = nil
            entries[index].attempt = 0
            armExpiry(slot)
            place(slot, now: now, catchUp: false)
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

    /// When `fire(now:)` next has something to do (unix ms), or nil when nothing is scheduled.
    public func nextWakeup() -> Int64? {
        if readyHead < ready.count, inFlight < settings.maxInFlight { return .min }
        return timers.min?.at
    }

    /// The next time `machineID` is due to be checked (for status output).
    public func nextDue(machineID: String) -> Int64? {
        guard let slot = slotByID[machineID] else { return nil }
        let entry = entries[Int(slot)]
        return entry.inFlight || entry.queued ? nil : entry.dueAtMs
    }

    /// The earliest due time of any machine not already running.
    public func earliestDue() -> Int64? {
        var earliest: Int64?
        for (_, slot) in slotByID {
            let entry = entries[Int(slot)]
            if !entry.inFlight, !entry.queued { earliest = min(earliest ?? .max, entry.dueAtMs) }
        }
        return earliest
    }
}
