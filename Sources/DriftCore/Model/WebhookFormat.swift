/// The message shape a `[[webhook]]` receiver wants: the Standard Webhooks event (signed), or a
/// service's own message rendered from it at send time.
public enum WebhookFormat: String, Sendable, Hashable, CaseIterable {
    /// Standard Webhooks body and signature headers.
    case standard
    /// Slack incoming webhook: `text` plus Block Kit blocks.
    case slack
    /// Microsoft Teams Workflows webhook: an Adaptive Card attachment.
    case teams
    /// PagerDuty Events API v2: `trigger`/`resolve` with a per-machine `dedup_key`.
    case pagerduty
    /// A Mustache template file rendered with the event, sent with the configured content type (signed
    /// when the webhook has a secret).
    case template

    /// Whether the webhook needs a secret: Standard Webhooks are always signed.
    public var needsSecret: Bool { self == .standard }

    /// `group_wait` when not configured: chat channels (Slack, Teams) get one message per 30 s window;
    /// the others one message per change (PagerDuty groups alerts itself).
    public var defaultGroupWaitMs: Int64 {
        switch self {
        case .slack, .teams: 30_000
        case .standard, .pagerduty, .template: 0
        }
    }
}
