import DriftCore
import DriftTestSupport
import Foundation
import Testing

@testable import DriftWebhooks

/// `format = "template"`: the event's fields and helpers reach the template, JSON templates escape for
/// JSON strings (checked by Foundation's JSON parser, not by our escaper), and problems carry the
/// template's line.
@Suite("Webhook templates (swift-mustache)")
struct WebhookTemplateTests {
    /// A transition of a machine whose name holds every character JSON must escape.
    static let event = #"""
        {"data":{"cause":"report","event_id":"evt_00000000000000000000000000000001","first_observation":false,"machine_id":"mch_t","machine_name":"we\"b\\1\n\u0001","previous_state":"in_sync","report":{"created_at":1,"delta":{"cpu":{"actual":2,"desired":4},"memory_mb":8},"etag":"e","expires_at":2,"id":"drf_1","machine_id":"mch_t","started_at":1,"state":"drifted"},"state":"drifted"},"timestamp":"2026-01-01T00:00:00.000Z","type":"machine.drift.transition"}
        """#

    @Test("a JSON template renders valid JSON whose strings are the event's own, helpers included")
    func jsonTemplate() throws {
        let template = try WebhookTemplate(text: """
            {"content": "{{headline}}", "name": "{{data.machine_name}}", "state": "{{data.state}}",
             "attributes": [{{#differences}}"{{name}}={{value}}",{{/differences}}"end"]}
            """, contentType: "application/json")
        let output = try template.render(Array(Self.event.utf8))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output)) as? [String: Any])
        #expect(object["name"] as? String == "we\"b\\1\n\u{1}")
        #expect(object["state"] as? String == "drifted")
        #expect((object["content"] as? String)?.contains("in_sync → drifted") == true, "\(object)")
        #expect(object["attributes"] as? [String] == [#"cpu={"actual":2,"desired":4}"#, "memory_mb=8", "end"])
    }

    @Test("a text template is sent as written (no escaping)")
    func textTemplate() throws {
        let template = try WebhookTemplate(text: "{{data.machine_id}} <{{data.state}}> & {{data.machine_name}}", contentType: "text/plain; charset=utf-8")
        #expect(String(decoding: try template.render(Array(Self.event.utf8)), as: UTF8.self) == "mch_t <drifted> & we\"b\\1\n\u{1}")
    }

    @Test("a syntax error names the template's own line; a body that is not JSON is refused before any send")
    func problems() {
        #expect(throws: WebhookTemplate.Problem.self) { try WebhookTemplate(text: "{\n\"a\": \"{{#data}}\"\n}", contentType: "application/json") }
        do {
            _ = try WebhookTemplate(text: "{\n\"a\": \"{{#data}}\",\n\"b\": 1\n}", contentType: "application/json")
            Issue.record("an unclosed section parsed")
        } catch {
            #expect(error.line >= 2, "line \(error.line): \(error.message)")
        }
        do {
            _ = try WebhookTemplate(text: #"{"machine": {{data.machine_id}}}"#, contentType: "application/json")
            Issue.record("a template rendering invalid JSON was accepted")
        } catch {
            #expect(error.line == 0 && error.message.contains("sample event"), "\(error.message)")
        }
    }
}
