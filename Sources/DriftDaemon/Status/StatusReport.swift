import DriftConfig
import DriftCore
import DriftStore
import Foundation

/// `akua-driftd status`: the current state per machine, read from the state file (safe while the daemon
/// runs), as an aligned table or as JSON.
public enum StatusReport {
    /// One machine in `status --json`. Timestamps are unix seconds, like the API's.
    public struct Row: Codable, Equatable, Sendable {
        public var machine_id: String
        public var name: String?
        public var state: String
        public var since: Int64?
        public var report_id: String?
        public var report_state: String?
        public var expires_at: Int64?
        public var last_checked_at: Int64?
        public var next_due_at: Int64?
        public var last_error: String?
        public var consecutive_failures: Int
        public var drifted_attributes: [String]
        /// The state is known but its report has expired on the daemon's clock: a catch-up check is due
        /// (after downtime or a suspend) and decides before anything is announced.
        public var stale: Bool = false
        /// `consecutive_failures` reached `[schedule] failing_after`: checks of this machine keep failing.
        public var failing: Bool = false
        /// The report's expiry on this host's clock (unix seconds), which decides staleness.
        public var expires_at_local: Int64?
        /// A new state seen but not yet announced (`[notify] confirm`/`for`), and since when (unix seconds).
        public var pending_state: String?
        public var pending_since: Int64?
        /// The differing attributes `ignore_attributes` ([notify] ∪ the machine's) leaves out of announcements.
        public var ignored_attributes: [String]?
        /// A silence or maintenance window in force for the machine: until when (unix seconds) and which.
        public var muted_until: Int64?
        public var muted_by: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(machine_id, forKey: .machine_id)
            try c.encode(name, forKey: .name)
            try c.encode(state, forKey: .state)
            try c.encode(since, forKey: .since)
            try c.encode(report_id, forKey: .report_id)
            try c.encode(report_state, forKey: .report_state)
            try c.encode(expires_at, forKey: .expires_at)
            try c.encode(last_checked_at, forKey: .last_checked_at)
            try c.encode(next_due_at, forKey: .next_due_at)
            try c.encode(last_error, forKey: .last_error)
            try c.encode(consecutive_failures, forKey: .consecutive_failures)
            try c.encode(drifted_attributes, forKey: .drifted_attributes)
            try c.encode(stale, forKey: .stale)
            try c.encode(failing, forKey: .failing)
            try c.encode(expires_at_local, forKey: .expires_at_local)
            try c.encode(pending_state, forKey: .pending_state)
            try c.encode(pending_since, forKey: .pending_since)
            try c.encode(ignored_attributes, forKey: .ignored_attributes)
            try c.encode(muted_until, forKey: .muted_until)
            try c.encode(muted_by, forKey: .muted_by)
        }

        /// Drifted only in ignored attributes: announced (and counted by `status`'s exit code) as in_sync.
        public var onlyIgnoredDiffer: Bool {
            state == DriftState.drifted.rawValue && !drifted_attributes.isEmpty
                && Set(drifted_attributes).isSubset(of: ignored_attributes ?? [])
        }

