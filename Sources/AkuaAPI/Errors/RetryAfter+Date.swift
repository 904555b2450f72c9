import DriftCore
import Foundation

/// `RetryAfter` itself lives in DriftCore (pure, shared with the webhook dispatcher); these are the
/// Foundation conveniences the API client keeps.
extension RetryAfter {
    /// Whole seconds to wait from `now`; never negative.
    public func delaySeconds(now: Date) -> Int64 {
        delaySeconds(nowUnixSeconds: Int64(now.timeIntervalSince1970.rounded(.down)))
    }
}

extension Character {
    /// True for the ASCII digits 0-9 only (not other Unicode numerals).
    var isASCIIDigit: Bool { isASCII && isNumber }
}
