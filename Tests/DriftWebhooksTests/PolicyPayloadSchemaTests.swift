import DriftCore
import DriftTestSupport
import Foundation
import Testing

@testable import DriftWebhooks

/// Issue 11 §3: every body type validates against deploy/webhook-payload.schema.json (python3-jsonschema,
/// an independent validator), the schema is not vacuous, and every type the code produces is in its oneOf.
@Suite("Policy payloads and the JSON Schema")
struct PolicyPayloadSchemaTests {
    typealias F = PolicyEventFixtures

    /// One body of every type, by the name of the case.
    static var everyBody: [(String, [UInt8])] {
        [
            ("transition", WebhookPayload.body(for: F.drifted)), ("expiry", WebhookPayload.body(for: F.expired)),
            ("notice", F.notice), ("test", F.test), ("reminder", F.reminder),
            ("reminder of unknown", WebhookPayload.reminderBody(for: F.expired, reminder: 1, eventID: F.reminderID(F.expired, 1))),
            ("changed", F.changed), ("group", F.group), ("mixed group", F.mixedGroup), ("group of one", F.groupOf([F.changed])),
            ("big group", F.bigGroup(120)),
        ]
    }

    @Test("every body type validates against the schema (python3-jsonschema)",
          .enabled(if: PythonOracle.available, "needs /usr/bin/python3 with python3-jsonschema (scripts/install-deps.sh)"))
    func everyBodyValidates() throws {
        let cases = Self.everyBody
        let verdicts = try PythonOracle.schemaErrors(cases.map(\.1))
        for ((name, body), errors) in zip(cases, verdicts) {
            #expect(errors.isEmpty, "\(name): \(errors) \(String(decoding: body.prefix(600), as: UTF8.self))")
        }
    }

    @Test("the schema refuses what the daemon never sends (it is not vacuous)",
          .enabled(if: PythonOracle.available, "needs /usr/bin/python3 with python3-jsonschema (scripts/install-deps.sh)"))
    func schemaRefusesWrongBodies() throws {
        func edited(_ body: [UInt8], _ change: (inout [String: Any]) -> Void) throws -> [UInt8] {
            var object = try F.json(body)
            change(&object)
            return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        }
        func editData(_ body: [UInt8], _ change: @escaping (inout [String: Any]) -> Void) throws -> [UInt8] {
            try edited(body) { object in
                var data = object["data"] as? [String: Any] ?? [:]
                change(&data)
                object["data"] = data
            }
        }
        let in_sync = WebhookPayload.body(for: F.transition("mch_z", name: nil, .drifted, .inSync))
        let wrong: [(String, [UInt8])] = [
            ("reminder while in sync", WebhookPayload.reminderBody(for: F.transition("mch_z", name: nil, .drifted, .inSync), reminder: 1, eventID: F.reminderID(F.drifted, 1))),
            ("reminder number 0", try editData(F.reminder) { $0["reminder"] = 0 }),
            ("reminder without since", try editData(F.reminder) { $0["since"] = nil }),
            ("reminder with an unknown field", try editData(F.reminder) { $0["extra"] = 1 }),
            ("transition with a reminder's field", try editData(WebhookPayload.body(for: F.drifted)) { $0["reminder"] = 1 }),
            ("changed in sync", try editData(F.changed) { $0["state"] = "in_sync" }),
            ("changed without previous_attributes", try editData(F.changed) { $0["previous_attributes"] = nil }),
            ("group with a test event", F.groupOf([in_sync, F.test])),
            ("group of nothing", F.groupOf([])),
            ("group without webhook", try editData(F.group) { $0["webhook"] = nil }),
            ("group member not an event", try editData(F.group) { $0["events"] = [["type": "machine.drift.transition"]] }),
            ("unknown type", try edited(F.changed) { $0["type"] = "machine.drift.changes" }),
        ]
        let verdicts = try PythonOracle.schemaErrors(wrong.map(\.1))
        for ((name, _), errors) in zip(wrong, verdicts) {
            #expect(!errors.isEmpty, "the schema accepted: \(name)")
        }
    }

