/// Counts of machines per effective state, and the `STATUS=` line systemd shows for the service.
public struct FleetSummary: Sendable, Hashable {
    public var inSync = 0
    public var drifted = 0
    public var unknown = 0
    /// Machines whose last `failing_after` or more checks failed (they also count in their state).
    public var failing = 0

    public init(inSync: Int = 0, drifted: Int = 0, unknown: Int = 0, failing: Int = 0) {
        self.inSync = inSync
        self.drifted = drifted
        self.unknown = unknown
        self.failing = failing
    }

    public var total: Int { inSync + drifted + unknown }

    public mutating func add(_ state: DriftState, _ count: Int = 1) {
        switch state {
        case .inSync: inSync += count
        case .drifted: drifted += count
        case .unknown: unknown += count
        }
    }

    /// "watching 120 machines: 117 in_sync, 2 drifted, 1 unknown; next check in 14s".
    public func statusLine(nextCheckInMs: Int64?) -> String {
        var line = "watching \(total) machine\(total == 1 ? "" : "s"): \(inSync) in_sync, \(drifted) drifted, \(unknown) unknown"
        if failing > 0 { line += ", \(failing) failing" }
        if let next = nextCheckInMs {
            let seconds = max(0, (next + 999) / 1000)
            line += "; next check in \(DurationText.format(milliseconds: seconds * 1000))"
        }
        return line
    }
}
