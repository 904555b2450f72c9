/// A parsed `Retry-After` header (RFC 9110 §10.2.3): either a delay in seconds or an absolute HTTP-date.
public enum RetryAfter: Sendable, Hashable, CustomStringConvertible {
    /// `delta-seconds`: wait this many seconds (clamped to `Int64.max` when the header overflows).
    case seconds(Int64)
    /// `HTTP-date`: wait until this instant, in unix seconds.
    case date(unixSeconds: Int64)

    /// Parses a header value; nil when it is neither delta-seconds nor an HTTP-date.
    ///
    /// Accepts the IMF-fixdate form and the two obsolete forms (RFC 850 and asctime), as RFC 9110 requires.
    public static func parse(_ header: String) -> RetryAfter? {
        let value = trimmedSpacesAndTabs(header)
        guard !value.isEmpty, value.utf8.count <= 64 else { return nil }
        if value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            var result: Int64 = 0
            for byte in value.utf8 {
                let (times, o1) = result.multipliedReportingOverflow(by: 10)
                let (plus, o2) = times.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                if o1 || o2 { return .seconds(Int64.max) }
                result = plus
            }
            return .seconds(result)
        }
        return HTTPDate.parse(value).map { .date(unixSeconds: $0) }
    }

    /// Whole seconds to wait from `nowUnixSeconds`; never negative (a date in the past means "now").
    public func delaySeconds(nowUnixSeconds: Int64) -> Int64 {
        switch self {
        case .seconds(let seconds): return max(0, seconds)
        case .date(let unixSeconds):
            let (delta, overflow) = unixSeconds.subtractingReportingOverflow(nowUnixSeconds)
            return overflow ? (unixSeconds > nowUnixSeconds ? Int64.max : 0) : max(0, delta)
        }
    }

    public var description: String {
        switch self {
        case .seconds(let seconds): "\(seconds)s"
        case .date(let unixSeconds): "unix \(unixSeconds)"
        }
    }

    /// `text` without leading and trailing spaces and tabs (the optional whitespace of RFC 9110 §5.6.3).
    private static func trimmedSpacesAndTabs(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) })
        else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}

/// A strict parser for the three HTTP-date forms of RFC 9110 §5.6.7, yielding unix seconds (always GMT).
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let shortDays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let longDays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// Unix seconds of an IMF-fixdate, RFC 850 or asctime date; nil for anything else.
    static func parse(_ text: String) -> Int64? {
        canonicalFixdate(text) ?? anyForm(text)
    }

    private static let canonicalDays: [[UInt8]] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map { Array($0.utf8) }
    private static let canonicalMonths: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .map { Array($0.utf8) }

    /// The IMF-fixdate exactly as servers write it ("Sun, 06 Nov 1994 08:49:37 GMT": 29 bytes, this case), read
    /// in place: every response's `Date` header is parsed (clock skew). Anything else is nil, for `anyForm`.
    static func canonicalFixdate(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { b -> Int64? in
            guard b.count == 29, b[3] == 0x2C, b[4] == 0x20, b[7] == 0x20, b[11] == 0x20, b[16] == 0x20, b[19] == 0x3A,
                  b[22] == 0x3A, b[25] == 0x20, b[26] == 0x47, b[27] == 0x4D, b[28] == 0x54 else { return nil }
            func digits(_ start: Int, _ count: Int) -> Int? {
                var value = 0
                for index in start..<start + count {
                    let digit = b[index] &- 0x30
                    guard digit < 10 else { return nil }
                    value = value * 10 + Int(digit)
                }
                return value
            }
            func matches(_ word: [UInt8], at start: Int) -> Bool { word[0] == b[start] && word[1] == b[start + 1] && word[2] == b[start + 2] }
            guard canonicalDays.contains(where: { matches($0, at: 0) }),
                  let month = canonicalMonths.firstIndex(where: { matches($0, at: 8) }),
                  let day = digits(5, 2), let year = digits(12, 4),
                  let h = digits(17, 2), let m = digits(20, 2), let s = digits(23, 2), h <= 23, m <= 59, s <= 60
            else { return nil }
            return make(year: year, month: month + 1, day: day, time: Int64(h * 3600 + m * 60 + s))
        }
    }

    /// The three forms, case-insensitive, through tokens.
    static func anyForm(_ text: String) -> Int64? {
        let tokens = text.split(separator: " ", omittingEmptySubsequences: true).map { String($0).lowercased() }
        // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
        if tokens.count == 6, tokens[0].hasSuffix(","), shortDays.contains(String(tokens[0].dropLast())),
           tokens[5] == "gmt", tokens[1].count == 2, tokens[3].count == 4,
           let day = Int(tokens[1]), let month = monthIndex(tokens[2]), let year = Int(tokens[3]),
           let time = clock(tokens[4]) {
            return make(year: year, month: month, day: day, time: time)
        }
        // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
        if tokens.count == 4, tokens[0].hasSuffix(","), longDays.contains(String(tokens[0].dropLast())),
           tokens[3] == "gmt", let time = clock(tokens[2]) {
            let parts = tokens[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts[0].count == 2, parts[2].count == 2,
                  let day = Int(parts[0]), let month = monthIndex(parts[1]), let yy = Int(parts[2]) else { return nil }
            // Two-digit years: 70-99 are the 1900s, 00-69 the 2000s (RFC 9110 asks for "not more than 50 years ahead").
            let year = yy >= 70 ? 1900 + yy : 2000 + yy
            return make(year: year, month: month, day: day, time: time)
        }
        // asctime: "Sun Nov  6 08:49:37 1994" (the day is space-padded, so tokens collapse)
        if tokens.count == 5, shortDays.contains(tokens[0]), let month = monthIndex(tokens[1]),
           (1...2).contains(tokens[2].count), let day = Int(tokens[2]), let time = clock(tokens[3]),
           tokens[4].count == 4, let year = Int(tokens[4]) {
            return make(year: year, month: month, day: day, time: time)
        }
        return nil
    }

    private static func monthIndex(_ token: String) -> Int? {
        months.firstIndex(of: token).map { $0 + 1 }
    }

    /// "HH:MM:SS" as seconds of the day (a leap second 60 is accepted).
    private static func clock(_ token: String) -> Int64? {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHTTPDateDigit) }),
              let h = Int64(parts[0]), let m = Int64(parts[1]), let s = Int64(parts[2]),
              h <= 23, m <= 59, s <= 60 else { return nil }
        return h * 3600 + m * 60 + s
    }

    private static func make(year: Int, month: Int, day: Int, time: Int64) -> Int64? {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
              day <= daysInMonth(year: year, month: month) else { return nil }
        return daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day)) * 86_400 + time
    }

    private static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

extension Character {
    /// True for the ASCII digits 0-9 only (not other Unicode numerals).
    fileprivate var isHTTPDateDigit: Bool { isASCII && isNumber }
}
