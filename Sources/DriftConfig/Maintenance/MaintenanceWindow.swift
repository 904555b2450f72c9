import Foundation

/// One `[[maintenance]]` block: a weekly window of local wall-clock time in which announcements for its
/// machines are muted, like a silence. A window whose `to` is not after `from` ends on the next day and
/// belongs to the day it started on.
///
/// DST: `from` and `to` are wall-clock times in `timeZone`. A time the clock skips (spring forward) is
/// taken as the first instant after it; a time the clock shows twice (fall back) starts the window at
/// its first occurrence and ends it at its second, so the window covers every instant the clock shows
/// a time inside it. Days are the proleptic Gregorian calendar's, counted in the zone's local time.
public struct MaintenanceWindow: Sendable, Equatable, CustomStringConvertible {
    /// A day of the week as the config writes it (`mon` ... `sun`), ISO numbered (Monday = 1).
    public enum Weekday: Int, Sendable, Hashable, CaseIterable, Comparable {
        case mon = 1, tue, wed, thu, fri, sat, sun

        /// The name in the config (`"sat"`).
        public var name: String { String(describing: self) }

        public init?(name: String) {
            guard let day = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = day
        }

        /// The weekday of a day counted from 1970-01-01 (a Thursday).
        init(dayNumber: Int64) {
            let index = ((dayNumber + 3) % 7 + 7) % 7  // 0 = Monday
            self = Weekday(rawValue: Int(index) + 1)!
        }

        public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The window's position among the `[[maintenance]]` blocks, from 1 (journal: "maintenance window 1").
    public var number: Int
    /// The machines it mutes, as written; nil mutes every machine.
    public var machineIDs: [String]? {
        didSet { machineSet = machineIDs.map(Set.init) }
    }
    /// The days a window starts on.
    public var days: Set<Weekday>
    /// `from` and `to` in minutes after local midnight (0..<1440); `to <= from` ends on the next day.
    public var fromMinute: Int
    public var toMinute: Int
    /// The IANA name as written (`"Europe/Berlin"`, default `"UTC"`).
    public var timeZoneName: String
    private var timeZone: TimeZone
    private var machineSet: Set<String>?

    /// Nil when `timeZoneName` is not a time zone Foundation knows.
    public init?(
        number: Int, machineIDs: [String]?, days: Set<Weekday>, fromMinute: Int, toMinute: Int, timeZoneName: String = "UTC"
    ) {
        guard let timeZone = TimeZone(identifier: timeZoneName) else { return nil }
        self.number = number
        self.machineIDs = machineIDs
        self.machineSet = machineIDs.map(Set.init)
        self.days = days
        self.fromMinute = fromMinute
        self.toMinute = toMinute
        self.timeZoneName = timeZoneName
        self.timeZone = timeZone
    }

    /// Whether the window ends on the day after it starts.
    public var crossesMidnight: Bool { toMinute <= fromMinute }

    /// Whether the window mutes `machineID`.
    public func appliesTo(machineID: String) -> Bool {
        machineSet?.contains(machineID) ?? true
    }

    /// If `atMs` (unix ms) lies inside an occurrence of the window: that occurrence's end (unix ms,
    /// exclusive); nil when it lies outside every occurrence.
    public func activeUntil(atMs: Int64) -> Int64? {
        let localDay = Self.floorDivide(atMs + offsetMs(at: atMs), Self.dayMs)
        var until: Int64?
        // An occurrence lasts less than a day of wall-clock time, so it started today or yesterday.
        for day in [localDay - 1, localDay] where days.contains(Weekday(dayNumber: day)) {
            let start = instant(ofWallMs: day * Self.dayMs + Int64(fromMinute) * 60_000, latest: false)
            let endDay = crossesMidnight ? day + 1 : day
            let end = instant(ofWallMs: endDay * Self.dayMs + Int64(toMinute) * 60_000, latest: true)
            if start <= atMs, atMs < end { until = max(until ?? end, end) }
        }
        return until
    }

    /// "maintenance window 1 (sat,sun 02:00-04:00 Europe/Berlin)", as the journal names a mute.
    public var description: String {
        "maintenance window \(number) (\(days.sorted().map(\.name).joined(separator: ",")) "
            + "\(Self.clock(fromMinute))-\(Self.clock(toMinute)) \(timeZoneName))"
    }

    /// "HH:MM" for minutes after midnight.
    static func clock(_ minute: Int) -> String {
        let hours = minute / 60, minutes = minute % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }

    // MARK: Wall clock ↔ instants

    static let dayMs: Int64 = 86_400_000

    /// The zone's UTC offset at `atMs`, in ms.
    private func offsetMs(at atMs: Int64) -> Int64 {
        let seconds = Self.floorDivide(atMs, 1000)
        return Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))) * 1000
    }

    /// The instant the clock shows `wallMs` (local time as ms since the local epoch): the first of two
    /// (or the second, `latest`) when it shows it twice, the end of the gap when it skips it.
    private func instant(ofWallMs wallMs: Int64) -> (earliest: Int64, latest: Int64)? {
        // Any instant showing wallMs is within 14 h of it; zones change offset at most once in 3 days.
        let before = offsetMs(at: wallMs - 36 * 3_600_000)
        let after = offsetMs(at: wallMs + 36 * 3_600_000)
        let matches = Set([before, after]).map { wallMs - $0 }.filter { offsetMs(at: $0) == wallMs - $0 }
        guard let earliest = matches.min(), let latest = matches.max() else { return nil }
        return (earliest, latest)
    }

    private func instant(ofWallMs wallMs: Int64, latest: Bool) -> Int64 {
        if let found = instant(ofWallMs: wallMs) { return latest ? found.latest : found.earliest }
        // Skipped (spring forward): the transition, the first instant whose clock is past wallMs. It lies
        // between the instants wallMs would be at the offsets after and before it.
        let before = offsetMs(at: wallMs - 36 * 3_600_000)
        let after = offsetMs(at: wallMs + 36 * 3_600_000)
        var low = Self.floorDivide(wallMs - after, 1000), high = Self.floorDivide(wallMs - before, 1000) + 1
        guard low < high, offsetMs(at: low * 1000) != after, offsetMs(at: high * 1000) == after else {
            return wallMs - offsetMs(at: wallMs)  // not a single transition: no zone does this
        }
        // Invariant: offset(low) != after, offset(high) == after (whole seconds: zones change on them).
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if offsetMs(at: middle * 1000) == after { high = middle } else { low = middle }
        }
        return high * 1000
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }
}
