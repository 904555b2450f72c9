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
