import DriftCore

/// The daemon's validated configuration, with every default applied. Durations are milliseconds.
///
/// Secrets are not part of it (see `LoadedConfig`), so it can be logged, compared on reload and
/// stored freely.
public struct DaemonConfig: Sendable, Equatable {
    public var api: APISettings
    public var schedule: ScheduleSettings
    public var state: StateSettings
    /// `[metrics]`: the optional Prometheus listener.
    public var metrics = MetricsSettings()
    public var log: LogSettings = LogSettings()
    public var webhooks: [WebhookSettings]
    public var machines: [MachineSettings]
    /// `[notify]`: the notification policy's defaults for every webhook and machine (empty: announce at once).
    public var notify = NotifyOverrides()
    /// `[[maintenance]]`: recurring weekly windows in which announcements are muted, in file order.
    public var maintenance: [MaintenanceWindow] = []

    public init(
        api: APISettings = APISettings(), schedule: ScheduleSettings = ScheduleSettings(),
        state: StateSettings = StateSettings(path: StateSettings.fallbackPath),
        webhooks: [WebhookSettings] = [], machines: [MachineSettings] = []
    ) {
        self.api = api
        self.schedule = schedule
        self.state = state
        self.webhooks = webhooks
        self.machines = machines
    }

    /// How often `machine` is checked: its own `interval`, else `[schedule] interval`.
    public func intervalMilliseconds(for machine: MachineSettings) -> Int64 {
        machine.intervalMilliseconds ?? schedule.intervalMilliseconds
    }

    /// How `webhook` announces `machine`'s changes: the machine's keys over the webhook's over `[notify]`
    /// (nil `machine`: the webhook's rules for a machine without keys of its own).
    /// PagerDuty webhooks are never grouped (one incident per machine; PagerDuty groups alerts itself).
    public func notifyRules(webhook: WebhookSettings, machine: MachineSettings?) -> NotifyRules {
        var rules = NotifyOverrides.resolve(
            global: notify, webhook: webhook.notify, machine: machine?.notify ?? NotifyOverrides(),
            driftChanged: webhook.events.contains(.driftChanged), defaultGroupWaitMs: webhook.format.defaultGroupWaitMs)
        if webhook.format == .pagerduty { rules.groupWaitMs = 0 }
        return rules
    }

    /// The maintenance windows as the policy asks them (`MuteSchedule`).
    public var maintenanceSchedule: MaintenanceSchedule { MaintenanceSchedule(windows: maintenance) }
}

/// `[api]`: where and how to reach the Akua API.
public struct APISettings: Sendable, Equatable {
    public static let defaultBaseURL = "https://api.akua.dev/v1"

    /// Absolute http(s) URL without a trailing slash, scheme and host lowercased.
    public var baseURL: String
    /// `token_file` as written, or nil when the token comes from `$CREDENTIALS_DIRECTORY` or `$AKUA_API_TOKEN`.
    public var tokenFile: String?
    /// Sent as the `akua-context` header when set (1-53 visible ASCII characters).
    public var context: String?
    /// Per-request timeout.
    public var timeoutMilliseconds: Int64
    /// Most API requests in flight at once (1...1024).
    public var maxInFlight: Int
    /// Whether plain http to a non-loopback host was explicitly allowed.
    public var allowInsecureHTTP: Bool

    public init(
        baseURL: String = APISettings.defaultBaseURL, tokenFile: String? = nil, context: String? = nil,
        timeoutMilliseconds: Int64 = 30_000, maxInFlight: Int = 8, allowInsecureHTTP: Bool = false
    ) {
        self.baseURL = baseURL
        self.tokenFile = tokenFile
        self.context = context
        self.timeoutMilliseconds = timeoutMilliseconds
        self.maxInFlight = maxInFlight
        self.allowInsecureHTTP = allowInsecureHTTP
    }
}

/// `[schedule]`: when machines are checked.
public struct ScheduleSettings: Sendable, Equatable {
    /// Default check interval per machine (at least 1s).
    public var intervalMilliseconds: Int64
    /// A fresh report is created this long before the current one's `expires_at`.
    public var refreshBeforeExpiryMilliseconds: Int64
    /// Machines overdue after downtime are spread over this window instead of all at once.
    public var catchUpWindowMilliseconds: Int64
    /// The `trigger` sent when creating a report (1-64 characters).
    public var trigger: String
    /// `failing_after`: consecutive failed checks before a machine is announced as failing (at least 1).
    public var failingAfter: Int

    public static let defaultFailingAfter = 3

    public init(
        intervalMilliseconds: Int64 = 900_000, refreshBeforeExpiryMilliseconds: Int64 = 60_000,
        catchUpWindowMilliseconds: Int64 = 60_000, trigger: String = "schedule",
        failingAfter: Int = ScheduleSettings.defaultFailingAfter
    ) {
        self.intervalMilliseconds = intervalMilliseconds
        self.refreshBeforeExpiryMilliseconds = refreshBeforeExpiryMilliseconds
        self.catchUpWindowMilliseconds = catchUpWindowMilliseconds
        self.trigger = trigger
        self.failingAfter = failingAfter
    }
}

