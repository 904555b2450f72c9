import DriftCore
import Foundation
import Testing

@testable import DriftConfig

/// `MaintenanceWindow`'s calendar math: hand-checked instants (UTC offsets from the tz database's rules,
/// worked out by hand), then many seeded random instants across DST changes compared with Python's
/// `zoneinfo` as an independent oracle.
@Suite("Maintenance windows: when they are active")
struct MaintenanceWindowTests {
    /// Unix ms of a UTC wall time.
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int = 0) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
        return Int64(date.timeIntervalSince1970) * 1000
    }

    static func window(
        _ days: [MaintenanceWindow.Weekday], _ from: String, _ to: String, _ zone: String = "UTC", machines: [String]? = nil
    ) -> MaintenanceWindow {
        let minutes = { (text: String) in Int(text.prefix(2))! * 60 + Int(text.suffix(2))! }
        return MaintenanceWindow(
            number: 1, machineIDs: machines, days: Set(days), fromMinute: minutes(from), toMinute: minutes(to),
            timeZoneName: zone)!
    }

    @Test("a plain window in UTC: inside until its end, outside before and at the end")
    func plainUTC() {
        // 2026-11-28 is a Saturday.
        let window = Self.window([.sat], "02:00", "04:00")
        #expect(window.activeUntil(atMs: Self.utc(2026, 11, 28, 1, 59, 59)) == nil)
        #expect(window.activeUntil(atMs: Self.utc(2026, 11, 28, 2, 0)) == Self.utc(2026, 11, 28, 4, 0))
        #expect(window.activeUntil(atMs: Self.utc(2026, 11, 28, 4, 0) - 1) == Self.utc(2026, 11, 28, 4, 0))
        #expect(window.activeUntil(atMs: Self.utc(2026, 11, 28, 4, 0)) == nil)
        #expect(window.activeUntil(atMs: Self.utc(2026, 11, 29, 3, 0)) == nil, "Sunday is not listed")
        #expect(window.description == "maintenance window 1 (sat 02:00-04:00 UTC)")
    }

    @Test("a window crossing midnight belongs to the day it started on")
    func crossingMidnight() {
        let window = Self.window([.fri], "22:00", "02:00")  // Friday 22:00 to Saturday 02:00
        #expect(window.crossesMidnight)
        // 2026-11-27 is a Friday.
        #expect(window.activeUntil(atMs: Self.utc(2026, 11, 27, 23, 0)) == Self.utc(2026, 11, 28, 2, 0))
        #expect(window.activeUntil(atMs: Self.utc(2026, 11, 28, 1, 0)) == Self.utc(2026, 11, 28, 2, 0), "Saturday morning is Friday's window")
        #expect(window.activeUntil(atMs: Self.utc(2026, 11, 28, 23, 0)) == nil, "Saturday night is not listed")
        #expect(window.activeUntil(atMs: Self.utc(2026, 11, 27, 1, 0)) == nil, "Friday morning belongs to Thursday")
        let untilMidnight = Self.window([.sun], "23:00", "00:00")
        #expect(untilMidnight.activeUntil(atMs: Self.utc(2026, 11, 29, 23, 30)) == Self.utc(2026, 11, 30, 0, 0))
    }

    @Test("Europe/Berlin: local time, and a from-time the clock skips starts at the first instant after it")
    func berlinDST() {
        // Winter (UTC+1): Saturday 2026-11-28 02:00-04:00 local is 01:00-03:00 UTC.
        let saturday = Self.window([.sat], "02:00", "04:00", "Europe/Berlin")
        #expect(saturday.activeUntil(atMs: Self.utc(2026, 11, 28, 1, 0)) == Self.utc(2026, 11, 28, 3, 0))
        #expect(saturday.activeUntil(atMs: Self.utc(2026, 11, 28, 0, 59)) == nil)
        #expect(saturday.description == "maintenance window 1 (sat 02:00-04:00 Europe/Berlin)")
        // Summer (UTC+2): Saturday 2026-07-04 02:00-04:00 local is 00:00-02:00 UTC.
        #expect(saturday.activeUntil(atMs: Self.utc(2026, 7, 4, 0, 0)) == Self.utc(2026, 7, 4, 2, 0))
        // Sunday 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00 UTC, so 02:30 never happens and a
        // window "02:30-04:00" runs from 03:00 CEST (01:00 UTC) to 04:00 CEST (02:00 UTC).
        let spring = Self.window([.sun], "02:30", "04:00", "Europe/Berlin")
        #expect(spring.activeUntil(atMs: Self.utc(2026, 3, 29, 1, 0) - 1) == nil)
        #expect(spring.activeUntil(atMs: Self.utc(2026, 3, 29, 1, 0)) == Self.utc(2026, 3, 29, 2, 0))
        // Sunday 2026-10-25: 03:00 CEST falls back to 02:00 CET at 01:00 UTC; 02:00-03:00 happens twice.
        // A window "02:30-03:30" starts at the first 02:30 (00:30 UTC) and ends at 03:30 CET (02:30 UTC).
        let autumn = Self.window([.sun], "02:30", "03:30", "Europe/Berlin")
        #expect(autumn.activeUntil(atMs: Self.utc(2026, 10, 25, 0, 30)) == Self.utc(2026, 10, 25, 2, 30))
        #expect(autumn.activeUntil(atMs: Self.utc(2026, 10, 25, 0, 29)) == nil)
        // ... and a window "01:00-02:30" ends at the second 02:30 (01:30 UTC).
        let toTwice = Self.window([.sun], "01:00", "02:30", "Europe/Berlin")
        #expect(toTwice.activeUntil(atMs: Self.utc(2026, 10, 24, 23, 0)) == Self.utc(2026, 10, 25, 1, 30))
    }

    @Test("Australia/Lord_Howe shifts by 30 minutes")
    func lordHowe() {
        // Sunday 2026-10-04: 02:00 LHST (UTC+10:30) jumps to 02:30 LHDT (UTC+11) at 15:30 UTC on Saturday.
        // "02:10-03:00" starts at the jump and ends at 03:00 LHDT (16:00 UTC).
        let window = Self.window([.sun], "02:10", "03:00", "Australia/Lord_Howe")
        #expect(window.activeUntil(atMs: Self.utc(2026, 10, 3, 15, 30)) == Self.utc(2026, 10, 3, 16, 0))
        #expect(window.activeUntil(atMs: Self.utc(2026, 10, 3, 15, 30) - 1) == nil)
    }

    @Test("appliesTo: the listed machines, or every machine when none are listed")
    func appliesTo() {
        let some = Self.window([.sat], "02:00", "04:00", machines: ["mch_a", "mch_b"])
        #expect(some.appliesTo(machineID: "mch_a"))
        #expect(!some.appliesTo(machineID: "mch_c"))
        #expect(Self.window([.sat], "02:00", "04:00").appliesTo(machineID: "mch_c"))
    }

    @Test("MaintenanceSchedule mutes a covered machine until the latest end, naming the window")
    func schedule() {
        var first = Self.window([.sat], "02:00", "04:00", machines: ["mch_a"])
        first.number = 1
        var second = Self.window([.sat, .sun], "03:00", "05:00", "UTC")
        second.number = 2
        let schedule = MaintenanceSchedule(windows: [first, second])
        #expect(schedule.muted(machineID: "mch_a", atMs: Self.utc(2026, 11, 28, 2, 30))
            == Mute(untilMs: Self.utc(2026, 11, 28, 4, 0), reason: "maintenance window 1 (sat 02:00-04:00 UTC)"))
        #expect(schedule.muted(machineID: "mch_a", atMs: Self.utc(2026, 11, 28, 3, 30))
            == Mute(untilMs: Self.utc(2026, 11, 28, 5, 0), reason: "maintenance window 2 (sat,sun 03:00-05:00 UTC)"))
        #expect(schedule.muted(machineID: "mch_b", atMs: Self.utc(2026, 11, 28, 2, 30)) == nil)
        #expect(schedule.muted(machineID: "mch_b", atMs: Self.utc(2026, 11, 29, 4, 59))?.untilMs == Self.utc(2026, 11, 29, 5, 0))
        #expect(MaintenanceSchedule(windows: []).muted(machineID: "mch_a", atMs: 0) == nil)
    }

    // MARK: Oracle

    static let zones = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]

    @Test(
        "activeUntil agrees with Python's zoneinfo on seeded random instants across DST changes",
        .enabled(if: PythonOracle.available, "needs python3 with zoneinfo and the tz database as the oracle"))
    func agreesWithZoneinfo() throws {
        let seed = ProcessInfo.processInfo.environment["ORACLE_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64(UInt32.max))
        print("MaintenanceWindowTests.agreesWithZoneinfo seed \(seed) (rerun with ORACLE_SEED=\(seed))")
        var random = SplitMix64(state: seed)  // RobustnessTests' generator
        // Times around the changes (01:00-03:00 local in these zones) and any other minute.
        let interesting = [0, 30, 59, 60, 90, 119, 120, 121, 130, 150, 179, 180, 181, 210, 1380, 1439]
        var cases: [(window: MaintenanceWindow, instants: [Int64])] = []
        for zone in Self.zones {
            for _ in 0..<40 {
                let pick = { (random: inout SplitMix64) in
                    random.next() % 2 == 0 ? interesting[Int(random.next() % UInt64(interesting.count))] : Int(random.next() % 1440)
                }
                let from = pick(&random)
                var to = pick(&random)
                if to == from { to = (from + 1 + Int(random.next() % 1438)) % 1440 }
                var days = Set(MaintenanceWindow.Weekday.allCases.filter { _ in random.next() % 3 == 0 })
                if days.isEmpty { days = [MaintenanceWindow.Weekday(rawValue: Int(random.next() % 7) + 1)!] }
                let window = MaintenanceWindow(
                    number: cases.count + 1, machineIDs: nil, days: days, fromMinute: from, toMinute: to, timeZoneName: zone)!
                var instants: [Int64] = []
                for _ in 0..<80 {
                    let year = 2000 + Int(random.next() % 36)
                    // Half in the months of the changes (March, April, October, November), half anywhere.
                    let month = random.next() % 2 == 0 ? [3, 4, 10, 11][Int(random.next() % 4)] : Int(random.next() % 12) + 1
                    let day = Int(random.next() % 28) + 1
                    let base = Self.utc(year, month, day, 0, 0)
                    instants.append(base + Int64(random.next() % (3 * 86_400_000)))
                }
                cases.append((window, instants))
            }
        }
        // Round 1: random instants; round 2: the exact edges the oracle found (start, start - 1 ms, end - 1 ms, end).
        let first = try PythonOracle.evaluate(cases)
        var mismatches: [String] = []
        var edges: [(window: MaintenanceWindow, instants: [Int64])] = []
        var inside = 0
        for (index, (window, instants)) in cases.enumerated() {
            var edge: [Int64] = []
            for (offset, instant) in instants.enumerated() {
                let expected = first.results[index][offset]
                let got = window.activeUntil(atMs: instant)
                if got != expected.until {
                    mismatches.append("\(window) at \(instant): got \(got.map(String.init) ?? "nil"), zoneinfo \(expected.until.map(String.init) ?? "nil")")
                }
                if let until = expected.until, let start = expected.start {
                    inside += 1
                    edge += [start, start - 1, until - 1, until]
                }
            }
            edges.append((window, edge))
        }
        let second = try PythonOracle.evaluate(edges)
        for (index, (window, instants)) in edges.enumerated() {
            for (offset, instant) in instants.enumerated() {
                let expected = second.results[index][offset]
                let got = window.activeUntil(atMs: instant)
                if got != expected.until {
                    mismatches.append("\(window) at edge \(instant): got \(got.map(String.init) ?? "nil"), zoneinfo \(expected.until.map(String.init) ?? "nil")")
                }
            }
        }
        let checked = cases.reduce(0) { $0 + $1.instants.count } + edges.reduce(0) { $0 + $1.instants.count }
        print("MaintenanceWindowTests: \(checked) instants, \(inside) inside a window, \(first.skipped + second.skipped) occurrences at a skipped time, \(first.repeated + second.repeated) at a repeated time; \(mismatches.count) mismatches")
        #expect(mismatches.isEmpty, "seed \(seed): \(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
        // The sample must reach what it is meant to test.
        #expect(inside > 500, "seed \(seed)")
        #expect(first.skipped + second.skipped > 0, "seed \(seed): no window began or ended at a time the clock skips")
        #expect(first.repeated + second.repeated > 0, "seed \(seed): no window began or ended at a time the clock repeats")
    }
}
