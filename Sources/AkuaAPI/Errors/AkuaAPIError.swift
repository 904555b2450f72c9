import Foundation
import DriftCore

/// Every way an Akua API call can fail, classified so the daemon can decide: retry later, or report and stop.
///
/// No case ever carries the API token: details that come from the server are sanitized, truncated and
/// have the token redacted by the client before they are stored here.
public enum AkuaAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The client configuration is unusable (bad base URL, token or proxy setting); nothing was sent.
    case configuration(String)
    /// The connection could not be made or broke (refused, reset, closed early, TLS failure). Retryable.
    case transport(String)
    /// The request did not complete within the configured timeout. Retryable.
    case timeout
    /// The calling task was cancelled (e.g. the daemon is stopping).
    case cancelled
    /// The server is temporarily unable (408, 425, 429, 5xx other than 501). Retryable, after `retryAfter` if given.
    case retryable(status: Int, retryAfter: RetryAfter?, detail: String?)
    /// 401 or 403: the token is wrong, expired or lacks access.
    case unauthorized(status: Int, detail: String?)
    /// 404 with an `ApiErrorResponse` body on a machine's path. From `getMachine` it means the machine is
    /// gone; from a drift report operation it is only a candidate (the operation itself may be missing):
    /// confirm with `getMachine(machineID:)`.
    case unknownMachine(String)
    /// 404 for a report id (or on the machine list).
    case notFound(detail: String?)
    /// 409: the idempotency key was already used with a different request body.
    case idempotencyConflict(detail: String?)
    /// 400/422 from the server, or (status nil) rejected by the client's own validation before sending.
    case invalidRequest(status: Int?, detail: String?)
    /// 405/501, or a 404 without an `ApiErrorResponse` body, on a drift report operation.
    case unsupported(status: Int)
    /// A success response whose body is damaged or is not the API's JSON at all: empty, truncated or
    /// malformed (not one complete JSON document), or not `application/json`. Transport damage, so
    /// retryable with the same idempotency key: a replay can come back intact.
    case badResponse(String)
    /// A complete, well-formed JSON body that breaks the contract's schema: a missing required field, an
    /// unknown `state`, a timestamp out of range, a report for another machine. A replay of the same key
    /// would return the same body, so it is not retryable (`isSchemaViolation`).
    case invalidReport(String)
    /// The response body is larger than `maxResponseBytes`. Not retryable: a replay would be as large
    /// (`isSchemaViolation`).
    case oversized(limit: Int)
    /// Any other status (3xx, an unlisted 4xx, an unexpected 2xx).
    case unexpectedStatus(Int)

    /// True when the same request may succeed later: transport failures, timeouts, `retryable`, and
    /// damaged bodies (`badResponse`).
    public var isRetryable: Bool {
        switch self {
        case .transport, .timeout, .retryable, .badResponse: true
        default: false
        }
    }

    /// True when the API answered with a complete body that breaks the schema (`invalidReport`,
    /// `oversized`): a replay with the same key would return it again, so wait for the next occurrence.
    public var isSchemaViolation: Bool {
        switch self {
        case .invalidReport, .oversized: true
        default: false
        }
    }

    /// Seconds the server asked us to wait (`Retry-After`), relative to `nowUnixSeconds`; nil when it did not say.
    public func retryDelay(nowUnixSeconds: Int64) -> Int64? {
        guard case .retryable(_, let retryAfter?, _) = self else { return nil }
        return retryAfter.delaySeconds(nowUnixSeconds: nowUnixSeconds)
    }

    /// Milliseconds the server asked us to wait (`Retry-After`), relative to `nowMs`; saturates at
    /// `Int64.max` instead of overflowing; nil when it did not say.
    public func retryDelayMilliseconds(nowMs: Int64) -> Int64? {
        let nowSeconds = nowMs / 1000 - (nowMs % 1000 < 0 ? 1 : 0)
        guard let seconds = retryDelay(nowUnixSeconds: nowSeconds) else { return nil }
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? Int64.max : ms
    }

    /// Seconds the server asked us to wait (`Retry-After`), relative to `now`; nil when it did not say.
    public func retryDelay(now: Date) -> Int64? {
        retryDelay(nowUnixSeconds: Int64(now.timeIntervalSince1970.rounded(.down)))
    }

    /// The HTTP status behind the error, when there was a response.
    public var httpStatus: Int? {
        switch self {
        case .retryable(let status, _, _), .unauthorized(let status, _), .unsupported(let status),
             .unexpectedStatus(let status):
            status
        case .invalidRequest(let status, _): status
        case .unknownMachine, .notFound: 404
        case .idempotencyConflict: 409
        default: nil
        }
    }

    /// One line naming the cause; built only from sanitized parts, so never the token.
    public var description: String {
        func with(_ detail: String?) -> String { detail.map { ": \($0)" } ?? "" }
        switch self {
        case .configuration(let message):
            return "invalid Akua API client configuration: \(message)"
        case .transport(let message):
            return "cannot reach the Akua API: \(message)"
        case .timeout:
            return "the Akua API did not answer in time"
        case .cancelled:
            return "the Akua API request was cancelled"
        case .retryable(let status, let retryAfter, let detail):
            let after = retryAfter.map { " (retry after \($0))" } ?? ""
            return "the Akua API is temporarily unavailable: HTTP \(status)\(after)\(with(detail))"
        case .unauthorized(let status, let detail):
            let what = status == 403 ? "denied access" : "rejected the API token"
            return "the Akua API \(what): HTTP \(status)\(with(detail))"
        case .unknownMachine(let id):
            return "the Akua API does not know machine \"\(ErrorText.sanitize(id, limit: 64))\" (HTTP 404)"
        case .notFound(let detail):
            return "drift report not found (HTTP 404)\(with(detail))"
        case .idempotencyConflict(let detail):
            return "idempotency key already used with a different request (HTTP 409)\(with(detail))"
        case .invalidRequest(let status?, let detail):
            return "the Akua API rejected the request: HTTP \(status)\(with(detail))"
        case .invalidRequest(nil, let detail):
            return "invalid request, not sent\(with(detail))"
        case .unsupported(let status):
            return "drift reports not supported by this API (HTTP \(status))"
        case .badResponse(let message):
            return "bad response from the Akua API: \(message)"
        case .invalidReport(let message):
            return "the Akua API answered with an invalid report: \(message)"
        case .oversized(let limit):
            return "the Akua API response is larger than \(limit) bytes"
        case .unexpectedStatus(let status):
            return "unexpected HTTP status \(status) from the Akua API"
        }
    }
}

