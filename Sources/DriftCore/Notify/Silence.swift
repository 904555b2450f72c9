/// An operator's silence (`akua-driftd silence add`): changes of the machines it covers are journaled
/// with `DRIFT_SILENCED=1` but not sent while it lasts; when it ends, the current state is sent if it
/// differs from the last one sent.
public struct Silence: Sendable, Hashable, Codable {
    /// `sil_` and 12 hex digits.
    public var id: String
    /// The machines it covers; nil covers every machine (`--all`).
    public var machineIDs: [String]?
    /// Unix ms, inclusive.
    public var startsAtMs: Int64
    /// Unix ms, exclusive.
    public var endsAtMs: Int64
    public var reason: String
    /// Who added it (the invoking user's name), if known.
    public var createdBy: String?
    public var createdAtMs: Int64

    public init(
        id: String, machineIDs: [String]?, startsAtMs: Int64, endsAtMs: Int64, reason: String,
        createdBy: String?, createdAtMs: Int64
    ) {
        self.id = id
        self.machineIDs = machineIDs
        self.startsAtMs = startsAtMs
        self.endsAtMs = endsAtMs
        self.reason = reason
        self.createdBy = createdBy
        self.createdAtMs = createdAtMs
    }

    /// Whether it mutes `machineID` at `atMs`.
    public func covers(machineID: String, atMs: Int64) -> Bool {
        guard startsAtMs <= atMs, atMs < endsAtMs else { return false }
        return machineIDs.map { $0.contains(machineID) } ?? true
    }
}

/// When announcements for a machine are muted (silences and maintenance windows), as the engine asks it.
/// Pure for the policy: the adapter that knows time zones (DriftConfig) answers, the policy only reads.
public protocol MuteSchedule: Sendable {
    /// If `machineID` is muted at `atMs`: until when (unix ms, exclusive) and why (for the journal);
    /// nil when it is not.
    func muted(machineID: String, atMs: Int64) -> Mute?
}

/// A mute in force: until when, and what imposes it (`silence sil_…: reason` or `maintenance window 1`).
public struct Mute: Sendable, Hashable {
    public var untilMs: Int64
    public var reason: String
    public init(untilMs: Int64, reason: String) {
        self.untilMs = untilMs
        self.reason = reason
    }
}

/// Nothing is ever muted.
public struct NoMutes: MuteSchedule {
    public init() {}
    public func muted(machineID: String, atMs: Int64) -> Mute? { nil }
}
