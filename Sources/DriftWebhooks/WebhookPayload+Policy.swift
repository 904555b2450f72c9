import DriftCore
import Foundation

/// The bodies of the notification policy's events (issue 11 §2): reminders, drift changes and groups.
/// Like the transition body, each is a function of recorded data and its arguments (sorted keys, no
/// local clock), so two replicas send byte-identical bodies under the same event id.
extension WebhookPayload {
    public static let reminderType = "machine.drift.reminder"
    public static let changedType = "machine.drift.changed"
    public static let groupType = "machine.drift.group"

    /// Every event type a body built here or in WebhookPayload.swift can carry (the schema's oneOf covers each).
    public static let allEventTypes = [
        eventType, "machine.drift.check_failing", "machine.drift.check_recovered", testEventType,
        reminderType, changedType, groupType,
    ]

    struct ReminderData: Encodable {
        var transition: DataPart
        var reminder: Int
        var transition_event_id: String
        var since: String

        func encode(to encoder: any Encoder) throws {
            try transition.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(reminder, forKey: .reminder)
            try c.encode(transition_event_id, forKey: .transition_event_id)
            try c.encode(since, forKey: .since)
        }
        enum CodingKeys: String, CodingKey { case reminder, transition_event_id, since }
    }

    struct ChangedData: Encodable {
        var event_id: String
        var machine_id: String
        var machine_name: String?
        var state: String
        var previous_attributes: [String]
        var attributes: [String]
        var report: DriftReport

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(event_id, forKey: .event_id)
            try c.encode(machine_id, forKey: .machine_id)
            try c.encode(machine_name, forKey: .machine_name)  // explicit null when absent
            try c.encode(state, forKey: .state)
            try c.encode(previous_attributes, forKey: .previous_attributes)
            try c.encode(attributes, forKey: .attributes)
            try c.encode(report, forKey: .report)
        }
        enum CodingKeys: String, CodingKey { case event_id, machine_id, machine_name, state, previous_attributes, attributes, report }
    }

    struct PolicyBody<Payload: Encodable>: Encodable {
        var type: String
        var timestamp: String
        var data: Payload
    }

    static func encodeSorted(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, numbers and JSONValue cannot fail.
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    /// `machine.drift.reminder`: the announced transition's fields with `event_id` = the reminder's id, plus
    /// `reminder` (n = 1, 2, ...), `transition_event_id` and `since` (ISO-8601 of the transition). The
    /// timestamp is `dueAtMs` (announcedAt + n × repeat_interval); without it, the transition's instant.
    public static func reminderBody(for transition: Transition, reminder: Int, eventID: String, dueAtMs: Int64? = nil) -> [UInt8] {
        let since = timestampMs(of: transition)
        let data = ReminderData(
            transition: DataPart(
                event_id: eventID, machine_id: transition.machineID, machine_name: transition.machineName,
                previous_state: transition.previous.rawValue, state: transition.state.rawValue,
                cause: transition.cause.rawValue, first_observation: transition.firstObservation, report: transition.report),
            reminder: reminder, transition_event_id: transition.eventID, since: iso8601(milliseconds: since))
        return encodeSorted(PolicyBody(type: reminderType, timestamp: iso8601(milliseconds: dueAtMs ?? since), data: data))
    }

    /// `machine.drift.changed`: a drifted machine's set of differing attributes changed (`drifted → drifted`).
    /// `attributes` are the report's differing attribute names, sorted; the timestamp is the report's `created_at`.
    public static func changedBody(
        machineID: String, machineName: String?, report: DriftReport, previousAttributes: [String], eventID: String
    ) -> [UInt8] {
        let data = ChangedData(
            event_id: eventID, machine_id: machineID, machine_name: machineName, state: DriftState.drifted.rawValue,
            previous_attributes: Array(Set(previousAttributes)).sorted(), attributes: (report.delta ?? [:]).keys.sorted(),
            report: report)
        let (ms, overflow) = report.createdAt.multipliedReportingOverflow(by: 1000)
        let at = overflow ? (report.createdAt > 0 ? Int64.max : Int64.min) : ms
        return encodeSorted(PolicyBody(type: changedType, timestamp: iso8601(milliseconds: at), data: data))
    }

    /// `machine.drift.group`: one webhook's events of one group window, `{"type", "timestamp" (the window's
    /// end, `atMs`), "data": {count, event_id, events: [member bodies verbatim, oldest first], webhook}}`.
    /// A member that is not a JSON object (never written by the daemon) is left out.
    public static func groupBody(eventID: String, webhook: String, atMs: Int64, members: [[UInt8]]) -> [UInt8] {
        let events = members.filter { member in
            (try? JSONSerialization.jsonObject(with: Data(member))) is [String: Any]
        }
        func string(_ text: String) -> [UInt8] { Array(encodeSorted([text]).dropFirst().dropLast()) }
        // Written by hand so the members stay byte for byte as stored; keys in sorted order.
        var body = Array(#"{"data":{"count":"#.utf8) + Array(String(events.count).utf8)
        body += Array(#","event_id":"#.utf8) + string(eventID)
        body += Array(#","events":["#.utf8)
        for (index, member) in events.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += member
        }
        body += Array(#"],"webhook":"#.utf8) + string(webhook)
        body += Array(#"},"timestamp":"#.utf8) + string(iso8601(milliseconds: atMs))
        body += Array(#","type":"#.utf8) + string(groupType) + [UInt8(ascii: "}")]
        return body
    }
}
