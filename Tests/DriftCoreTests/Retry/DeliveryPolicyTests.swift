import DriftCore
import Testing

@Suite("Webhook delivery policy")
struct DeliveryPolicyTests {
    let policy = DeliveryPolicy()

    @Test("2xx is delivered", arguments: [200, 201, 202, 204, 299])
    func delivered(status: Int) {
        #expect(policy.decide(status: status, retryAfterMs: nil, attempt: 1, ageMs: 0, jitter: 0.5) == .delivered)
        #expect(policy.decide(status: status, retryAfterMs: nil, attempt: 50, ageMs: 30 * hour, jitter: 0.5) == .delivered)
    }

    @Test("410 Gone disables the endpoint")
    func gone() {
        #expect(policy.decide(status: 410, retryAfterMs: nil, attempt: 1, ageMs: 0, jitter: 0) == .disableEndpoint)
        #expect(policy.decide(status: 410, retryAfterMs: 5_000, attempt: 9, ageMs: 25 * hour, jitter: 0) == .disableEndpoint)
    }

    @Test("429, 5xx, 408, 425 and no response are retried with backoff", arguments: [429, 500, 502, 503, 504, 599, 408, 425, nil] as [Int?])
    func retried(status: Int?) {
        for attempt in 1...12 {
            let nominal = min(600_000, Int64(1_000) << (attempt - 1))
            for jitter in [0.0, 0.5, 0.999] {
                guard case .retry(let after) = policy.decide(status: status, retryAfterMs: nil, attempt: attempt, ageMs: hour, jitter: jitter) else {
                    Issue.record("\(String(describing: status)) attempt \(attempt) not retried")
                    continue
                }
                #expect(after >= nominal / 2 && after < nominal, "attempt \(attempt): \(after) ms")
            }
        }
    }

    @Test("Retry-After is honoured as a floor (capped at an hour)")
    func retryAfter() {
        #expect(policy.decide(status: 429, retryAfterMs: 120_000, attempt: 1, ageMs: 0, jitter: 0.9) == .retry(afterMs: 120_000))
        #expect(policy.decide(status: 503, retryAfterMs: 7_000, attempt: 1, ageMs: 0, jitter: 0) == .retry(afterMs: 7_000))
        #expect(policy.decide(status: 503, retryAfterMs: 10, attempt: 3, ageMs: 0, jitter: 0) == .retry(afterMs: 2_000))
        #expect(policy.decide(status: 429, retryAfterMs: 5 * hour, attempt: 1, ageMs: 0, jitter: 0) == .retry(afterMs: hour))
    }

    @Test("other 4xx give up as rejected", arguments: [400, 401, 403, 404, 405, 409, 413, 422, 451, 499])
    func rejected(status: Int) {
        guard case .giveUp(let reason) = policy.decide(status: status, retryAfterMs: nil, attempt: 1, ageMs: 0, jitter: 0) else {
            Issue.record("\(status) not given up")
            return
        }
        #expect(reason.contains("HTTP \(status)"))
        #expect(reason.contains("rejected"))
    }

    @Test("3xx give up: redirects are not followed", arguments: [300, 301, 302, 303, 307, 308])
    func redirects(status: Int) {
        guard case .giveUp(let reason) = policy.decide(status: status, retryAfterMs: 1_000, attempt: 1, ageMs: 0, jitter: 0) else {
            Issue.record("\(status) not given up")
            return
        }
        #expect(reason.contains("HTTP \(status)") && reason.contains("redirects are not followed"))
    }

    @Test("1xx and nonsense statuses give up rather than loop", arguments: [100, 101, 0, -1, 1_000])
    func oddStatuses(status: Int) {
        let decision = policy.decide(status: status, retryAfterMs: nil, attempt: 1, ageMs: 0, jitter: 0)
        if status >= 500 {
            #expect(decision != .delivered)
        } else if case .giveUp = decision {} else {
            Issue.record("\(status): \(decision)")
        }
    }

    @Test("a retryable failure gives up once the next attempt would be more than 24h after the event")
    func givesUpAfter24h() {
        let day = 24 * hour
        #expect(policy.decide(status: 503, retryAfterMs: nil, attempt: 20, ageMs: day - 10 * minute - 1, jitter: 0.999) == .retry(afterMs: 599_700))
        guard case .giveUp(let reason) = policy.decide(status: 503, retryAfterMs: nil, attempt: 20, ageMs: day - 4 * minute, jitter: 0.999) else {
            Issue.record("still retrying after 24h")
            return
        }
        #expect(reason.contains("HTTP 503"))
        #expect(reason.contains("23h56m"))
        if case .giveUp(let reason) = policy.decide(status: nil, retryAfterMs: nil, attempt: 1, ageMs: day, jitter: 0) {
            #expect(reason.contains("no response"))
        } else {
            Issue.record("no response after 24h not given up")
        }
        // A Retry-After pushing past the limit also gives up.
        #expect(policy.decide(status: 429, retryAfterMs: 2 * hour, attempt: 1, ageMs: day - 30 * minute, jitter: 0) != .retry(afterMs: hour))
        // The limit is configurable.
        let short = DeliveryPolicy(maxAgeMs: minute)
        #expect(short.decide(status: 500, retryAfterMs: nil, attempt: 1, ageMs: minute, jitter: 0) != .retry(afterMs: 500))
    }

    @Test("a whole outage: delays grow to the cap and the event is given up about 24h after it was created")
    func wholeOutage() {
        var age: Int64 = 0
        var attempts = 0
        var rng = SplitMix64(seed: 24)
        while true {
            attempts += 1
            let jitter = Double(rng.next() >> 11) / Double(1 << 53)
            switch policy.decide(status: 500, retryAfterMs: nil, attempt: attempts, ageMs: age, jitter: jitter) {
            case .retry(let after):
                #expect(after <= 600_000)
                age += after
                #expect(age <= 24 * hour)
                continue
            case .giveUp:
                break
            default:
                Issue.record("unexpected decision")
            }
            break
        }
        #expect(age > 24 * hour - 10 * minute)
        #expect(attempts > 100 && attempts < 400)
    }
}
