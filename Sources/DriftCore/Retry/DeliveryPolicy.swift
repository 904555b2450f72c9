/// What to do after one webhook delivery attempt: a pure function of the outcome, like Alertmanager's
/// retry policy, so it is tested without a receiver.
public enum DeliveryDecision: Sendable, Hashable {
    case delivered
    /// Try again in `afterMs`.
    case retry(afterMs: Int64)
    /// Give this event up for this endpoint (other 4xx, redirects, or 24 hours of failures).
    case giveUp(reason: String)
    /// 410 Gone: the receiver asked to be removed; stop using the endpoint until the next reload.
    case disableEndpoint
}

public struct DeliveryPolicy: Sendable, Hashable {
    public var backoff: Backoff
    /// How long an event is retried before it is given up.
    public var maxAgeMs: Int64

    public init(backoff: Backoff = Backoff(baseMs: 1_000, capMs: 600_000), maxAgeMs: Int64 = 24 * 3_600_000) {
        self.backoff = backoff
        self.maxAgeMs = maxAgeMs
    }

    /// `status` is nil when no response came (connection error, timeout). `attempt` counts from 1;
    /// `ageMs` is how long the event has been waiting; `jitter` in [0, 1).
    public func decide(status: Int?, retryAfterMs: Int64?, attempt: Int, ageMs: Int64, jitter: Double) -> DeliveryDecision {
        if let status, (200..<300).contains(status) { return .delivered }
        if status == 410 { return .disableEndpoint }
        let retryable: Bool
        switch status {
        case nil: retryable = true
        case .some(let code) where code == 408 || code == 425 || code == 429 || code >= 500: retryable = true
        default: retryable = false
        }
        guard retryable else {
            if let status, (300..<400).contains(status) {
                return .giveUp(reason: "HTTP \(status): redirects are not followed; point the webhook url at the final address")
            }
            return .giveUp(reason: "HTTP \(status ?? 0): the receiver rejected the event")
        }
        let delay = backoff.delay(attempt: attempt, jitter: jitter, retryAfterMs: retryAfterMs)
        let (total, overflow) = ageMs.addingReportingOverflow(delay)
        if overflow || total > maxAgeMs {
            return .giveUp(reason: "still failing after \(DurationText.format(milliseconds: ageMs)) (\(status.map { "HTTP \($0)" } ?? "no response"))")
        }
        return .retry(afterMs: delay)
    }
}
