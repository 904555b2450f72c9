import DriftCore
import Foundation

/// Rendering of the stored Standard Webhooks body for a receiver's format at send time, so the outbox
/// stays format-independent and two replicas render byte-identical messages from the same event.
extension WebhookFormat {
    /// The request for one stored event: its body, content type and whether the Standard Webhooks headers
    /// (`webhook-id`, `webhook-timestamp`, `webhook-signature`) go with it.
    public struct Rendered: Sendable, Equatable {
        public var body: [UInt8]
        public var contentType: String
        public var signed: Bool
    }

    /// Why an event could not be rendered (a body the daemon did not write); never retried.
    public struct RenderError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Stored bodies above this are not rendered (the API caps a report at 1 MiB).
    static let maxRenderedInput = 2 * 1024 * 1024

    /// PagerDuty's event action, when the caller decides it (`webhook test` resolves what it triggered).
    public enum Action: String, Sendable {
        case trigger, resolve
    }

    /// Renders `body` (a stored Standard Webhooks event) for this format. `routingKey` is PagerDuty's;
    /// `action` overrides the action PagerDuty gets (by default derived from the event).
    public func render(
        _ body: [UInt8], routingKey: String? = nil, template: WebhookTemplate? = nil, action: Action? = nil
    ) throws(RenderError) -> Rendered {
        if self == .standard { return Rendered(body: body, contentType: "application/json", signed: true) }
        if self == .template {
            guard let template else { throw RenderError(description: "no template") }
            // Signed when the webhook has a secret (the caller decides): a generic receiver may verify it.
            return Rendered(body: try template.render(body), contentType: template.contentType, signed: true)
        }
        if body.count > Self.maxRenderedInput {
            throw RenderError(description: "the stored event is larger than \(Self.maxRenderedInput) bytes")
        }
        var event: StoredEvent
        do {
            event = try JSONDecoder().decode(StoredEvent.self, from: Data(body))
        } catch {
            throw RenderError(description: "the stored event is not a Standard Webhooks event body: \(error)")
        }
        // A group of one event is that event's own message (its details, PagerDuty's trigger or resolve).
        if event.kind == "group", event.members.count == 1, let only = event.members.first { event = only }
        let object: any Encodable
        switch self {
        case .standard, .template: fatalError("handled above")
        case .slack: object = SlackMessage(event)
        case .teams: object = TeamsMessage(event)
        case .pagerduty:
            guard let routingKey else { throw RenderError(description: "no PagerDuty routing key") }
            object = PagerDutyEvent(event, routingKey: routingKey, action: action)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return Rendered(body: Array(try encoder.encode(object)), contentType: "application/json", signed: false)
        } catch {
            throw RenderError(description: "cannot encode the \(rawValue) message: \(error)")
        }
    }
}