/// `[state]`: where the daemon keeps its SQLite database.
public struct StateSettings: Sendable, Equatable {
    /// The default when neither `[state] path` nor `$STATE_DIRECTORY` is set.
    public static let fallbackPath = "./state.sqlite"

    /// `path` as written, else `$STATE_DIRECTORY/state.sqlite` (first entry), else `./state.sqlite`.
    public var path: String
    /// `retention`: transitions and finished deliveries older than this are pruned (pending ones never).
    public var retentionMilliseconds: Int64

    public static let defaultRetentionMilliseconds: Int64 = 30 * 86_400_000
    /// Shortest `retention` accepted (a shorter one would prune what a reader just missed).
    public static let minimumRetentionMilliseconds: Int64 = 3_600_000

    public init(path: String, retentionMilliseconds: Int64 = StateSettings.defaultRetentionMilliseconds) {
        self.path = path
        self.retentionMilliseconds = retentionMilliseconds
    }
}

/// One `[[webhook]]`: an endpoint notified of state transitions (Standard Webhooks).
public struct WebhookSettings: Sendable, Equatable {
    /// https URL (http only for loopback hosts or with `allow_insecure_http`), exactly as written
    /// except for a lowercased scheme and host.
    public var url: String
    /// `secret_file` as written, or nil when the secret comes from `$CREDENTIALS_DIRECTORY/webhook-secret`.
    public var secretFile: String?
    /// What is sent: transitions into the listed states, and `check_failing` if listed (default: the
    /// three states, not `check_failing`).
    public var events: Set<WebhookEvent>
    public var timeoutMilliseconds: Int64
    /// Label for logs: `name` as written, else the URL's host.
    public var name: String
    /// Whether plain http to a non-loopback host was explicitly allowed.
    public var allowInsecureHTTP: Bool
    /// The receiver's message shape (`format`; default Standard Webhooks).
    public var format: WebhookFormat = .standard
    /// `routing_key_file` as written (PagerDuty), or nil for `$CREDENTIALS_DIRECTORY/pagerduty-routing-key`.
    public var routingKeyFile: String?
    /// `url_file`: the URL comes from this file (a secret; `url` is then empty here and the URL is in
    /// `LoadedConfig.webhookURLs`).
    public var urlFile: String?
    /// Further `secret_file` entries (a rotation: the current secret first, then the ones still accepted).
    public var additionalSecretFiles: [String] = []
    /// `template_file` (format `template`): the Mustache template's path, and its text as read at load.
    public var templateFile: String?
    public var templateText: String?
    /// `content_type` of a template's body (default `application/json`).
    public var contentType = "application/json"
    /// This receiver's notification policy keys (`confirm`, `for`, `repeat_interval`, `ignore_attributes`,
    /// `group_wait`); unset ones come from `[notify]`.
    public var notify = NotifyOverrides()

    public init(
        url: String, secretFile: String? = nil, events: Set<WebhookEvent> = WebhookEvent.defaultSubscription,
        timeoutMilliseconds: Int64 = 10_000, name: String, allowInsecureHTTP: Bool = false
    ) {
        self.url = url
        self.secretFile = secretFile
        self.events = events
        self.timeoutMilliseconds = timeoutMilliseconds
        self.name = name
        self.allowInsecureHTTP = allowInsecureHTTP
    }

    /// The drift states whose transitions this webhook gets.
    public var states: Set<DriftState> { WebhookEvent.states(in: events) }

    /// Whether this webhook gets "checks failing" / "checks recovered" events.
    public var wantsCheckFailing: Bool { events.contains(.checkFailing) }
}

/// One `[[machine]]` to watch.
public struct MachineSettings: Sendable, Equatable, Hashable {
    /// The Akua machine id (1-54 characters, no whitespace or control characters); unique in the file.
    public var id: String
    /// Optional human label for logs.
    public var name: String?
    /// Per-machine override of `[schedule] interval`.
    public var intervalMilliseconds: Int64?
    /// The notification keys, boxed and nil when empty: a config holds a million of these values.
    private var notifyBox: NotifyOverridesBox?

    public init(id: String, name: String? = nil, intervalMilliseconds: Int64? = nil, notify: NotifyOverrides = NotifyOverrides()) {
        self.id = id
        self.name = name
        self.intervalMilliseconds = intervalMilliseconds
        self.notify = notify
    }

    /// This machine's notification policy keys (`confirm`, `for`, `repeat_interval`, `ignore_attributes`);
    /// unset ones come from the webhook, then `[notify]`. Empty by default.
    public var notify: NotifyOverrides {
        get { notifyBox?.value ?? NotifyOverrides() }
        set { notifyBox = newValue.isEmpty ? nil : NotifyOverridesBox(newValue) }
    }

    /// `name` if set, else `id`.
    public var displayName: String { name ?? id }
}

/// An immutable heap copy of a machine's `NotifyOverrides`, compared and hashed by value.
private final class NotifyOverridesBox: Sendable, Hashable {
    let value: NotifyOverrides

    init(_ value: NotifyOverrides) { self.value = value }

    static func == (lhs: NotifyOverridesBox, rhs: NotifyOverridesBox) -> Bool { lhs === rhs || lhs.value == rhs.value }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
