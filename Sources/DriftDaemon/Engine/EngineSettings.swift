import DriftCore
import DriftWebhooks

/// What the engine needs from the config, in its own terms (so reloads swap one value).
public struct EngineSettings: Sendable {
    public struct Machine: Sendable, Hashable {
        public var id: String
        public var name: String?
        public var intervalMs: Int64
        public init(id: String, name: String?, intervalMs: Int64) {
            self.id = id
            self.name = name
            self.intervalMs = intervalMs
        }
    }

    /// A webhook as the engine sees it: where its outbox rows go and which states it wants.
    public struct Subscription: Sendable, Hashable {
        public var webhookID: String
        public var events: Set<DriftState>
        /// Whether the webhook lists `check_failing` (checks failing / recovered notices).
        public var checkFailing: Bool
        public init(webhookID: String, events: Set<DriftState>, checkFailing: Bool = false) {
            self.webhookID = webhookID
            self.events = events
            self.checkFailing = checkFailing
        }
    }

    public var machines: [Machine]
    public var scheduler: SchedulerSettings
    public var trigger: String
    public var subscriptions: [Subscription]
    /// Consecutive failed checks before a machine is announced as failing (`[schedule] failing_after`).
    public var failingAfter: Int

    public init(
        machines: [Machine], scheduler: SchedulerSettings, trigger: String, subscriptions: [Subscription],
        failingAfter: Int = 3
    ) {
        self.machines = machines
        self.scheduler = scheduler
        self.trigger = trigger
        self.subscriptions = subscriptions
        self.failingAfter = max(1, failingAfter)
    }
}
