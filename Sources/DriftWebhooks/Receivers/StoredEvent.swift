import DriftCore
import Foundation

/// The fields of a stored event that the service formats show (transition, check notice, test, and the
/// policy's reminder, changed and group events; a group's members are stored events themselves).
struct StoredEvent: Decodable {
    struct Report: Decodable {
        var id: String?
        var delta: [String: JSONValue]?
    }
    struct Payload: Decodable {
        var event_id: String
        var machine_id: String?
        var machine_name: String?
        var previous_state: String?
        var state: String?
        var message: String?
        var webhook: String?
        var cause: String?
        var first_observation: Bool?
        var report: Report?
        var consecutive_failures: Int?
        var last_error: String?
        var reminder: Int?
        var transition_event_id: String?
        var since: String?
        var previous_attributes: [String]?
        var attributes: [String]?
        var count: Int?
        var events: [StoredEvent]?
    }
    var type: String
    var timestamp: String
    var data: Payload

    /// `transition`, `check_failing`, `check_recovered`, ...: the type without its `machine.drift.` prefix.
    var kind: String { type.hasPrefix("machine.drift.") ? String(type.dropFirst("machine.drift.".count)) : type }
    /// The machine id ("" for a test event, which names none).
    var machineID: String { data.machine_id ?? "" }
    /// The machine's new state ("" for a test event).
    var state: String { data.state ?? "" }
    /// The machine as people name it: `name (id)`, or the id.
    var machineLabel: String { data.machine_name.map { "\($0) (\(machineID))" } ?? machineID }
    /// The differing attributes, sorted, each as `name: value` with the value in compact JSON.
    var differences: [(name: String, value: String)] {
        (data.report?.delta ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, Self.compact($0.value)) }
    }

    /// The label with the name cut to 40 characters, so the id always shows (a group's lists).
    var shortLabel: String { data.machine_name.map { "\(Self.clip($0, 40)) (\(machineID))" } ?? machineID }

    /// One line of text for people: what happened to which machine.
    var headline: String { headline(label: machineLabel) }

    /// The headline naming the machine as `machineLabel`.
    func headline(label machineLabel: String) -> String {
        switch kind {
        case "transition":
            let from = data.previous_state ?? "unknown"
            if data.first_observation == true { return "\(machineLabel) is \(state) (first observation)" }
            return "\(machineLabel): \(from) → \(state)"
        case "check_failing":
            return "\(machineLabel): checks failing (\(data.consecutive_failures ?? 0) in a row)"
        case "check_recovered":
            return "\(machineLabel): checks recovered"
        case "test":
            return data.message ?? "akua-driftd test event"
        case "reminder":
            return "\(machineLabel) is still \(state) (since \(data.since ?? "?"), reminder \(data.reminder ?? 0))"
        case "changed":
            let change = attributeChange
            let parts = change.added.map { "+\($0)" } + change.removed.map { "−\($0)" }
            return "\(machineLabel): drifted attributes changed (\(parts.isEmpty ? "same names" : parts.joined(separator: " ")))"
        case "group":
            return groupHeadline
        default:
            return "\(machineLabel): \(kind)"
        }
    }

    static func compact(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) } ?? "?"
    }

    /// `text` cut to at most `limit` characters, marked with an ellipsis when cut.
    static func clip(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
