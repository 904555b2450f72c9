import DriftCore
import Foundation

/// A Microsoft Teams Workflows ("Post to a channel when a webhook request is received") message: one
/// Adaptive Card 1.4 attachment with the headline, a fact set and the differing attributes.
struct TeamsMessage: Encodable {
    struct Attachment: Encodable {
        var contentType = "application/vnd.microsoft.card.adaptive"
        var contentUrl: String? = nil
        var content: Card

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(contentType, forKey: .contentType)
            try c.encode(contentUrl, forKey: .contentUrl)  // explicit null, as Microsoft's samples send
            try c.encode(content, forKey: .content)
        }
        enum CodingKeys: String, CodingKey { case contentType, contentUrl, content }
    }
    struct Card: Encodable {
        var schema = "http://adaptivecards.io/schemas/adaptive-card.json"
        var type = "AdaptiveCard"
        var version = "1.4"
        var body: [Element]
        enum CodingKeys: String, CodingKey { case schema = "$schema", type, version, body }
    }
    struct Fact: Encodable {
        var title: String
        var value: String
    }
    struct Element: Encodable {
        var type: String
        var text: String?
        var weight: String?
        var size: String?
        var wrap: Bool?
        var facts: [Fact]?
    }
    var type = "message"
    var attachments: [Attachment]

    init(_ event: StoredEvent) {
        var facts = [event.kind == "test" ? Fact(title: "Webhook", value: event.data.webhook ?? "?") : Fact(title: "Machine", value: event.machineID)]
        if event.kind == "transition" {
            facts.append(Fact(title: "State", value: "\(event.data.previous_state ?? "unknown") → \(event.state)"))
            if let cause = event.data.cause { facts.append(Fact(title: "Cause", value: cause)) }
        } else if let error = event.data.last_error {
            facts.append(Fact(title: "Last error", value: StoredEvent.clip(error, 1_000)))
        }
        facts.append(Fact(title: "Event", value: event.data.event_id))
        var body = [
            Element(type: "TextBlock", text: StoredEvent.clip(event.headline, 1_000), weight: "Bolder", size: "Medium", wrap: true),
            Element(type: "FactSet", facts: facts),
        ]
        let differences = event.differences.prefix(50)
        if !differences.isEmpty {
            body.append(Element(type: "TextBlock", text: "Differing attributes", weight: "Bolder", wrap: true))
            body.append(Element(type: "FactSet", facts: differences.map { Fact(title: $0.name, value: StoredEvent.clip($0.value, 200)) }))
        }
        attachments = [Attachment(content: Card(body: body))]
    }
}
