/// How one webhook announces one machine's changes (`[notify]`, overridden per webhook and per machine).
/// The default value is the historic behaviour: every change at once, one message each.
public struct NotifyRules: Sendable, Hashable {
    /// A new state is announced only after this many reports in a row agree (`confirm`; 1: at once).
    public var confirmReports: Int = 1
    /// ... and only once it has held this long (`for`; 0: at once).
    public var confirmForMs: Int64 = 0
    /// While the announced state is `drifted` or `unknown`, a reminder every this long (`repeat_interval`).
    public var repeatIntervalMs: Int64? = nil
    /// `drifted → drifted` with another set of differing attributes is announced (`events` lists `drift_changed`).
    public var driftChanged: Bool = false
    /// Differences in these attributes alone count as `in_sync` for announcements (`ignore_attributes`).
    public var ignoreAttributes: Set<String> = []
    /// Changes within one window of this length are sent as one message (`group_wait`; 0: one per change).
    public var groupWaitMs: Int64 = 0

    public init(
        confirmReports: Int = 1, confirmForMs: Int64 = 0, repeatIntervalMs: Int64? = nil, driftChanged: Bool = false,
        ignoreAttributes: Set<String> = [], groupWaitMs: Int64 = 0
    ) {
        self.confirmReports = max(1, confirmReports)
        self.confirmForMs = max(0, confirmForMs)
        self.repeatIntervalMs = repeatIntervalMs
        self.driftChanged = driftChanged
        self.ignoreAttributes = ignoreAttributes
        self.groupWaitMs = max(0, groupWaitMs)
    }

    /// Whether these rules are today's behaviour (no policy state needs to be kept).
    public var isImmediate: Bool { self == NotifyRules() }
}

/// One level of `NotifyRules` as written (`[notify]`, a `[[webhook]]`, a `[[machine]]`): nil keys inherit.
public struct NotifyOverrides: Sendable, Hashable {
    public var confirmReports: Int?
    public var confirmForMs: Int64?
    /// `repeat_interval`; `.some(nil)` is written `repeat_interval = "0"` (off, overriding a default).
    public var repeatIntervalMs: Int64??
    public var ignoreAttributes: Set<String>?
    public var groupWaitMs: Int64?

    public init(
        confirmReports: Int? = nil, confirmForMs: Int64? = nil, repeatIntervalMs: Int64?? = nil,
        ignoreAttributes: Set<String>? = nil, groupWaitMs: Int64? = nil
    ) {
        self.confirmReports = confirmReports
        self.confirmForMs = confirmForMs
        self.repeatIntervalMs = repeatIntervalMs
        self.ignoreAttributes = ignoreAttributes
        self.groupWaitMs = groupWaitMs
    }

    public var isEmpty: Bool { self == NotifyOverrides() }

    /// The rules of one webhook for one machine: the machine's keys win over the webhook's, which win over
    /// `[notify]`; `ignore_attributes` adds up (global ∪ webhook ∪ machine). `driftChanged` comes from the
    /// webhook's `events`, `defaultGroupWaitMs` from its format (30 s for chat services, else 0).
    public static func resolve(
        global: NotifyOverrides, webhook: NotifyOverrides, machine: NotifyOverrides,
        driftChanged: Bool, defaultGroupWaitMs: Int64
    ) -> NotifyRules {
        let levels = [machine, webhook, global]
        var rules = NotifyRules()
        rules.confirmReports = max(1, levels.lazy.compactMap(\.confirmReports).first ?? 1)
        rules.confirmForMs = max(0, levels.lazy.compactMap(\.confirmForMs).first ?? 0)
        rules.repeatIntervalMs = levels.lazy.compactMap(\.repeatIntervalMs).first ?? nil
        rules.ignoreAttributes = levels.reduce(into: Set<String>()) { $0.formUnion($1.ignoreAttributes ?? []) }
        rules.groupWaitMs = max(0, levels.lazy.compactMap(\.groupWaitMs).first ?? defaultGroupWaitMs)
        rules.driftChanged = driftChanged
        return rules
    }
}
