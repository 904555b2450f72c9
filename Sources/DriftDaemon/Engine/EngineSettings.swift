import DriftCore
import DriftWebhooks

/// What the engine needs from the config, in its own terms (so reloads swap one value).
public struct EngineSettings: Sendable {
    /// What these settings ask of the timer (one pass over the machines).
    public var timerLoad: TimerLoad {
        var rate = 0.0
        var shortest: Int64?
        for machine in machines {
            let interval = max(1, machine.intervalMs)
            rate += 1000 / Double(interval)
            shortest = min(shortest ?? interval, interval)
        }
        return TimerLoad(checksPerSecond: rate, shortestIntervalMs: shortest, refreshBeforeMs: scheduler.refreshBeforeMs)
    }

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
        /// The webhook's name (`name`, or its host): group messages' ids and bodies name it.
        public var name: String
        /// The notification policy of this webhook for every machine without overrides of its own.
        public var rules: NotifyRules
        /// The resolved rules of the machines that have `[[machine]]` policy keys (only those: a fleet
        /// without overrides costs nothing).
        public var machineRules: [String: NotifyRules]

        public init(
            webhookID: String, events: Set<DriftState>, checkFailing: Bool = false, name: String? = nil,
            rules: NotifyRules = NotifyRules(), machineRules: [String: NotifyRules] = [:]
        ) {
            self.webhookID = webhookID
            self.events = events
            self.checkFailing = checkFailing
            self.name = name ?? webhookID
            self.rules = rules
            self.machineRules = machineRules
        }

        /// The rules for `machineID`, resolved when a decision needs them.
        public func rules(for machineID: String) -> NotifyRules {
            machineRules.isEmpty ? rules : machineRules[machineID] ?? rules
        }

        /// Whether some machine's announcements to this webhook go through the policy.
        public var usesPolicy: Bool { !rules.isImmediate || machineRules.values.contains { !$0.isImmediate } }
    }

    public var machines: [Machine]
    public var scheduler: SchedulerSettings
    public var trigger: String
    public var subscriptions: [Subscription]
    /// Consecutive failed checks before a machine is announced as failing (`[schedule] failing_after`).
    public var failingAfter: Int
    /// The configured maintenance windows (`[[maintenance]]`); silences come from the state file.
    public var maintenance: any MuteSchedule
    /// Whether `maintenance` may mute anything (false for `NoMutes`: no lookup per transition).
    public var hasMaintenance: Bool

    public init(
        machines: [Machine], scheduler: SchedulerSettings, trigger: String, subscriptions: [Subscription],
        failingAfter: Int = 3, maintenance: any MuteSchedule = NoMutes()
    ) {
        self.machines = machines
        self.scheduler = scheduler
        self.trigger = trigger
        self.subscriptions = subscriptions
        self.failingAfter = max(1, failingAfter)
        self.maintenance = maintenance
        hasMaintenance = !(maintenance is NoMutes)
    }

    /// Whether any webhook has a policy for any machine (else only mutes can route a change through it).
    public var usesPolicy: Bool { subscriptions.contains(where: \.usesPolicy) }
}
