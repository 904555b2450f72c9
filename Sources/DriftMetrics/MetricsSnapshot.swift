import DriftCore

/// What `/metrics` reads at scrape time from the engine, the outbox and the state file: cheap queries
/// (counts the engine keeps, one grouped SQL query, one `stat`), never per-check work.
public struct MetricsSnapshot: Sendable {
    /// One webhook's outbox as the scrape sees it.
    public struct Webhook: Sendable {
        public var name: String
        public var pending: Int
        public var oldestPendingSeconds: Double
        public var disabled: Bool
        public init(name: String, pending: Int, oldestPendingSeconds: Double, disabled: Bool) {
            self.name = name
            self.pending = pending
            self.oldestPendingSeconds = oldestPendingSeconds
            self.disabled = disabled
        }
    }

    public var summary: FleetSummary
    public var stale: Int
    /// Each machine's state, only when `per_machine = true` (nil otherwise: no per-machine series).
    public var machineStates: [(id: String, state: DriftState)]?
    public var webhooks: [Webhook]
    public var stateFileBytes: Int64?

    public init(summary: FleetSummary = FleetSummary(), stale: Int = 0, machineStates: [(id: String, state: DriftState)]? = nil,
                webhooks: [Webhook] = [], stateFileBytes: Int64? = nil) {
        self.summary = summary
        self.stale = stale
        self.machineStates = machineStates
        self.webhooks = webhooks
        self.stateFileBytes = stateFileBytes
    }
}
