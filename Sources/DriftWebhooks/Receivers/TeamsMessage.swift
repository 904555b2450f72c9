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
        let headline = Element(type: "TextBlock", text: StoredEvent.clip(event.headline, 1_000), weight: "Bolder", size: "Medium", wrap: true)
        if event.kind == "group" {
            // One card for the window: a fact per machine, capped well inside Teams' 28 KB per message.
            let (lines, more) = event.groupLines(count: Self.groupListLimit, characters: 6_000)
            var body = [headline]
            let facts = event.groupMachines.prefix(lines.count).map { machine in
                Fact(title: StoredEvent.clip(machine.label, 100), value: StoredEvent.clip(
                    machine.change + (machine.events > 1 ? " (\(machine.events) changes)" : ""), 160))
            }
            if !facts.isEmpty { body.append(Element(type: "FactSet", facts: facts)) }
            if more > 0 { body.append(Element(type: "TextBlock", text: StoredEvent.more(more), wrap: true)) }
            body.append(Element(type: "FactSet", facts: [
                Fact(title: "Events", value: String(event.data.count ?? event.members.count)), Fact(title: "Group", value: event.data.event_id),
            ]))
            attachments = [Attachment(content: Card(body: body))]
            return
        }
        var facts = [event.kind == "test" ? Fact(title: "Webhook", value: event.data.webhook ?? "?") : Fact(title: "Machine", value: event.machineID)]
        switch event.kind {
        case "transition":
            facts.append(Fact(title: "State", value: "\(event.data.previous_state ?? "unknown") → \(event.state)"))
            if let cause = event.data.cause { facts.append(Fact(title: "Cause", value: cause)) }
        case "reminder":
            facts.append(Fact(title: "State", value: "\(event.state) since \(event.data.since ?? "?")"))
            facts.append(Fact(title: "Reminder", value: "#\(event.data.reminder ?? 0)"))
        case "changed":
            let change = event.attributeChange
            facts.append(Fact(title: "State", value: "drifted → drifted"))
            if !change.added.isEmpty { facts.append(Fact(title: "Now differing", value: StoredEvent.clip(change.added.joined(separator: ", "), 1_000))) }
            if !change.removed.isEmpty { facts.append(Fact(title: "No longer differing", value: StoredEvent.clip(change.removed.joined(separator: ", "), 1_000))) }
        default:
            if let error = event.data.last_error { facts.append(Fact(title: "Last error", value: StoredEvent.clip(error, 1_000))) }
        }
        facts.append(Fact(title: "Event", value: event.data.event_id))
        var body = [headline, Element(type: "FactSet", facts: facts)]
        let differences = event.differences.prefix(50)
        if !differences.isEmpty {
            body.append(Element(type: "TextBlock", text: "Differing attributes", weight: "Bolder", wrap: true))
            body.append(Element(type: "FactSet", facts: differences.map { Fact(title: $0.name, value: StoredEvent.clip($0.value, 200)) }))
        }
        attachments = [Attachment(content: Card(body: body))]
    }

    /// At most this many machines are listed in a group's card (the rest: "… and N more").
    static let groupListLimit = 25
}
