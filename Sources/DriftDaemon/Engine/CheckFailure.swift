import AkuaAPI
import DriftCore

/// How the engine treats each API error: retry the same occurrence (same key), or give it up until the
/// next slot; and whether the operator needs to act (those are logged as errors, not warnings).
struct CheckFailure: Sendable {
    var outcome: CheckOutcome
    var message: String
    var needsOperator: Bool
    var machineGone: Bool

    init(_ error: AkuaAPIError, nowMs: Int64) {
        message = error.description
        machineGone = false
        needsOperator = false
        switch error {
        case .transport, .timeout, .retryable, .badResponse, .oversized, .cancelled:
            outcome = .retry(retryAfterMs: error.retryDelay(nowUnixSeconds: nowMs / 1000).map { $0.multipliedReportingOverflow(by: 1000).partialValue })
        case .unauthorized:
            // A token problem: keep retrying with backoff; a reload with a new token resets the backoff.
            outcome = .retry(retryAfterMs: nil)
            needsOperator = true
        case .unknownMachine:
            outcome = .skip(stateKnown: false)
            machineGone = true
            needsOperator = true
        case .idempotencyConflict, .invalidRequest, .unsupported, .configuration, .notFound, .unexpectedStatus:
            outcome = .skip(stateKnown: true)
            needsOperator = true
        }
    }
}