    /// The types named in the schema's top-level oneOf (each `$ref`'s `properties.type` const or enum).
    static func schemaTypes() throws -> Set<String> {
        let data = try Data(contentsOf: URL(fileURLWithPath: IndependentWebhookCheck.schema))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let defs = try #require(schema["$defs"] as? [String: Any])
        var types = Set<String>()
        for entry in try #require(schema["oneOf"] as? [[String: Any]]) {
            let ref = try #require(entry["$ref"] as? String)
            let def = try #require(defs[String(ref.dropFirst("#/$defs/".count))] as? [String: Any], "\(ref)")
            let type = try #require((def["properties"] as? [String: Any])?["type"] as? [String: Any], "\(ref) has no type")
            if let const = type["const"] as? String { types.insert(const) }
            types.formUnion(type["enum"] as? [String] ?? [])
        }
        return types
    }

    @Test("every event type the code can produce is in the schema's oneOf")
    func everyTypeInSchema() throws {
        let schemaTypes = try Self.schemaTypes()
        // The types of bodies built by every producer...
        let produced = Set(try (Self.everyBody.map(\.1) + [WebhookPayload.body(for: CheckNotice(
            kind: .recovered, machineID: "mch_1", machineName: nil, state: .inSync, consecutiveFailures: 3, lastError: nil,
            reportID: nil, at: 0))]).map { try #require(try F.json($0)["type"] as? String) })
        #expect(produced.isSubset(of: schemaTypes), "missing from the schema: \(produced.subtracting(schemaTypes))")
        #expect(Set(WebhookPayload.allEventTypes) == produced, "WebhookPayload.allEventTypes is stale")
        // ...and every "machine.drift.<name>" literal in the sources (a type added without a body here).
        let sources = URL(fileURLWithPath: PackagePaths.root + "/Sources")
        let enumerator = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        let pattern = try Regex(#""machine\.drift\.([a-z_]+)""#)
        var literals = Set<String>()
        for case let url as URL in enumerator where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for match in text.matches(of: pattern) { literals.insert(String(text[match.range]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
        }
        #expect(literals.count >= 7, "the scan found too few literals: \(literals)")
        #expect(literals.isSubset(of: schemaTypes), "types in the sources but not in the schema: \(literals.subtracting(schemaTypes))")
    }

    @Test("policy bodies are deterministic: no local clock, sorted keys, group members verbatim and oldest first")
    func deterministic() throws {
        var later = F.drifted
        later.at += 3_600_000
        #expect(WebhookPayload.reminderBody(for: F.drifted, reminder: 2, eventID: "evt_x", dueAtMs: 5)
            == WebhookPayload.reminderBody(for: later, reminder: 2, eventID: "evt_x", dueAtMs: 5))
        let reminder = try F.json(F.reminder)
        let data = try #require(reminder["data"] as? [String: Any])
        #expect(reminder["timestamp"] as? String == "2026-12-01T18:20:30.000Z", "due = transition + 2 × 4 h")
        #expect(data["since"] as? String == "2026-12-01T10:20:30.000Z")
        #expect(data["transition_event_id"] as? String == F.drifted.eventID)
        #expect(data["event_id"] as? String == F.reminderID(F.drifted, 2) && data["reminder"] as? Int == 2)
        #expect(data["state"] as? String == "drifted" && data["previous_state"] as? String == "in_sync")

        let changed = try #require(try F.json(F.changed)["data"] as? [String: Any])
        #expect(changed["attributes"] as? [String] == ["disk_gb", "memory_mb"])
        #expect(changed["previous_attributes"] as? [String] == ["cpu", "memory_mb"])
        #expect(try F.json(F.changed)["timestamp"] as? String == "2026-12-01T10:20:30.000Z")

        // Keys sorted at every level: re-encoding with sorted keys changes nothing (members included).
        for body in [F.reminder, F.changed, F.mixedGroup] {
            let value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            #expect(Array(try encoder.encode(value)) == body, "\(String(decoding: body, as: UTF8.self))")
        }
        let members = [WebhookPayload.body(for: F.expired), F.notice, F.reminder, F.changed]
        let group = F.groupOf(members)
        let text = String(decoding: group, as: UTF8.self)
        let offsets = try members.map { member in try #require(text.range(of: String(decoding: member, as: UTF8.self)), "a member is not verbatim").lowerBound }
        #expect(offsets == offsets.sorted(), "members reordered")
        let groupData = try #require(try F.json(group)["data"] as? [String: Any])
        #expect(groupData["count"] as? Int == 4 && groupData["webhook"] as? String == "chat")
        #expect(try F.json(group)["timestamp"] as? String == "2026-12-01T10:21:00.000Z", "the window's end")
        #expect(F.groupOf(members) == group)
    }
}
