import DriftCore
import Foundation

/// The times of `akua-driftd silence`: `--until TIME` parsed, and instants printed for people.
/// TIME is RFC 3339 (`2026-12-01T08:00:00Z`, `2026-12-01T09:00:00+01:00`, fractional seconds allowed) or
/// `YYYY-MM-DD HH:MM` in the local time zone (`$TZ`, else the system's).
public enum SilenceTime {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// Unix ms of `text`; `timeZone` is the zone of the `YYYY-MM-DD HH:MM` form.
    public static func parse(_ text: String, timeZone: TimeZone = .current) throws(ParseError) -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let ms = rfc3339(trimmed) { return ms }
        if let ms = localMinute(trimmed, timeZone: timeZone) { return ms }
        throw ParseError(description: "invalid time \"\(text)\" (use RFC 3339 such as 2026-12-01T08:00:00Z or 2026-12-01T09:00:00+01:00, or YYYY-MM-DD HH:MM in local time)")
    }

    static func rfc3339(_ text: String) -> Int64? {
        // RFC 3339 allows lower-case t and z; ISO8601DateFormatter wants upper case.
        let upper = text.uppercased()
        guard upper.count >= 20, upper.contains("T") else { return nil }
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: upper) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }

    /// `YYYY-MM-DD HH:MM` in `timeZone`; nil for a malformed text or a wall time the zone skips (a DST gap).
    static func localMinute(_ text: String, timeZone: TimeZone) -> Int64? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        let time = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard date.count == 3, time.count == 2, date[0].count == 4, date[1].count == 2, date[2].count == 2,
            time[0].count == 2, time[1].count == 2,
            let year = Int(date[0]), let month = Int(date[1]), let day = Int(date[2]),
            let hour = Int(time[0]), let minute = Int(time[1]),
            (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
        guard let instant = calendar.date(from: components) else { return nil }
        // Refuse a date that does not exist (Feb 30) or a wall time the zone skips (moved forward).
        let back = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant)
        guard back.year == year, back.month == month, back.day == day, back.hour == hour, back.minute == minute else { return nil }
        return Int64((instant.timeIntervalSince1970 * 1000).rounded())
    }

    /// RFC 3339 in `timeZone` to the second: `2026-11-30T22:30:00+01:00` (`Z` in UTC).
    public static func format(_ ms: Int64, timeZone: TimeZone = .current) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = timeZone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// A duration for people, to the minute above an hour, to the second below (`1h59m`, `4m30s`).
    public static func duration(_ ms: Int64) -> String {
        let seconds = max(0, ms / 1000)
        if seconds >= 3600 { return DurationText.format(milliseconds: seconds / 60 * 60_000) }
        return DurationText.format(milliseconds: seconds * 1000)
    }
}
