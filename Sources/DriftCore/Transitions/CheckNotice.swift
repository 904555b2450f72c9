/// "Checks failing" (after `failing_after` failed checks in a row) or "checks recovered": not a change of
/// state, but something a webhook asks for with `events = ["check_failing"]`.
public struct CheckNotice: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case failing = "check_failing"
        case recovered = "check_recovered"
    }

    public var kind: Kind
    public var eventID: String
    public var machineID: String
    public var machineName: String?
    /// The machine's effective state when the notice was made.
    public var state: DriftState
    public var consecutiveFailures: Int
    /// The last error (failing), or nil (recovered).
    public var lastError: String?
    /// Unix ms.
    public var at: Int64

    /// The event id is derived from the machine, the kind and the report the streak started after (or the
    /// report that ended it), so a replica in the same streak uses the same id.
    public init(
        kind: Kind, machineID: String, machineName: String?, state: DriftState, consecutiveFailures: Int,
        lastError: String?, reportID: String?, at: Int64
    ) {
        self.kind = kind
        self.machineID = machineID
        self.machineName = machineName
        self.state = state
        self.consecutiveFailures = consecutiveFailures
        self.lastError = lastError
        self.at = at
        eventID = "evt_" + StableHash.sha256Hex([machineID, kind.rawValue, reportID ?? ""], length: 32)
    }
}
