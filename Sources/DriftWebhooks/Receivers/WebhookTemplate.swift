import DriftCore
import Foundation
import Mustache

/// A `format = "template"` receiver's Mustache template (hummingbird-project/swift-mustache), rendered
/// with the stored event: its fields as sent (`type`, `timestamp`, `data.machine_id`, ...) plus
/// `headline`, `machine_label`, `differences` (a list of `name`/`value`), `kind` and `is_<kind>` (true),
/// `attributes_added`/`attributes_removed` (changed) and `machines` (group; see README). With a JSON content type,
/// `{{…}}` escapes for a JSON string and the result must be valid JSON; otherwise nothing is escaped.
public struct WebhookTemplate: Sendable {
    public let contentType: String
    private let template: MustacheTemplate

    /// A template problem: the template's line (1-based; 0 when it is about the rendered result).
    public struct Problem: Error, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { message }
    }

    /// Parses `text` and renders it once against a sample event, so that `check-config`, `run` and a
    /// reload reject a template that cannot produce a valid body.
    public init(text: String, contentType: String) throws(Problem) {
        Self.registerJSON
        self.contentType = contentType
        // The pragma goes on the template's first line, so parser line numbers stay the template's own.
        let pragma = Self.isJSON(contentType) ? "{{% CONTENT_TYPE: JSON}}" : "{{% CONTENT_TYPE: TEXT}}"
        do {
            template = try MustacheTemplate(string: pragma + text)
        } catch let error as MustacheTemplate.ParserError {
            throw Problem(line: error.context.lineNumber, message: "template syntax: \(Self.explain(error.error)) (column \(error.context.columnNumber))")
        } catch {
            throw Problem(line: 0, message: "template syntax: \(error)")
        }
        do {
            _ = try render(Array(Self.sampleEvent.utf8))
        } catch {
            throw Problem(line: 0, message: "rendering a sample event: \(error)")
        }
    }

    /// The body for one stored Standard Webhooks event.
    public func render(_ body: [UInt8]) throws(WebhookFormat.RenderError) -> [UInt8] {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw WebhookFormat.RenderError(description: "the stored event is not JSON: \(error)")
        }
        guard case .object(var fields) = value else { throw WebhookFormat.RenderError(description: "the stored event is not a JSON object") }
        if let event = try? JSONDecoder().decode(StoredEvent.self, from: Data(body)) {
            fields["headline"] = .string(event.headline)
            fields["machine_label"] = .string(event.machineLabel)
            fields["differences"] = .array(event.differences.map { .object(["name": .string($0.name), "value": .string($0.value)]) })
            fields.merge(Self.policyFields(event)) { _, new in new }
        }
        let output = Array(template.render(Self.native(.object(fields)) ?? [:]).utf8)
        if Self.isJSON(contentType) {
            do {
                _ = try JSONSerialization.jsonObject(with: Data(output), options: [.fragmentsAllowed])
            } catch {
                throw WebhookFormat.RenderError(description: "the template did not render valid JSON (\(error.localizedDescription)): \(String(decoding: output.prefix(200), as: UTF8.self))")
            }
        }
        return output
    }

    /// The context's helpers for telling event types apart and for the policy's events: `kind`
    /// ("transition", "reminder", ...) and `is_<kind>`; for `changed` the attribute names added and removed;
    /// for `group` one entry per machine (`machine_id`, `machine_label`, `state`, `line`, `events`).
    static func policyFields(_ event: StoredEvent) -> [String: JSONValue] {
        var fields: [String: JSONValue] = ["kind": .string(event.kind), "is_" + event.kind: .bool(true)]
        if event.kind == "changed" {
            let change = event.attributeChange
            fields["attributes_added"] = .array(change.added.map(JSONValue.string))
            fields["attributes_removed"] = .array(change.removed.map(JSONValue.string))
        }
        if event.kind == "group" {
            fields["machines"] = .array(event.groupMachines.map { machine in
                .object([
                    "machine_id": .string(machine.machineID), "machine_label": .string(machine.label), "state": .string(machine.state),
                    "line": .string(machine.line), "events": .integer(Int64(machine.events)),
                ])
            })
        }
        return fields
    }

    /// swift-mustache's parser errors in words.
    private static func explain(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "\(error)" }
        switch error {
        case .sectionCloseNameIncorrect: return "{{/name}} closes a different section than the one open"
        case .unfinishedName: return "a tag is not closed with }}"
        case .expectedSectionEnd: return "a section is still open at the end of the template ({{/name}} missing)"
        case .invalidSetDelimiter: return "malformed set-delimiter tag"
        case .unrecognisedConfigVariable, .invalidConfigVariableSyntax: return "malformed or unknown pragma {{% … }}"
        default: return "\(error)"
        }
    }

    /// Whether `contentType` is JSON (`application/json` or `…+json`, parameters ignored).
    public static func isJSON(_ contentType: String) -> Bool {
        let essence = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return essence == "application/json" || essence.hasSuffix("+json")
    }

    /// JSON values as the plain Swift values Mustache renders (null becomes absent: a false section).
    private static func native(_ value: JSONValue) -> Any? {
        switch value {
        case .null: nil
        case .bool(let bool): bool
        case .integer(let int): int
        case .unsignedInteger(let int): int
        case .number(let double): double
        case .string(let string): string
        case .array(let array): array.compactMap(native)
        case .object(let object): object.compactMapValues(native)
        }
    }

    /// `{{…}}` in a JSON template escapes for the inside of a JSON string.
    private struct JSONEscaping: MustacheContentType {
        func escapeText(_ text: String) -> String {
            var out = ""
            out.reserveCapacity(text.utf8.count)
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case let c where c.value < 0x20:
                    let hex = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out
        }
    }

    private static let registerJSON: Void = MustacheContentTypes.register(JSONEscaping(), named: "JSON")

    /// A drifted transition with a report and two differing attributes: what `check-config` renders.
    static let sampleEvent = #"""
        {"data":{"cause":"report","event_id":"evt_0123456789abcdef0123456789abcdef","first_observation":false,"machine_id":"mch_sample","machine_name":"web-1","previous_state":"in_sync","report":{"created_at":1767225600,"delta":{"memory_mb":{"actual":4096,"desired":8192},"labels":{"actual":{"env":"dev"},"desired":{"env":"prod"}}},"etag":"e1","expires_at":1767229200,"id":"drf_sample","machine_id":"mch_sample","started_at":1767225600,"state":"drifted"},"state":"drifted"},"timestamp":"2026-01-01T00:00:00.000Z","type":"machine.drift.transition"}
        """#
}