        enum CodingKeys: String, CodingKey {
            case machine_id, name, state, since, report_id, report_state, expires_at, last_checked_at, next_due_at,
                 last_error, consecutive_failures, drifted_attributes, stale, failing, expires_at_local,
                 pending_state, pending_since, ignored_attributes, muted_until, muted_by
        }
    }

    public static func rows(
        _ machines: [MachineRecord], nowMs: Int64 = SystemClock().nowMs(), failingAfter: Int = ScheduleSettings.defaultFailingAfter
    ) -> [Row] {
        machines.map { record in
            var row = Row(
                machine_id: record.id, name: record.name, state: record.state.rawValue,
                since: record.stateSince.map { $0 / 1000 }, report_id: record.report?.id,
                report_state: record.report?.state.rawValue, expires_at: record.report?.expiresAt,
                last_checked_at: record.lastCheckedAt.map { $0 / 1000 }, next_due_at: record.nextDueAt.map { $0 / 1000 },
                last_error: record.lastError, consecutive_failures: record.consecutiveFailures,
                drifted_attributes: record.report?.state == .drifted ? record.report?.differingAttributes ?? [] : [])
            row.stale = isStale(record, nowMs: nowMs)
            row.failing = record.consecutiveFailures >= failingAfter
            row.expires_at_local = (record.reportLocalExpiresAt ?? record.report.map { $0.expiresAt * 1000 }).map { $0 / 1000 }
            return row
        }
    }

    /// Known state, but the report's local expiry has passed (awaiting the catch-up check).
    static func isStale(_ record: MachineRecord, nowMs: Int64) -> Bool {
        guard record.state != .unknown, let report = record.report else { return false }
        let expires = record.reportLocalExpiresAt ?? report.expiresAt.multipliedReportingOverflow(by: 1000).partialValue
        return expires <= nowMs
    }

    public static func json(_ machines: [MachineRecord], nowMs: Int64 = SystemClock().nowMs()) -> String {
        json(rows(machines, nowMs: nowMs))
    }

    /// The `status --json` array.
    public static func json(_ rows: [Row]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(rows)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// An aligned table: MACHINE NAME STATE SINCE REPORT EXPIRES LAST ERROR, times relative to `nowMs`.
    public static func table(_ machines: [MachineRecord], nowMs: Int64, clockSkewMs: Int64? = nil, failingAfter: Int = 3) -> String {
        table(rows(machines, nowMs: nowMs, failingAfter: failingAfter), nowMs: nowMs, clockSkewMs: clockSkewMs)
    }

    /// The table from `rows` (as read from the state file or from the daemon's status snapshot).
    public static func table(_ rows: [Row], nowMs: Int64, clockSkewMs: Int64? = nil) -> String {
        var lines: [[String]] = [["MACHINE", "NAME", "STATE", "SINCE", "REPORT", "EXPIRES", "LAST ERROR"]]
        for row in rows {
            var state = row.state
            if row.onlyIgnoredDiffer { state += " (ignored)" }
            if row.stale { state += " (stale)" }
            if let pending = row.pending_state { state += pending == row.state ? " (unconfirmed)" : " (pending \(pending))" }
            if row.muted_until != nil { state += " (silenced)" }
            if row.failing { state += " (failing \(row.consecutive_failures))" }
            lines.append([
                row.machine_id,
                row.name ?? "-",
                state,
                row.since.map { relative(nowMs - $0 * 1000, past: true) } ?? "-",
                row.report_id ?? "-",
                (row.expires_at_local ?? row.expires_at).map { relative($0 * 1000 - nowMs, past: false) } ?? "-",
                row.last_error.map { String($0.prefix(80)) } ?? "-",
            ])
        }
        var widths = [Int](repeating: 0, count: 7)
        for line in lines { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var summary = FleetSummary()
        for row in rows {
            summary.add(DriftState(rawValue: row.state) ?? .unknown)
            if row.failing { summary.failing += 1 }
        }
        let body = lines.map { line in
            line.enumerated().map { i, cell in i == line.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        var footer = ["", summary.statusLine(nextCheckInMs: nil)]
        if let skew = clockSkewMs, abs(skew) < 1_000 {
            footer.append("Akua API clock agrees with this host (within 1 s)")
        } else if let skew = clockSkewMs {
            let warn = abs(skew) > 5_000 ? " (over 5 s: check NTP on this host)" : ""
            footer.append("Akua API clock \(skew >= 0 ? "ahead of" : "behind") this host by \(DurationText.format(milliseconds: abs(skew) / 1000 * 1000))\(warn)")
        }
        return (body + footer).joined(separator: "\n")
    }

    /// "5m ago", "in 14m", "expired 3s ago".
    public static func relative(_ deltaMs: Int64, past: Bool) -> String {
        let magnitude = DurationText.format(milliseconds: roundedToSeconds(abs(deltaMs)))
        if past { return deltaMs >= 0 ? "\(magnitude) ago" : "in \(magnitude)" }
        return deltaMs >= 0 ? "in \(magnitude)" : "expired \(magnitude) ago"
    }

    private static func roundedToSeconds(_ ms: Int64) -> Int64 {
        let seconds = ms / 1000
        // Keep it short: at most two units.
        if seconds >= 86_400 { return seconds / 3600 * 3_600_000 }
        if seconds >= 3600 { return seconds / 60 * 60_000 }
        return seconds * 1000
    }
}
