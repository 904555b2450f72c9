/// Parses and prints the config file's durations: "500ms", "30s", "15m", "1h", "1h30m", "1d".
///
/// Units are `ms`, `s`, `m`, `h`, `d`, each at most once and in decreasing order; whole numbers only.
public enum DurationText {
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case empty
        case invalid(String)
        case overflow(String)

        public var description: String {
            switch self {
            case .empty: "empty duration"
            case .invalid(let text): "invalid duration \"\(text)\" (use e.g. \"500ms\", \"30s\", \"15m\", \"1h30m\", \"1d\")"
            case .overflow(let text): "duration \"\(text)\" is too long"
            }
        }
    }

    private static let units: [(String, Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
    ]

    /// Milliseconds in `text`, or an error naming what is wrong.
    public static func milliseconds(_ text: String) throws(ParseError) -> Int64 {
        if text.isEmpty { throw .empty }
        let bytes = Array(text.utf8)
        var index = 0
        var total: Int64 = 0
        var lastRank = -1
        while index < bytes.count {
            var number: Int64 = 0
            let digitsStart = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                let (m, o1) = number.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(bytes[index] - 0x30))
                if o1 || o2 { throw .overflow(text) }
                number = a
                index += 1
            }
            if index == digitsStart { throw .invalid(text) }
            let unitStart = index
            while index < bytes.count, bytes[index] >= 0x61, bytes[index] <= 0x7A { index += 1 }
            let unit = String(decoding: bytes[unitStart..<index], as: UTF8.self)
            guard let rank = units.firstIndex(where: { $0.0 == unit }), rank > lastRank else { throw .invalid(text) }
            lastRank = rank
            let (scaled, o1) = number.multipliedReportingOverflow(by: units[rank].1)
            let (sum, o2) = total.addingReportingOverflow(scaled)
            if o1 || o2 { throw .overflow(text) }
            total = sum
        }
        return total
    }

    /// The shortest text for `milliseconds` that `milliseconds(_:)` parses back ("1h30m", "500ms", "0s").
    public static func format(milliseconds: Int64) -> String {
        if milliseconds == 0 { return "0s" }
        var rest = milliseconds
        var text = milliseconds < 0 ? "-" : ""
        rest = abs(rest)
        for (unit, size) in units where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }
}