extension AkuaAPIError {
    /// Classifies a non-success response: a pure function of the status, headers, body and operation.
    ///
    /// - Parameters:
    ///   - status: the HTTP status code.
    ///   - headers: response headers (name matching is case-insensitive; only `Retry-After` is used).
    ///   - body: the (possibly truncated or empty) response body.
    ///   - endpoint: the operation, which decides what a 404 means.
    ///   - secrets: strings (the token) to redact from any detail taken from the body.
    public static func classify(
        status: Int, headers: [(name: String, value: String)], body: Data, endpoint: AkuaEndpoint,
        secrets: [String] = []
    ) -> AkuaAPIError {
        let errorBody = try? JSONDecoder().decode(ApiErrorResponse.self, from: body)
        let detail = errorBody.flatMap { ErrorText.detail(of: $0, secrets: secrets) }
        switch status {
        case 408, 425, 429, 500, 502...599:
            let retryAfter = headers.last { $0.name.lowercased() == "retry-after" }.flatMap { RetryAfter.parse($0.value) }
            return .retryable(status: status, retryAfter: retryAfter, detail: detail)
        case 401, 403:
            return .unauthorized(status: status, detail: detail)
        case 400, 422:
            return .invalidRequest(status: status, detail: detail)
        case 404:
            switch endpoint {
            case .listMachines:
                return errorBody == nil ? .unexpectedStatus(404) : .notFound(detail: detail)
            case .getMachine(let machineID):
                return errorBody == nil ? .unexpectedStatus(404) : .unknownMachine(machineID)
            case .createDriftReport(let machineID), .listDriftReports(let machineID):
                // The contract's 404 carries an ApiErrorResponse; nothing in it reliably says what is missing
                // (metadata is free-form), so this is only a candidate: confirm with `getMachine` before
                // declaring the machine gone. A 404 without that body is not the API: the route is missing.
                guard errorBody != nil else { return .unsupported(status: 404) }
                return .unknownMachine(machineID)
            case .getDriftReport(let machineID, _):
                guard let errorBody else { return .unsupported(status: 404) }
                return ErrorText.blamesMachine(errorBody) ? .unknownMachine(machineID) : .notFound(detail: detail)
            }
        case 405, 501:
            return endpoint.isDriftReportOperation ? .unsupported(status: status) : .unexpectedStatus(status)
        case 409:
            if case .createDriftReport = endpoint { return .idempotencyConflict(detail: detail) }
            return .unexpectedStatus(status)
        default:
            return .unexpectedStatus(status)
        }
    }
}
