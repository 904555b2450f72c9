import AkuaAPI
import DriftCore
import DriftMetrics
import Foundation

extension EngineCallbacks {
    /// These callbacks, plus reporting checks, lag, report lifetimes, Retry-After and transitions to
    /// `metrics` (counters and histograms only: cheap enough for every check).
    public func reporting(to metrics: DaemonMetrics) -> EngineCallbacks {
        var wrapped = self
        let (started, finished, transitioned) = (checkStarted, checkFinished, self.transitioned)
        wrapped.checkStarted = { occurrenceMs, startedMs in
            metrics.schedulerLag(seconds: Double(startedMs - occurrenceMs) / 1000)
            started(occurrenceMs, startedMs)
        }
        wrapped.checkFinished = { result, durationMs in
            metrics.checkFinished(result: result.metricLabel, seconds: Double(durationMs) / 1000)
            switch result {
            case .report(let report, _):
                metrics.reportTTL(seconds: Double(report.expiresAt - report.createdAt))  // unix seconds
            case .failure(let error):
                if let seconds = error.retryDelay(nowUnixSeconds: Int64(Date().timeIntervalSince1970)) {
                    metrics.apiRetryAfter(seconds: seconds)
                }
            case .machineGone, .operationUnavailable:
                break
            }
            finished(result, durationMs)
        }
        wrapped.transitioned = { transition in
            metrics.transition(from: transition.previous, to: transition.state)
            transitioned(transition)
        }
        return wrapped
    }
}

extension CheckResult {
    /// The `result` label of `akua_driftd_checks_total`: `ok` (the API answered with a report), `retry`
    /// (a failure the same occurrence retries: transport, timeout, 408/425/429/5xx, damaged body), or
    /// the kind of a failure that is not retried.
    public var metricLabel: String {
        switch self {
        case .report: return "ok"
        case .machineGone: return "machine_gone"
        case .operationUnavailable: return "operation_unavailable"
        case .failure(let error):
            if error.isRetryable { return "retry" }
            switch error {
            case .unauthorized: return "unauthorized"
            case .invalidReport, .oversized: return "invalid_report"
            case .idempotencyConflict: return "conflict"
            case .unknownMachine, .notFound: return "not_found"
            case .invalidRequest: return "invalid_request"
            case .unsupported: return "unsupported"
            case .cancelled: return "cancelled"
            case .configuration: return "configuration"
            default: return "error"
            }
        }
    }
}
