import DriftCore
import DriftTestSupport
import Foundation
import Testing

@testable import DriftWebhooks

/// Issue 11: the slack, teams, pagerduty and template formats render the policy's reminder, changed and
/// group events; every rendering is checked against the documented shape of its service by
/// Tests/Support/receiver-shapes.py (written from the services' documentation, no code shared).
@Suite("Policy events rendered per receiver format")
struct PolicyRenderingTests {
    typealias F = PolicyEventFixtures
    static let routingKey = "R0UT1NGK3Y0123456789abcdefABCDEF"
    static let paths: [(WebhookFormat, String)] = [(.slack, "/slack"), (.teams, "/teams"), (.pagerduty, "/pagerduty")]

    static func render(_ format: WebhookFormat, _ body: [UInt8]) throws -> [String: Any] {
        let rendered = try format.render(body, routingKey: routingKey)
        #expect(rendered.contentType == "application/json" && !rendered.signed)
        return try F.json(rendered.body)
    }

    /// A group of `count` machines with long names: (machines listed, "and N more" number) per format.
    static let bigCount = 300

    @Test("every policy event in every format is accepted by the stand-in of its service",
          .enabled(if: PythonOracle.available, "needs /usr/bin/python3 for Tests/Support/receiver-shapes.py"))
    func shapesAccepted() throws {
        let bodies: [(String, [UInt8])] = [
            ("reminder", F.reminder), ("reminder of unknown", WebhookPayload.reminderBody(for: F.expired, reminder: 1, eventID: F.reminderID(F.expired, 1))),
            ("changed", F.changed), ("group", F.group), ("mixed group", F.mixedGroup), ("group of one", F.groupOf([F.changed])),
            ("big group", F.bigGroup(Self.bigCount)), ("transition", WebhookPayload.body(for: F.drifted)),
        ]
        var requests: [(path: String, rendered: WebhookFormat.Rendered)] = []
        var names: [String] = []
        for (format, path) in Self.paths {
            for (name, body) in bodies {
                requests.append((path, try format.render(body, routingKey: Self.routingKey)))
                names.append("\(format.rawValue) \(name)")
            }
        }
        let verdicts = try PythonOracle.shapeErrors(requests)
        for ((name, request), errors) in zip(zip(names, requests), verdicts) {
            #expect(errors.isEmpty, "\(name): \(errors) \(String(decoding: request.rendered.body.prefix(400), as: UTF8.self))")
        }
    }

