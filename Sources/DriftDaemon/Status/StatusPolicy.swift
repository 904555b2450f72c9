import DriftConfig
import DriftCore
import DriftStore
import Foundation

/// What the notification policy adds to `status`: the silences and maintenance windows in force, the
/// pending (not yet announced) states, and the differing attributes `ignore_attributes` leaves out.
public struct StatusPolicy: Sendable {
    /// One `[[maintenance]]` window in `status`.
    public struct MaintenanceRow: Codable, Equatable, Sendable {
        /// "maintenance window 1 (sat,sun 02:00-04:00 Europe/Berlin)".
        public var window: String
        /// Null: every machine.
        public var machines: [String]?
        /// Unix seconds: the end of the occurrence in force; null when it is not in force.
        public var active_until: Int64?
    }

    /// A machine's unconfirmed new state.
    public struct Pending: Sendable, Equatable {
        public var state: String
        /// Unix ms.
        public var sinceMs: Int64
        public init(state: String, sinceMs: Int64) {
            self.state = state
            self.sinceMs = sinceMs
        }
    }

    /// Active and upcoming silences.
    public var silences: [StoredSilence] = []
    public var config: DaemonConfig?
    /// Pending states by machine id.
    public var pending: [String: Pending] = [:]

    /// Reads the silences (none in a file older than migration v3) and the pending states.
    public static func read(_ database: AppDatabase, config: DaemonConfig?, nowMs: Int64) throws -> StatusPolicy {
        var policy = StatusPolicy(config: config)
        do {
            policy.silences = try database.silences(atMs: nowMs)
        } catch SilenceError.noSilenceTable {
            policy.silences = []
        }
        policy.pending = try pendingStates(database)
        return policy
    }

    /// The pending (unconfirmed) state of each machine (the earliest over the webhooks; none before v4).
    static func pendingStates(_ database: AppDatabase) throws -> [String: Pending] {
        try database.pendingNotifications().mapValues { Pending(state: $0.state.rawValue, sinceMs: $0.sinceMs) }
    }

    /// The attributes of `machineID` left out of announcements: `[notify]` ∪ the machine's own
    /// `ignore_attributes` (a webhook may add more for itself; `status` shows the common part).
    public func ignoredAttributes(machineID: String) -> Set<String> {
        guard let config else { return [] }
        var set = config.notify.ignoreAttributes ?? []
        if let machine = config.machines.first(where: { $0.id == machineID }) { set.formUnion(machine.notify.ignoreAttributes ?? []) }
        return set
    }

    /// The mute in force for `machineID` at `nowMs` that lasts longest: a silence or a maintenance window.
    public func mute(machineID: String, nowMs: Int64) -> Mute? {
        var found: Mute?
        for stored in silences where stored.isActive(atMs: nowMs) && stored.silence.covers(machineID: machineID, atMs: nowMs) {
            if stored.silence.endsAtMs > (found?.untilMs ?? .min) {
                found = Mute(untilMs: stored.silence.endsAtMs, reason: "silence \(stored.silence.id): \(stored.silence.reason)")
            }
        }
        if let window = config?.maintenanceSchedule.muted(machineID: machineID, atMs: nowMs), window.untilMs > (found?.untilMs ?? .min) {
            found = window
        }
        return found
    }

    /// Adds pending states, ignored attributes and mutes to the machines' rows.
    public func apply(to rows: inout [StatusReport.Row], nowMs: Int64) {
        let machines = config.map { Dictionary($0.machines.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }) } ?? [:]
        let global = config?.notify.ignoreAttributes ?? []
        for index in rows.indices {
            let id = rows[index].machine_id
            let ignored = global.union(machines[id]?.notify.ignoreAttributes ?? [])
            rows[index].ignored_attributes = rows[index].drifted_attributes.filter(ignored.contains).sorted()
            if let pending = pending[id] {
                rows[index].pending_state = pending.state
                rows[index].pending_since = pending.sinceMs / 1000
            }
            if let mute = mute(machineID: id, nowMs: nowMs) {
                rows[index].muted_until = mute.untilMs / 1000
                rows[index].muted_by = mute.reason
            }
        }
    }

    public func maintenanceRows(nowMs: Int64) -> [MaintenanceRow]? {
        guard let config else { return nil }
        return config.maintenance.map {
            MaintenanceRow(window: $0.description, machines: $0.machineIDs, active_until: $0.activeUntil(atMs: nowMs).map { $0 / 1000 })
        }
    }

    /// The lines under `status`'s table: silences, maintenance windows, pending states, ignored attributes.
    static func text(
        machines: [StatusReport.Row], silences: [SilenceListing.Row], maintenance: [MaintenanceRow], nowMs: Int64
    ) -> [String] {
        var lines: [String] = []
        for silence in silences {
            let active = silence.starts_at * 1000 <= nowMs
            let when = active
                ? "until \(SilenceTime.format(silence.ends_at * 1000)) (\(StatusReport.relative(silence.ends_at * 1000 - nowMs, past: false)))"
                : "from \(SilenceTime.format(silence.starts_at * 1000)) until \(SilenceTime.format(silence.ends_at * 1000))"
            lines.append("silence \(silence.id): \(SilenceListing.machines(silence.machines)) \(when), by \(silence.created_by ?? "-"): \(silence.reason)")
        }
        for window in maintenance {
            let scope = SilenceListing.machines(window.machines)
            let state = window.active_until.map { "IN FORCE until \(SilenceTime.format($0 * 1000))" } ?? "not in force"
            lines.append("\(window.window): \(scope), \(state)")
        }
        for row in machines {
            if let pending = row.pending_state {
                let since = row.pending_since.map { " since \(StatusReport.relative(nowMs - $0 * 1000, past: true))" } ?? ""
                lines.append("pending: \(row.machine_id) \(pending)\(since), not yet announced ([notify] confirm/for)")
            }
            if let ignored = row.ignored_attributes, !ignored.isEmpty {
                let rest = row.drifted_attributes.filter { !ignored.contains($0) }
                let effect = rest.isEmpty ? "announced as in_sync" : "still differing: \(rest.joined(separator: ", "))"
                lines.append("ignored: \(row.machine_id) \(ignored.joined(separator: ", ")) (ignore_attributes; \(effect))")
            }
        }
        return lines.isEmpty ? [] : [""] + lines
    }
}
