import DriftCore

/// The result of `createDriftReport`: the report, where it lives, and whether the API replayed an earlier create.
public struct CreatedDriftReport: Sendable, Hashable {
    /// The report (decoded strictly: a missing or invalid `state` is an `invalidReport`).
    public var report: DriftReport
    /// The `Location` header of the response, when present.
    public var location: String?
    /// True when the API answered with the report of an earlier request with the same idempotency key
    /// (HTTP 200 instead of 201, or an `idempotent-replayed: true` header).
    public var replayed: Bool
    /// The HTTP status of the response (201, or 200 for a replay).
    public var status: Int
    /// The server's clock when it answered, from the response `Date` header, in unix milliseconds (whole
    /// seconds); nil when the header is missing or not an HTTP-date. Compare with the local receipt time
    /// to measure clock skew.
    public var serverDateMs: Int64?

    public init(report: DriftReport, location: String?, replayed: Bool, status: Int, serverDateMs: Int64? = nil) {
        self.report = report
        self.location = location
        self.replayed = replayed
        self.status = status
        self.serverDateMs = serverDateMs
    }
}