    @Test("Slack: a group is one message whose text counts the machines; the list is capped with \"and N more\"")
    func slackGroup() throws {
        let message = try Self.render(.slack, F.group)
        #expect(message["text"] as? String == "3 machines changed: 2 unknown, 1 in sync")
        let blocks = try #require(message["blocks"] as? [[String: Any]])
        let texts = blocks.compactMap { ($0["text"] as? [String: Any])?["text"] as? String }
        let list = try #require(texts.first { $0.contains("mch_a") })
        for machine in ["api-1 (mch_a)", "mch_b", "db-1 (mch_c)"] { #expect(list.contains(machine), "\(machine) missing from \(list)") }
        #expect(!list.contains("more"))

        let big = try Self.render(.slack, F.bigGroup(Self.bigCount))
        #expect(big["text"] as? String == "\(Self.bigCount) machines changed: \(Self.bigCount) unknown")
        let bigTexts = try #require(big["blocks"] as? [[String: Any]]).compactMap { ($0["text"] as? [String: Any])?["text"] as? String }
        let bigList = try #require(bigTexts.first { $0.contains("mch_big0") })
        let listed = bigList.split(separator: "\n").filter { $0.hasPrefix("• ") }.count
        #expect(listed >= 1 && bigList.hasSuffix("… and \(Self.bigCount - listed) more"), "\(listed) listed: \(bigList.suffix(80))")
    }

    @Test("Teams: a group is one Adaptive Card with a fact per machine, capped with \"and N more\"")
    func teamsGroup() throws {
        func card(_ body: [UInt8]) throws -> [[String: Any]] {
            let message = try Self.render(.teams, body)
            let attachments = try #require(message["attachments"] as? [[String: Any]])
            #expect(attachments.count == 1)
            return try #require((attachments.first?["content"] as? [String: Any])?["body"] as? [[String: Any]])
        }
        let elements = try card(F.group)
        #expect(elements.first?["text"] as? String == "3 machines changed: 2 unknown, 1 in sync")
        let facts = try #require(elements.first { $0["type"] as? String == "FactSet" }?["facts"] as? [[String: String]])
        #expect(facts.map { $0["title"] ?? "" } == ["api-1 (mch_a)", "mch_b", "db-1 (mch_c)"])

        let big = try card(F.bigGroup(Self.bigCount))
        let bigFacts = try #require(big.first { $0["type"] as? String == "FactSet" }?["facts"] as? [[String: String]])
        let more = big.compactMap { $0["text"] as? String }.first { $0.hasPrefix("… and") }
        #expect(more == "… and \(Self.bigCount - bigFacts.count) more", "\(bigFacts.count) facts")
    }

    @Test("PagerDuty: a reminder and a drift change re-trigger the machine's incident; a group is one trigger keyed by its id")
    func pagerDuty() throws {
        let transition = try Self.render(.pagerduty, WebhookPayload.body(for: F.drifted))
        let reminder = try Self.render(.pagerduty, F.reminder)
        let changed = try Self.render(.pagerduty, F.changed)
        #expect(transition["dedup_key"] as? String == "akua-driftd/drift/mch_1")
        for event in [reminder, changed] {
            #expect(event["event_action"] as? String == "trigger")
            #expect(event["dedup_key"] as? String == transition["dedup_key"] as? String, "another incident: \(event)")
            #expect((event["payload"] as? [String: Any])?["severity"] as? String == "warning")
        }
        func summary(_ event: [String: Any]) -> String { (event["payload"] as? [String: Any])?["summary"] as? String ?? "" }
        #expect(summary(changed) != summary(transition) && summary(changed).contains("+disk_gb") && summary(changed).contains("−cpu"), "\(summary(changed))")
        #expect(summary(reminder).contains("still drifted"), "\(summary(reminder))")
        let unknownReminder = try Self.render(.pagerduty, WebhookPayload.reminderBody(for: F.expired, reminder: 1, eventID: F.reminderID(F.expired, 1)))
        #expect(unknownReminder["dedup_key"] as? String == "akua-driftd/drift/mch_2")
        #expect((unknownReminder["payload"] as? [String: Any])?["severity"] as? String == "error")

        let group = try Self.render(.pagerduty, F.group)
        let groupID = try #require(try F.json(F.group)["data"] as? [String: Any])["event_id"] as? String
        #expect(group["event_action"] as? String == "trigger")
        #expect(group["dedup_key"] as? String == "akua-driftd/group/" + (groupID ?? "?"))
        #expect(summary(group) == "3 machines changed: 2 unknown, 1 in sync")
        let details = try #require((group["payload"] as? [String: Any])?["custom_details"] as? [String: String])
        for machine in ["mch_a", "mch_b", "mch_c"] { #expect(details["machines"]?.contains(machine) == true) }
    }

    @Test("template: the context has the policy fields (kind, is_<kind>, reminder, since, attributes_added, machines)")
    func template() throws {
        let template = try WebhookTemplate(text: """
            {"kind": "{{kind}}", "reminder": "{{#is_reminder}}{{data.reminder}} since {{data.since}} of {{data.transition_event_id}}{{/is_reminder}}",
             "added": [{{#attributes_added}}"{{.}}",{{/attributes_added}}"end"], "removed": [{{#attributes_removed}}"{{.}}",{{/attributes_removed}}"end"],
             "machines": [{{#machines}}"{{machine_id}}={{state}}",{{/machines}}"end"], "count": "{{data.count}}", "headline": "{{headline}}",
             "members": [{{#data.events}}"{{data.event_id}}",{{/data.events}}"end"]}
            """, contentType: "application/json")
        func render(_ body: [UInt8]) throws -> [String: Any] { try F.json(try template.render(body)) }
        let reminder = try render(F.reminder)
        #expect(reminder["kind"] as? String == "reminder")
        #expect(reminder["reminder"] as? String == "2 since 2026-12-01T10:20:30.000Z of \(F.drifted.eventID)")
        let changed = try render(F.changed)
        #expect(changed["added"] as? [String] == ["disk_gb", "end"] && changed["removed"] as? [String] == ["cpu", "end"])
        #expect(changed["reminder"] as? String == "")
        let group = try render(F.group)
        #expect(group["kind"] as? String == "group" && group["count"] as? String == "3")
        #expect(group["machines"] as? [String] == ["mch_a=unknown", "mch_b=unknown", "mch_c=in_sync", "end"])
        #expect(group["headline"] as? String == "3 machines changed: 2 unknown, 1 in sync")
        let members = try #require((try F.json(F.group)["data"] as? [String: Any])?["events"] as? [[String: Any]])
        #expect(group["members"] as? [String] == members.compactMap { ($0["data"] as? [String: Any])?["event_id"] as? String } + ["end"])
    }

    @Test("headlines: a reminder says how long, a change what changed, a group of reminders that they persist; a machine twice in a group is one entry")
    func headlines() throws {
        #expect(try Self.render(.slack, F.reminder)["text"] as? String
            == "web-1 (mch_1) is still drifted (since 2026-12-01T10:20:30.000Z, reminder 2)")
        #expect(try Self.render(.slack, F.changed)["text"] as? String == "web-1 (mch_1): drifted attributes changed (+disk_gb −cpu)")
        let reminders = F.groupOf([F.reminder, WebhookPayload.reminderBody(for: F.expired, reminder: 1, eventID: F.reminderID(F.expired, 1))])
        #expect(try Self.render(.slack, reminders)["text"] as? String == "2 machines still not in sync: 1 drifted, 1 unknown")
        let mixed = F.groupOf([WebhookPayload.body(for: F.transition("mch_a", name: nil, .inSync, .unknown)), F.reminder])
        #expect(try Self.render(.slack, mixed)["text"] as? String == "1 machine changed: 1 unknown; still 1 drifted")
        let flapped = F.groupOf([
            WebhookPayload.body(for: F.transition("mch_f", name: nil, .inSync, .drifted)),
            WebhookPayload.body(for: F.transition("mch_f", name: nil, .drifted, .inSync)),
        ])
        // A group of one event is that event's own message, in every format (PagerDuty can then resolve).
        for format in [WebhookFormat.slack, .teams, .pagerduty] {
            let single = WebhookPayload.body(for: F.transition("mch_s", name: nil, .drifted, .inSync))
            #expect(try format.render(F.groupOf([single]), routingKey: Self.routingKey) == format.render(single, routingKey: Self.routingKey))
        }
        #expect(try Self.render(.pagerduty, F.groupOf([WebhookPayload.body(for: F.transition("mch_s", name: nil, .drifted, .inSync))]))["event_action"] as? String == "resolve")
        let message = try Self.render(.slack, flapped)
        #expect(message["text"] as? String == "1 machine changed: 1 in sync")
        let texts = try #require(message["blocks"] as? [[String: Any]]).compactMap { ($0["text"] as? [String: Any])?["text"] as? String }
        #expect(texts.contains { $0.contains("mch_f: drifted → in_sync (2 changes)") }, "\(texts)")
    }
}
