/// The effective drift state of a machine as akua-driftd sees it.
///
/// `inSync` and `drifted` come from a valid, unexpired drift report; `unknown` means there is
/// no such report (never checked, the latest report expired, or the API no longer knows the machine).
public enum DriftState: String, Sendable, Hashable, Codable, CaseIterable {
    case unknown
    case inSync = "in_sync"
    case drifted
}

/// The state a drift report carries on the wire (the API's enum has exactly these two values).
public enum ReportState: String, Sendable, Hashable, Codable, CaseIterable {
    case inSync = "in_sync"
    case drifted

    /// The effective state a valid report of this state gives its machine.
    public var driftState: DriftState {
        switch self {
        case .inSync: .inSync
        case .drifted: .drifted
        }
    }
}
