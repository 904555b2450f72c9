import Foundation
import Testing

@testable import AkuaAPI

/// `RetryAfter` parsing is tested in DriftCoreTests; this is how the API client's errors use it.
@Suite("AkuaAPIError.retryDelay")
struct RetryDelayTests {
    @Test("a Retry-After date or delay becomes the error's retry delay")
    func retryDelay() {
        let error = AkuaAPIError.retryable(status: 429, retryAfter: .date(unixSeconds: 1_060), detail: nil)
        #expect(error.retryDelay(nowUnixSeconds: 1_000) == 60)
        #expect(error.retryDelay(now: Date(timeIntervalSince1970: 1_000.9)) == 60)
        #expect(AkuaAPIError.retryable(status: 503, retryAfter: nil, detail: nil).retryDelay(nowUnixSeconds: 0) == nil)
        #expect(AkuaAPIError.timeout.retryDelay(nowUnixSeconds: 0) == nil)
    }
}
