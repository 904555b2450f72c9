/// A drift report as the simulator keeps it: compact fields plus a `variant` from which the delta
/// and provider snapshot are regenerated deterministically at render time (no stored JSON).
struct StoredReport: Sendable, Equatable {
    let id: String
    let machineID: String
    let machineName: String
    let state: ReportStateName
    let etag: String
    let createdAt: Int64
    let startedAt: Int64
    let expiresAt: Int64
    let variant: UInt64
    /// The attributes its delta names, when pinned by `SimulatorControl.setDriftAttributes` (else from `variant`).
    var pinnedAttributes: [String]? = nil
    /// A bad body that sticks to this report (`sticky_bad_body`): replays and GETs repeat it.
    var bodyFault: BodyFault? = nil
    /// Rendered with optional fields omitted or null and unknown fields added (`odd_fields_rate`).
    var oddFields: Bool = false
}

/// The ways a successful report answer can be corrupted.
enum BodyFault: Sendable, Equatable {
    /// Cut in half with garbage appended: not one complete JSON document.
    case malformed
    /// A complete document without `state`.
    case missingState
    /// A complete document with `state: "exploded"`.
    case unknownState
    /// A complete document larger than 1 MiB.
    case oversized

    /// The `faults_by_kind` counter name.
    var kind: String {
        switch self {
        case .malformed: "malformed"
        case .missingState: "missing_state"
        case .unknownState: "unknown_state"
        case .oversized: "oversized"
        }
    }
}

/// What GET /machines needs to know about one machine, copied out of the lock.
struct MachineSnapshot: Sendable {
    let id: String
    let name: String
    let clusterID: String
    let createdAt: Int64
    let updatedAt: Int64
    let workspaceID: String
}

/// Counters exposed by `GET /_sim/stats` and `SimulatorControl.stats()`.
public struct SimulatorStats: Sendable, Hashable, Codable {
    /// Distinct reports created (replays do not count).
    public var createsTotal: Int
    /// All `/v1` requests, including rejected and faulted ones.
    public var requestsTotal: Int
    /// Distinct reports created per machine id.
    public var reportsByMachine: [String: Int]
    /// Drift report POSTs per idempotency key (every attempt, including faulted ones).
    public var requestsByKey: [String: Int]
    /// Distinct reports created per idempotency key (1 for a correct client).
    public var reportsByKey: [String: Int]
    /// Idempotency key reuses with a different machine or body (answered 409).
    public var conflictsTotal: Int
    /// Injected faults by kind (drop, hang, rate_limit, error, fail_next, malformed, missing_state, unknown_state, oversized).
    public var faultsByKind: [String: Int]

    public init(
        createsTotal: Int = 0,
        requestsTotal: Int = 0,
        reportsByMachine: [String: Int] = [:],
        requestsByKey: [String: Int] = [:],
        reportsByKey: [String: Int] = [:],
        conflictsTotal: Int = 0,
        faultsByKind: [String: Int] = [:]
    ) {
        self.createsTotal = createsTotal
        self.requestsTotal = requestsTotal
        self.reportsByMachine = reportsByMachine
        self.requestsByKey = requestsByKey
        self.reportsByKey = reportsByKey
        self.conflictsTotal = conflictsTotal
        self.faultsByKind = faultsByKind
    }

    enum CodingKeys: String, CodingKey {
        case createsTotal = "creates_total"
        case requestsTotal = "requests_total"
        case reportsByMachine = "reports_by_machine"
        case requestsByKey = "requests_by_key"
        case reportsByKey = "reports_by_key"
        case conflictsTotal = "conflicts_total"
        case faultsByKind = "faults_by_kind"
    }

    func writeJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("creates_total"); writer.int(createsTotal)
        writer.key("requests_total"); writer.int(requestsTotal)
        writer.key("reports_by_machine"); Self.write(reportsByMachine, to: &writer)
        writer.key("requests_by_key"); Self.write(requestsByKey, to: &writer)
        writer.key("reports_by_key"); Self.write(reportsByKey, to: &writer)
        writer.key("conflicts_total"); writer.int(conflictsTotal)
        writer.key("faults_by_kind"); Self.write(faultsByKind, to: &writer)
        writer.endObject()
    }

    private static func write(_ map: [String: Int], to writer: inout JSONWriter) {
        writer.beginObject()
        for key in map.keys.sorted() {
            writer.key(key)
            writer.int(map[key] ?? 0)
        }
        writer.endObject()
    }
}
