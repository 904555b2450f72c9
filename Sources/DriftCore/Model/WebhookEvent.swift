/// What a `[[webhook]]` subscribes to in its `events` list: a transition into one of the drift states,
/// `check_failing` (a machine's checks failed `failing_after` times in a row, and their recovery), or
/// `drift_changed` (opt-in: `drifted → drifted` with another set of differing attributes).
public enum WebhookEvent: String, Sendable, Hashable, Codable, CaseIterable {
    case unknown
    case inSync = "in_sync"
    case drifted
    case checkFailing = "check_failing"
    case driftChanged = "drift_changed"

    /// The subscription to transitions into `state`.
    public init(_ state: DriftState) {
        switch state {
        case .unknown: self = .unknown
        case .inSync: self = .inSync
        case .drifted: self = .drifted
        }
    }

    /// The drift state this event announces transitions into; nil for `checkFailing` and `driftChanged`.
    public var state: DriftState? {
        switch self {
        case .unknown: .unknown
        case .inSync: .inSync
        case .drifted: .drifted
        case .checkFailing, .driftChanged: nil
        }
    }

    /// What a webhook without an `events` list gets: every state transition, not `check_failing`.
    public static let defaultSubscription: Set<WebhookEvent> = Set(DriftState.allCases.map(WebhookEvent.init))

    /// The drift states among `events`.
    public static func states(in events: Set<WebhookEvent>) -> Set<DriftState> {
        Set(events.compactMap(\.state))
    }
}
