import DriftCore
import DriftStore

/// A policy track's key: one webhook, one machine.
public struct NotifyKey: Sendable, Hashable {
    public var webhook: String
    public var machineID: String
    public init(webhook: String, machineID: String) {
        self.webhook = webhook
        self.machineID = machineID
    }
}

/// The notification policy's memory in the engine: tracks, open group windows, silences and a heap of
/// deadlines (tracks' ticks, groups' ends) so the scheduler's wake-up includes the earliest (no polling).
public struct NotifyMemory: Sendable {
    enum Due: Sendable, Hashable {
        case track(NotifyKey)
        case group(webhook: String, bucketStartMs: Int64)
    }

    public var tracks: [NotifyKey: NotifyTrack] = [:]
    /// Whether some webhook has a policy for some machine (set when the settings are loaded).
    public var policyActive = false
    var trackDeadlines: [NotifyKey: Int64] = [:]
    /// Open group windows: webhook → bucket start → members (oldest first) and the window's end.
    var groups: [String: [Int64: (endMs: Int64, members: [NotifyGroupMember])]] = [:]
    /// Silences in force or to come (not removed), from the state file.
    public var silences: [Silence] = []
    /// After a failed write, policy deadlines wait until then (no busy loop on a full disk).
    var retryNotBeforeMs: Int64?
    private var heap: [(at: Int64, due: Due)] = []

    /// The mute in force for `machineID` at `atMs` lasting longest: a silence or a maintenance window.
    func mute(machineID: String, atMs: Int64, maintenance: any MuteSchedule, hasMaintenance: Bool) -> Mute? {
        var found: Mute?
        for silence in silences where silence.covers(machineID: machineID, atMs: atMs) {
            if silence.endsAtMs > (found?.untilMs ?? .min) {
                found = Mute(untilMs: silence.endsAtMs, reason: "silence \(silence.id): \(silence.reason)")
            }
        }
        if hasMaintenance, let window = maintenance.muted(machineID: machineID, atMs: atMs), window.untilMs > (found?.untilMs ?? .min) {
            found = window
        }
        return found
    }

    mutating func setTrack(_ key: NotifyKey, _ track: NotifyTrack?, deadline: Int64?) {
        let old = trackDeadlines[key]
        tracks[key] = track
        trackDeadlines[key] = deadline
        if let deadline, deadline != old { push(deadline, .track(key)) }
    }

    func deadline(of key: NotifyKey) -> Int64? { trackDeadlines[key] }

    mutating func addMember(_ member: NotifyGroupMember, endMs: Int64) {
        var buckets = groups[member.webhook] ?? [:]
        var entry = buckets[member.bucketStartMs] ?? (endMs, [])
        if entry.members.contains(where: { $0.eventID == member.eventID }) { return }
        entry.members.append(member)
        if entry.members.count == 1 { push(endMs, .group(webhook: member.webhook, bucketStartMs: member.bucketStartMs)) }
        buckets[member.bucketStartMs] = entry
        groups[member.webhook] = buckets
    }

    mutating func removeGroup(webhook: String, bucketStartMs: Int64) {
        groups[webhook]?[bucketStartMs] = nil
        if groups[webhook]?.isEmpty == true { groups[webhook] = nil }
    }

    /// Asks for a tick of `key` at `atMs` (a mute may have ended early).
    mutating func touch(_ key: NotifyKey, atMs: Int64) {
        guard tracks[key] != nil else { return }
        trackDeadlines[key] = min(trackDeadlines[key] ?? atMs, atMs)
        push(trackDeadlines[key]!, .track(key))
    }

    /// The earliest valid deadline (stale heap entries are dropped on the way).
    mutating func nextDeadline() -> Int64? {
        while let top = heap.first {
            if isValid(top) { return max(top.at, retryNotBeforeMs ?? .min) }
            popTop()
        }
        return nil
    }

    /// Everything due at `now`, removed from the heap (each once).
    mutating func takeDue(now: Int64) -> [Due] {
        if let retry = retryNotBeforeMs, now < retry { return [] }
        retryNotBeforeMs = nil
        var due: [Due] = []
        var seen = Set<Due>()
        while let top = heap.first, top.at <= now {
            popTop()
            if isValid(top), seen.insert(top.due).inserted {
                due.append(top.due)
                // Consumed: the decision sets the next one.
                if case .track(let key) = top.due { trackDeadlines[key] = nil }
            }
        }
        return due
    }

    /// Puts back what `takeDue` handed out when its step could not be written.
    mutating func putBack(_ due: [Due], at: Int64) {
        for entry in due {
            switch entry {
            case .track(let key):
                guard tracks[key] != nil else { continue }
                trackDeadlines[key] = at
                push(at, entry)
            case .group(let webhook, let bucket): if let end = groups[webhook]?[bucket]?.endMs { push(end, entry) }
            }
        }
        retryNotBeforeMs = at
    }

    private func isValid(_ entry: (at: Int64, due: Due)) -> Bool {
        switch entry.due {
        case .track(let key): trackDeadlines[key] == entry.at
        case .group(let webhook, let bucket): groups[webhook]?[bucket]?.endMs == entry.at
        }
    }

    private mutating func push(_ at: Int64, _ due: Due) {
        heap.append((at, due))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].at < heap[parent].at else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popTop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].at < heap[smallest].at { smallest = left }
            if right < heap.count, heap[right].at < heap[smallest].at { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
