import DriftCore

/// One machine's row: its effective state, latest report and check bookkeeping.
public struct MachineRecord: Sendable, Hashable {
    public var id: String
    public var name: String?
    public var state: DriftState
    /// Whether any valid report was ever seen (the first one is journaled but only sent when drifted).
    public var observed: Bool
    /// Unix ms of the last change of `state`.
    public var stateSince: Int64?
    public var report: DriftReport?
    /// Unix ms: when `report` expires on the daemon's clock (receipt + lifetime, skew-bounded).
    public var reportLocalExpiresAt: Int64?
    /// Unix ms.
    public var lastCheckedAt: Int64?
    /// Unix ms: start of the last scheduled slot whose check completed.
    public var lastSlot: Int64?
    public var lastError: String?
    public var consecutiveFailures: Int
    /// Unix ms.
    public var nextDueAt: Int64?
    /// False once the machine left the config (its row is kept for history).
    public var configured: Bool

    public init(id: String, name: String? = nil) {
        self.id = id
        self.name = name
        state = .unknown
        observed = false
        consecutiveFailures = 0
        configured = true
    }
}

/// A logged transition and whether it reached the journal yet.
public struct TransitionRecord: Sendable, Hashable {
    public var seq: Int64
    public var transition: Transition
    public var journaled: Bool
}

/// One event waiting for (or done with) one webhook endpoint.
public struct DeliveryRecord: Sendable, Hashable {
    public var seq: Int64
    public var webhook: String
    public var eventID: String
    public var machineID: String
    /// The exact JSON body, fixed when the transition was recorded, so every retry sends the same bytes.
    public var body: [UInt8]
    /// Unix ms.
    public var createdAt: Int64
    public var attempts: Int
    public var nextAttemptAt: Int64
}

/// A webhook delivery to add to the outbox along with a transition, or, with its own `eventID`, a message
/// of the notification policy (a confirmed transition, a reminder, a drift change) added on its own.
public struct OutboxItem: Sendable, Hashable {
    public var webhook: String
    public var body: [UInt8]
    /// The event id of a policy message (nil: the record's transition's).
    public var eventID: String?
    public init(webhook: String, body: [UInt8], eventID: String? = nil) {
        self.webhook = webhook
        self.body = body
        self.eventID = eventID
    }
}

/// How one check ended, as it is recorded.
public struct CheckRecord: Sendable {
    public var machineID: String
    /// Unix ms.
    public var checkedAt: Int64
    /// The report, when one arrived (it becomes the latest report).
    public var report: DriftReport?
    /// Unix ms: when `report` expires on the local clock (receipt + lifetime, skew-bounded).
    public var reportLocalExpiresAt: Int64?
    /// The scheduled slot this check completed, if it did.
    public var completedSlot: Int64?
    /// A one-line error, when the check failed.
    public var error: String?
    public var transition: Transition?
    public var outbox: [OutboxItem]
    public var nextDueAt: Int64?
    /// Deliveries of events that are not transitions ("checks failing"): (event id, webhook, body).
    public var notices: [(eventID: String, item: OutboxItem)] = []
    /// The notification policy's tracks of this machine that changed (written in the same transaction).
    public var notifyTracks: [NotifyTrackWrite] = []
    /// Policy messages held for a webhook's group window.
    public var groupMembers: [NotifyGroupMember] = []

    public init(
        machineID: String, checkedAt: Int64, report: DriftReport? = nil, completedSlot: Int64? = nil,
        error: String? = nil, transition: Transition? = nil, outbox: [OutboxItem] = [], nextDueAt: Int64? = nil
    ) {
        self.machineID = machineID
        self.checkedAt = checkedAt
        self.report = report
        self.completedSlot = completedSlot
        self.error = error
        self.transition = transition
        self.outbox = outbox
        self.nextDueAt = nextDueAt
    }
}
