import Foundation
import Testing

@testable import DriftCore

@Suite("RetryAfter.parse")
struct RetryAfterTests {
    @Test("delta-seconds", arguments: [
        ("0", Int64(0)), ("120", 120), (" 5 ", 5), ("\t30", 30), ("0007", 7),
        ("99999999999999999999999999", Int64.max),
    ])
    func deltaSeconds(header: String, expected: Int64) {
        #expect(RetryAfter.parse(header) == .seconds(expected))
    }

    @Test("the three HTTP-date forms of RFC 9110", arguments: [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "sun, 06 nov 1994 08:49:37 gmt",
    ])
    func httpDates(header: String) {
        #expect(RetryAfter.parse(header) == .date(unixSeconds: 784_111_777))
    }

    @Test("rejects everything else", arguments: [
        "", " ", "-1", "+5", "1.5", "5s", "abc", "1e3", "Sun, 06 Nov 1994 08:49:37 PST",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37", "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT", String(repeating: "9", count: 100),
    ])
    func rejects(header: String) {
        #expect(RetryAfter.parse(header) == nil)
    }

    @Test("RFC 850 two-digit years pivot at 70")
    func twoDigitYears() {
        #expect(RetryAfter.parse("Thursday, 01-Jan-70 00:00:00 GMT") == .date(unixSeconds: 0))
        #expect(RetryAfter.parse("Friday, 01-Jan-30 00:00:00 GMT") == .date(unixSeconds: 1_893_456_000))
    }

    @Test("leap days and years")
    func leapDays() {
        #expect(RetryAfter.parse("Tue, 29 Feb 2000 00:00:00 GMT") == .date(unixSeconds: 951_782_400))
        #expect(RetryAfter.parse("Thu, 29 Feb 2024 12:00:00 GMT") == .date(unixSeconds: 1_709_208_000))
        #expect(RetryAfter.parse("Thu, 29 Feb 2100 12:00:00 GMT") == nil)
        #expect(RetryAfter.parse("Fri, 29 Feb 2023 12:00:00 GMT") == nil)
    }

    @Test("IMF-fixdate agrees with Foundation's formatter on seeded instants")
    func agreesWithFoundation() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var rng = SplitMix64(seed: 42)
        for _ in 0..<500 {
            let seconds = Int64(rng.next() % 4_000_000_000)
            let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(RetryAfter.parse(text) == .date(unixSeconds: seconds), "\(text)")
        }
    }

    @Test("delays are relative to now and never negative")
    func delays() {
        #expect(RetryAfter.seconds(30).delaySeconds(nowUnixSeconds: 1_000) == 30)
        #expect(RetryAfter.date(unixSeconds: 1_010).delaySeconds(nowUnixSeconds: 1_000) == 10)
        #expect(RetryAfter.date(unixSeconds: 990).delaySeconds(nowUnixSeconds: 1_000) == 0)
        #expect(RetryAfter.date(unixSeconds: Int64.max).delaySeconds(nowUnixSeconds: -5) == Int64.max)
    }
}

/// The in-place reader of the canonical IMF-fixdate (every response's `Date` header goes through it) must
/// agree with the token parser on everything: formatted dates of a seeded random walk over 1970-9999, and
/// the same strings with one byte changed (each either still a date both read alike, or rejected by both).
@Suite("HTTPDate fast path")
struct HTTPDateFastPathTests {
    static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate of unix seconds, written independently of the parser (Hinnant's civil-from-days).
    static func format(_ t: Int64) -> String {
        let d = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secs = t - d * 86_400
        let z = d + 719_468, era = (z >= 0 ? z : z - 146_096) / 146_097, doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        return "\(days[Int(((d % 7) + 7) % 7)]), \(two(day)) \(months[Int(month) - 1]) \(yearText) \(two(secs / 3600)):\(two(secs % 3600 / 60)):\(two(secs % 60)) GMT"
    }

    @Test("agrees with the token parser on random dates and on every one-byte change of them")
    func differential() {
        let seed: UInt64 = 0x7e57_da7e
        print("HTTPDateFastPathTests seed \(seed)")
        var rng = SplitMix64(seed: seed)
        let alphabet = Array("0123456789 :,-GMTgmtSunNovJanx\t".utf8)
        for _ in 0..<2_000 {
            let t = Int64(rng.next() % 253_402_300_800)  // 1970-01-01 ..< 10000-01-01
            let text = Self.format(t)
            #expect(HTTPDate.canonicalFixdate(text) == t, "\(text)")
            #expect(HTTPDate.anyForm(text) == t, "\(text)")
            var bytes = Array(text.utf8)
            bytes[Int(rng.next() % UInt64(bytes.count))] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            let mutated = String(decoding: bytes, as: UTF8.self)
            #expect(HTTPDate.parse(mutated) == HTTPDate.anyForm(mutated), "\(mutated)")
            if let fast = HTTPDate.canonicalFixdate(mutated) { #expect(fast == HTTPDate.anyForm(mutated), "\(mutated)") }
        }
    }

    @Test("leap second, 29 February and the forms it leaves to the token parser", arguments: [
        ("Thu, 31 Dec 1998 23:59:60 GMT", Int64?(915_148_800)),
        ("Tue, 29 Feb 2000 12:00:00 GMT", 951_825_600),
        ("Wed, 29 Feb 2001 12:00:00 GMT", nil),
        ("Sun, 06 Nov 1994 24:00:00 GMT", nil),
        ("sun, 06 nov 1994 08:49:37 gmt", 784_111_777),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 784_111_777),
        ("Sun Nov  6 08:49:37 1994", 784_111_777),
    ])
    func edges(text: String, expected: Int64?) {
        #expect(HTTPDate.parse(text) == expected)
    }
}
