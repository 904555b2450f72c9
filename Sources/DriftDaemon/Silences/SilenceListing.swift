import DriftCore
import DriftStore
import Foundation

/// `akua-driftd silence list`: the silences as a table (ID MACHINES FROM UNTIL REMAINING REASON BY) or as
/// JSON, and the phrases `silence add` and `status` share.
public enum SilenceListing {
    /// One silence in `silence list --json`. Timestamps are unix seconds, like `status --json`.
    public struct Row: Codable, Equatable, Sendable {
        public var id: String
        /// Null: every machine.
        public var machines: [String]?
        public var starts_at: Int64
        public var ends_at: Int64
        /// `active`, `pending` (starts later), `ended` or `removed`.
        public var state: String
        /// Seconds until it ends (active) or starts (pending); 0 otherwise.
        public var remaining_seconds: Int64
        public var reason: String
        public var created_by: String?
        public var created_at: Int64
        public var removed_at: Int64?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(machines, forKey: .machines)
            try c.encode(starts_at, forKey: .starts_at)
            try c.encode(ends_at, forKey: .ends_at)
            try c.encode(state, forKey: .state)
            try c.encode(remaining_seconds, forKey: .remaining_seconds)
            try c.encode(reason, forKey: .reason)
            try c.encode(created_by, forKey: .created_by)
            try c.encode(created_at, forKey: .created_at)
            try c.encode(removed_at, forKey: .removed_at)
        }

        enum CodingKeys: String, CodingKey {
            case id, machines, starts_at, ends_at, state, remaining_seconds, reason, created_by, created_at, removed_at
        }
    }

    public static func row(_ stored: StoredSilence, nowMs: Int64) -> Row {
        let silence = stored.silence
        let state: String
        var remaining: Int64 = 0
        if stored.removedAtMs != nil {
            state = "removed"
        } else if nowMs >= silence.endsAtMs {
            state = "ended"
        } else if nowMs < silence.startsAtMs {
            state = "pending"
            remaining = (silence.startsAtMs - nowMs + 999) / 1000
        } else {
            state = "active"
            remaining = (silence.endsAtMs - nowMs + 999) / 1000
        }
        return Row(
            id: silence.id, machines: silence.machineIDs, starts_at: silence.startsAtMs / 1000, ends_at: silence.endsAtMs / 1000,
            state: state, remaining_seconds: remaining, reason: silence.reason, created_by: silence.createdBy,
            created_at: silence.createdAtMs / 1000, removed_at: stored.removedAtMs.map { $0 / 1000 })
    }

    /// The `--json` array.
    public static func json(_ silences: [StoredSilence], nowMs: Int64) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let rows = silences.map { row($0, nowMs: nowMs) }
        return String(decoding: (try? encoder.encode(rows)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// "every machine" or the ids, comma-separated.
    public static func machines(_ ids: [String]?) -> String {
        ids?.joined(separator: ",") ?? "every machine"
    }

    /// "1h59m", "starts in 10m", "ended", "removed".
    public static func remaining(_ stored: StoredSilence, nowMs: Int64) -> String {
        let silence = stored.silence
        if stored.removedAtMs != nil { return "removed" }
        if nowMs >= silence.endsAtMs { return "ended" }
        if nowMs < silence.startsAtMs { return "starts in " + SilenceTime.duration(silence.startsAtMs - nowMs) }
        return SilenceTime.duration(silence.endsAtMs - nowMs)
    }

    /// The aligned table; "no silences" when empty.
    public static func table(_ silences: [StoredSilence], nowMs: Int64, timeZone: TimeZone = .current, all: Bool) -> String {
        if silences.isEmpty { return all ? "no silences" : "no active or upcoming silences" }
        var lines: [[String]] = [["ID", "MACHINES", "FROM", "UNTIL", "REMAINING", "REASON", "BY"]]
        for stored in silences {
            let silence = stored.silence
            lines.append([
                silence.id, machines(silence.machineIDs), SilenceTime.format(silence.startsAtMs, timeZone: timeZone),
                SilenceTime.format(silence.endsAtMs, timeZone: timeZone), remaining(stored, nowMs: nowMs),
                silence.reason.replacingOccurrences(of: "\n", with: " "), silence.createdBy ?? "-",
            ])
        }
        return align(lines)
    }

    /// Columns padded to their widest cell, two spaces apart (the last one unpadded).
    static func align(_ lines: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: lines.first?.count ?? 0)
        for line in lines { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return lines.map { line in
            line.enumerated().map { i, cell in i == line.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
