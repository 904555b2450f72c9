/// Parses the simulator's duration flags ("900", "900s", "15m", "1h", "1h30m", "250ms") into
/// milliseconds. Kept local so AkuaSimulator stays independent of DriftCore.
public enum SimulatorDuration {
    /// Milliseconds for `text`, or nil when it is not a positive duration. A bare number means seconds.
    public static func milliseconds(_ text: String) -> Int64? {
        let input = text.trimmingSpaces()
        guard !input.isEmpty else { return nil }
        if let seconds = Int64(input) {
            return seconds > 0 && seconds < Int64.max / 1000 ? seconds * 1000 : nil
        }
        var total: Int64 = 0
        var index = input.startIndex
        while index < input.endIndex {
            var digits = ""
            while index < input.endIndex, input[index].isASCII, input[index].isNumber {
                digits.append(input[index])
                index = input.index(after: index)
            }
            var unit = ""
            while index < input.endIndex, input[index].isLetter {
                unit.append(input[index])
                index = input.index(after: index)
            }
            guard let value = Int64(digits), !unit.isEmpty else { return nil }
            let factor: Int64
            switch unit {
            case "ms": factor = 1
            case "s": factor = 1000
            case "m": factor = 60_000
            case "h": factor = 3_600_000
            case "d": factor = 86_400_000
            default: return nil
            }
            let (product, overflow) = value.multipliedReportingOverflow(by: factor)
            guard !overflow else { return nil }
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow2 else { return nil }
            total = sum
        }
        return total > 0 ? total : nil
    }

    /// Whole seconds for `text` (rounded up), or nil when it is not a positive duration.
    public static func seconds(_ text: String) -> Int64? {
        milliseconds(text).map { ($0 + 999) / 1000 }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
