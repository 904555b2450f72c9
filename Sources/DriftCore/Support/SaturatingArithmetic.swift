/// Instant arithmetic that pins to the ends of `Int64` instead of trapping: deadlines built from
/// configured durations and API timestamps must never crash the daemon, however large they are.
extension Int64 {
    func addingSaturating(_ other: Int64) -> Int64 {
        let (value, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : value
    }

    func multipliedSaturating(by other: Int64) -> Int64 {
        let (value, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) != (other < 0) ? .min : .max) : value
    }
}
