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
        /// Local instant at which the latest report is refreshed, when a refresh is needed at all.
        var refreshAtMs: Int64?
        /// The refresh occurrence's key instant: derived from the report's own fields, never from `now`.
        var refreshKeyMs: Int64?
        /// The expiry instant armed now (the local expiry, or later when granted grace or waiting).
        var expiryAtMs: Int64?
        /// The expiry was already moved once: for downtime/suspend grace, or to wait for a check in flight.
        var expiryGraced = false
        var expiryWaited = false
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
    var entries: [Entry] = []
    var slotByID: [String: Int32] = [:]
    var freeSlots: [Int32] = []
    var timers = Heap<Timer>()
    /// Machines whose check is due but waits for a free request slot, in due order.
    private var ready: [Int32] = []
    private var readyHead = 0
    public internal(set) var inFlight = 0
    /// The entry of each machine whose check is running (a removed machine's entry stays until it ends).
    var inFlightSlots: [String: Int32] = [:]
    var random: SplitMix64
    /// A fleet-wide pause (429 with Retry-After, 401/403): no check starts before this instant, and after it
    /// only one (a probe) runs at a time until `resumeFleet()`.
    public internal(set) var pausedUntilMs: Int64?

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
        // The first set (a start) removes nothing: no need to collect the wanted ids.
        let first = slotByID.isEmpty && inFlightSlots.isEmpty
        if first {
            slotByID.reserveCapacity(plans.count)
            entries.reserveCapacity(plans.count)
        }
        var wanted = Set<String>()
        if !first { wanted.reserveCapacity(plans.count) }
        for plan in plans {
            if !first { wanted.insert(plan.id) }
            upsert(plan, now: now)
        }
        if !first, wanted.count != slotByID.count {
            for (id, slot) in slotByID where !wanted.contains(id) { remove(slot: slot) }
        }
    }

    /// `setMachines` for a known difference (a reload): `plans` are the machines added or whose interval
    /// changed, `removed` the ids no longer watched; every other machine keeps its timers untouched, so a
    /// reload of 100,000 machines that changes one costs one placement.
    public mutating func updateMachines(_ plans: [MachinePlan], removing removed: [String], now: Int64) {
        for id in removed {
            if let slot = slotByID[id] { remove(slot: slot) }
        }
        for plan in plans { upsert(plan, now: now) }
    }

    /// Adds a machine, or applies a new interval to a known one (the rest of its plan is kept).
    private mutating func upsert(_ plan: MachinePlan, now: Int64) {
        if let slot = slotByID[plan.id] {
            let index = Int(slot)
            if entries[index].plan.intervalMs == plan.intervalMs { return }
            entries[index].plan.intervalMs = plan.intervalMs
            entries[index].phaseMs = SlotMath.phase(machineID: plan.id, intervalMs: plan.intervalMs)
            if !entries[index].inFlight, !entries[index].queued { place(slot, now: now, catchUp: true) }
        } else {
            add(plan, now: now)
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
            let key = SlotMath.refreshTime(createdAtMs: created, expiresAtMs: expires, refreshBeforeMs: settings.refreshBeforeMs)
            entry.refreshKeyMs = key
            entry.refreshAtMs = (plan.localExpiresAtMs ?? expires) - (expires - key)
        }
        if plan.stateKnown, let local = plan.localExpiresAtMs {
            // Expired while nobody watched (downtime): stale, not unknown, until the catch-up check had its chance.
            if local <= now {
                entry.expiryAtMs = now + settings.expiryGraceMs
                entry.expiryGraced = true
            } else {
                entry.expiryAtMs = local
            }
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
    mutating func place(_ slot: Int32, now: Int64, catchUp: Bool) {
        let index = Int(slot)
        let entry = entries[index]
        let current = SlotMath.slotStart(containing: now, intervalMs: entry.plan.intervalMs, phaseMs: entry.phaseMs)
        var due: Int64
        if let last = entry.plan.lastSlotMs, last >= current {
            due = SlotMath.nextSlot(after: last, intervalMs: entry.plan.intervalMs, phaseMs: entry.phaseMs)
            if last > now, let checked = entry.plan.lastCheckedMs, entry.plan.reportCreatedAtMs != nil {
                // The clock is behind the last finished slot (it jumped back): keep the rhythm of real time
                // with refreshes keyed on the report, never reusing a slot's key.
                due = min(due, max(checked + entry.plan.intervalMs, now))
            }
        } else if entry.plan.lastSlotMs == nil || catchUp {
            // Never checked, or a slot passed while we were not looking: check soon, spread out.
            let window = min(settings.catchUpWindowMs, entry.plan.intervalMs)
            due = now + SlotMath.catchUpDelay(machineID: entry.plan.id, windowMs: window)
        } else {
            due = current
        }
        if let refresh = entry.refreshAtMs, entry.plan.stateKnown || entry.plan.localExpiresAtMs.map({ $0 > now }) == true {
            let refreshDue = refresh <= now && catchUp
                ? now + SlotMath.catchUpDelay(machineID: entry.plan.id, windowMs: min(settings.catchUpWindowMs, max(1, (entry.plan.localExpiresAtMs ?? now) - now)))
                : refresh
            due = min(due, max(refreshDue, now))
        }
        arm(slot, at: due)
    }

    mutating func arm(_ slot: Int32, at due: Int64) {
        let index = Int(slot)
        entries[index].checkGeneration &+= 1
        entries[index].catchingUp = false
        entries[index].dueAtMs = due
        timers.insert(Timer(at: due, slot: slot, generation: entries[index].checkGeneration, isExpiry: false))
    }

    mutating func armExpiry(_ slot: Int32) {
        let index = Int(slot)
        entries[index].expiryGeneration &+= 1
        guard entries[index].plan.stateKnown, let expires = entries[index].expiryAtMs ?? entries[index].plan.localExpiresAtMs else { return }
        timers.insert(Timer(at: expires, slot: slot, generation: entries[index].expiryGeneration, isExpiry: true))
    }

    /// Moves the armed expiry of `slot` to `at` (grace, or waiting for a check in flight).
    mutating func moveExpiry(_ slot: Int32, to at: Int64) {
        entries[Int(slot)].expiryAtMs = at
        armExpiry(slot)
    }

    /// Pops everything due at `now` and returns the work to do, never more checks in flight than allowed.
    public mutating func fire(now: Int64) -> [SchedulerAction] {
        var actions: [SchedulerAction] = []
        var expiring: [Timer] = []
        while let top = timers.min, top.at <= now {
            _ = timers.popMin()
            let index = Int(top.slot)
            guard index < entries.count, !entries[index].removed else { continue }
            if top.isExpiry {
                guard top.generation == entries[index].expiryGeneration, entries[index].plan.stateKnown else { continue }
                // Judged after the checks due at this instant have started: a check beats an expiry.
                expiring.append(top)
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
        let limit = startLimit(now: now)
        while inFlight < limit, readyHead < ready.count {
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
        for timer in expiring {
            let index = Int(timer.slot)
            if now - timer.at > Self.lateToleranceMs, !entries[index].expiryGraced {
                // Went off late (suspend, a stalled process): like downtime, the catch-up check gets its chance.
                entries[index].expiryGraced = true
                moveExpiry(timer.slot, to: now + settings.expiryGraceMs)
                continue
            }
            let imminent = entries[index].dueAtMs <= now + settings.requestTimeoutMs
            if entries[index].inFlight || entries[index].queued || imminent, !entries[index].expiryWaited {
                // A check is under way or due within a request timeout: wait for its answer, once, at most
                // one request timeout after it starts.
                entries[index].expiryWaited = true
                let start = entries[index].inFlight || entries[index].queued ? now : max(now, entries[index].dueAtMs)
                moveExpiry(timer.slot, to: start + max(1, settings.requestTimeoutMs))
                continue
            }
            entries[index].plan.stateKnown = false
            actions.append(.expire(machineID: entries[index].plan.id, expiresAtMs: entries[index].plan.localExpiresAtMs ?? timer.at))
        }
        return actions
    }

    /// The spread for a machine whose timer went off late: within the catch-up window, and within half the
    /// remaining life of a known report so that the deferral never lets it lapse.
    private func lateCatchUpDelay(_ index: Int, now: Int64) -> Int64 {
        let plan = entries[index].plan
        var window = min(settings.catchUpWindowMs, plan.intervalMs)
        if plan.stateKnown, let expires = plan.localExpiresAtMs, expires > now { window = min(window, (expires - now) / 2) }
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
        // A stale report (known state, expired while nobody watched) is refreshed too: that is its catch-up.
        if let refresh = entry.refreshAtMs, refresh <= now, let key = entry.refreshKeyMs,
           let expires = entry.plan.localExpiresAtMs, expires > now || entry.plan.stateKnown {
            return Occurrence(kind: .refresh, at: key)
        }
        if let last = entry.plan.lastSlotMs, last > now, let checked = entry.plan.lastCheckedMs,
           checked + entry.plan.intervalMs <= now, let key = reportKey(entry) {
            // Behind the last finished slot after a backward clock jump: a refresh keyed on the report.
            return Occurrence(kind: .refresh, at: key)
        }
        return nil
    }

    /// The refresh key instant of the machine's latest report, from its API fields alone.
    private func reportKey(_ entry: Entry) -> Int64? {
        guard let created = entry.plan.reportCreatedAtMs, let expires = entry.plan.reportExpiresAtMs else { return nil }
        return SlotMath.refreshTime(createdAtMs: created, expiresAtMs: expires, refreshBeforeMs: settings.refreshBeforeMs)
    }

    /// When `fire(now:)` next has something to do (unix ms), or nil when nothing is scheduled.
    public func nextWakeup() -> Int64? {
        if readyHead < ready.count {
            if let until = pausedUntilMs {
                if inFlight == 0 { return min(until, timers.min?.at ?? .max) }
            } else if inFlight < settings.maxInFlight {
                return .min
            }
        }
        return timers.min?.at
    }

    /// The interval of `machineID`, if it is watched.
    public func intervalMs(machineID: String) -> Int64? {
        slotByID[machineID].map { entries[Int($0)].plan.intervalMs }
    }

    /// The next time `machineID` is due to be checked (for status output).
    public func nextDue(machineID: String) -> Int64? {
        guard let slot = slotByID[machineID] else { return nil }
        let entry = entries[Int(slot)]
        return entry.inFlight || entry.queued ? nil : entry.dueAtMs
    }

    /// The earliest due time of any machine not already running.
    ///
    /// Every such machine has a live check timer at its due time, so when the heap's first timer is a live
    /// check timer it is the answer (the usual case: the status line asks each second); otherwise one pass.
    public func earliestDue() -> Int64? {
        if let top = timers.min, !top.isExpiry, Int(top.slot) < entries.count {
            let entry = entries[Int(top.slot)]
            if !entry.removed, !entry.inFlight, !entry.queued, top.generation == entry.checkGeneration, top.at == entry.dueAtMs {
                return top.at
            }
        }
        var earliest: Int64?
        for entry in entries where !entry.removed && !entry.inFlight && !entry.queued {
            earliest = min(earliest ?? .max, entry.dueAtMs)
        }
        return earliest
    }
}
