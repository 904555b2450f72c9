import DriftCore
import DriftDaemon
import Foundation
import Testing

/// `silence add --until TIME` and what `check` prints for `ignore_attributes`. Expected instants come from
/// Python's datetime/zoneinfo, not from this code.
@Suite("silence --until times; check's ignored attributes")
struct SilenceTimeTests {
    let berlin = TimeZone(identifier: "Europe/Berlin")!

    @Test("RFC 3339 (Z, offsets, lower case, fractions) and YYYY-MM-DD HH:MM in a zone; the earlier instant in a DST fold")
    func parses() throws {
        #expect(try SilenceTime.parse("2099-12-01T08:00:00Z") == 4_099_795_200_000)
        #expect(try SilenceTime.parse("2099-12-01T09:00:00+01:00") == 4_099_795_200_000)
        #expect(try SilenceTime.parse("2099-12-01t08:00:00z") == 4_099_795_200_000)
        #expect(try SilenceTime.parse("2099-12-01T08:00:00.250Z") == 4_099_795_200_250)
        #expect(try SilenceTime.parse("2099-07-01 10:00", timeZone: berlin) == 4_086_576_000_000)
        // 2099-10-25 02:30 happens twice in Berlin (clocks go back at 03:00 CEST): the first, CEST.
        #expect(try SilenceTime.parse("2099-10-25 02:30", timeZone: berlin) == 4_096_571_400_000)
    }

    @Test("refused: a wall time the zone skips (DST gap), impossible dates, other shapes")
    func refuses() {
        for text in ["2099-03-29 02:30", "2099-02-30 10:00", "2099-12-01 24:00", "2099-12-01T08:00:00", "2099-12-01", "tomorrow",
                     "2099-12-01 8:00", "2099-13-01T00:00:00Z", ""] {
            #expect(throws: SilenceTime.ParseError.self, "\(text)") { try SilenceTime.parse(text, timeZone: berlin) }
        }
    }

    @Test("check marks the ignored attributes and says when every difference is ignored; --json adds ignored_attributes")
    func checkShowsIgnored() throws {
        let report = DriftReport(
            id: "rpt_1", machineID: "mch_a", state: .drifted, etag: "\"e\"", createdAt: 1_700_000_000, startedAt: 1_700_000_000,
            expiresAt: 1_700_000_900, delta: ["cpu": .number(4), "memory_mb": .number(512)], providerSnapshot: nil)
        let partly = ReportRendering.text(report, machineLabel: "mch_a", nowMs: 1_700_000_000_000, ignored: ["memory_mb", "disk"])
        #expect(partly.contains("ignored (ignore_attributes): memory_mb; the others are announced"), "\(partly)")
        #expect(partly.split(separator: "\n").contains { $0.contains("memory_mb") && $0.hasSuffix("(ignored)") })
        #expect(!partly.split(separator: "\n").contains { $0.contains("cpu") && $0.hasSuffix("(ignored)") })
        let all = ReportRendering.text(report, machineLabel: "mch_a", nowMs: 1_700_000_000_000, ignored: ["memory_mb", "cpu"])
        #expect(all.contains("every differing attribute is ignored: announced as in_sync"), "\(all)")
        let none = ReportRendering.text(report, machineLabel: "mch_a", nowMs: 1_700_000_000_000)
        #expect(!none.contains("ignored"))

        let json = try JSONSerialization.jsonObject(with: Data(ReportRendering.json(report, ignored: ["memory_mb"]).utf8)) as? [String: Any]
        #expect(json?["ignored_attributes"] as? [String] == ["memory_mb"])
        #expect(json?["id"] as? String == "rpt_1", "still the report")
        #expect(ReportRendering.json(report, ignored: []) == ReportRendering.json(report), "unchanged without ignore_attributes")
    }
}
