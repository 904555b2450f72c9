import DriftCore
import Foundation

/// A Slack incoming-webhook message: `text` (the notification fallback) plus Block Kit blocks naming the
/// machine, the states and the differing attributes, within Slack's limits (section text ≤ 3,000
/// characters, ≤ 10 fields of ≤ 2,000 characters, ≤ 50 blocks).
struct SlackMessage: Encodable {
    struct Text: Encodable {
        var type: String
        var text: String
    }
    struct Block: Encodable {
        var type: String
        var text: Text?
        var fields: [Text]?
        var elements: [Text]?
    }
    var text: String
    var blocks: [Block]

    init(_ event: StoredEvent) {
        text = StoredEvent.clip(event.headline, 3_000)
        var blocks = [Block(type: "section", text: Text(type: "mrkdwn", text: StoredEvent.clip("*\(Self.escape(event.headline))*", 3_000)))]
        if event.kind == "group" {
            // One message for the window: the machines as one list, capped within a section's 3,000 characters.
            let (lines, more) = event.groupLines(count: Self.groupListLimit, characters: 2_900, lineLimit: 300) { "• " + Self.escape(StoredEvent.clip($0.line, 200)) }
            let list = lines + (more > 0 ? [StoredEvent.more(more)] : [])
            if !list.isEmpty { blocks.append(Block(type: "section", text: Text(type: "mrkdwn", text: list.joined(separator: "\n")))) }
            blocks.append(Block(type: "context", elements: [Text(type: "mrkdwn", text: "akua-driftd · group \(event.data.event_id) · \(event.data.count ?? event.members.count) events · \(event.timestamp)")]))
            self.blocks = blocks
            return
        }
        var fields: [Text] = []
        if event.kind == "test" {
            fields.append(Text(type: "mrkdwn", text: "*Webhook*\n\(Self.escape(event.data.webhook ?? "?"))"))
        } else {
            fields.append(Text(type: "mrkdwn", text: "*Machine*\n\(Self.escape(event.machineID))"))
        }
        switch event.kind {
        case "transition":
            fields.append(Text(type: "mrkdwn", text: "*State*\n\(event.data.previous_state ?? "unknown") → \(event.state)"))
            if let cause = event.data.cause { fields.append(Text(type: "mrkdwn", text: "*Cause*\n\(cause)")) }
        case "reminder":
            fields.append(Text(type: "mrkdwn", text: "*State*\n\(event.state) since \(event.data.since ?? "?")"))
            fields.append(Text(type: "mrkdwn", text: "*Reminder*\n#\(event.data.reminder ?? 0)"))
        case "changed":
            let change = event.attributeChange
            fields.append(Text(type: "mrkdwn", text: "*State*\ndrifted → drifted"))
            let parts = change.added.map { "+`\(Self.escape($0))`" } + change.removed.map { "−`\(Self.escape($0))`" }
            if !parts.isEmpty { fields.append(Text(type: "mrkdwn", text: StoredEvent.clip("*Changed*\n" + parts.joined(separator: " "), 2_000))) }
        default:
            if let error = event.data.last_error {
                fields.append(Text(type: "mrkdwn", text: StoredEvent.clip("*Last error*\n\(Self.escape(error))", 2_000)))
            }
        }
        blocks.append(Block(type: "section", fields: fields))
        let differences = event.differences
        if !differences.isEmpty {
            let lines = differences.map { "• `\(Self.escape($0.name))`: \(Self.escape(StoredEvent.clip($0.value, 200)))" }
            blocks.append(Block(type: "section", text: Text(
                type: "mrkdwn", text: StoredEvent.clip("*Differing attributes (\(differences.count))*\n" + lines.joined(separator: "\n"), 3_000))))
        }
        blocks.append(Block(type: "context", elements: [Text(type: "mrkdwn", text: "akua-driftd · event \(event.data.event_id) · \(event.timestamp)")]))
        self.blocks = blocks
    }

    /// At most this many machines are listed in a group's message (the rest: "… and N more").
    static let groupListLimit = 40

    /// Slack's mrkdwn control characters (`&`, `<`, `>`) escaped as its documentation asks.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
