import DriftCore
import Foundation

/// The JSON body of a transition event:
/// `{"type": "machine.drift.transition", "timestamp": ISO-8601, "data": {event_id, machine_id, machine_name,
/// previous_state, state, cause, first_observation, report}}`. Built once, stored in the outbox, sent as is.
public enum WebhookPayload {
    public static let eventType = "machine.drift.transition"

    struct Body: Encodable {
        var type: String
        var timestamp: String
        var data: DataPart
    }

    struct DataPart: Encodable {
        var event_id: String
        var machine_id: String
        var machine_name: String?
        var previous_state: String
        var state: String
        var cause: String
        var first_observation: Bool
        var report: DriftReport?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(event_id, forKey: .event_id)
            try c.encode(machine_id, forKey: .machine_id)
            try c.encode(machine_name, forKey: .machine_name)  // explicit null when absent
            try c.encode(previous_state, forKey: .previous_state)
            try c.encode(state, forKey: .state)
            try c.encode(cause, forKey: .cause)
            try c.encode(first_observation, forKey: .first_observation)
            try c.encode(report, forKey: .report)
        }

        enum CodingKeys: String, CodingKey {
            case event_id, machine_id, machine_name, previous_state, state, cause, first_observation, report
        }
    }

    public static func body(for transition: Transition) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Body(
            type: eventType,
            timestamp: iso8601(milliseconds: transition.at),
            data: DataPart(
                event_id: transition.eventID, machine_id: transition.machineID, machine_name: transition.machineName,
                previous_state: transition.previous.rawValue, state: transition.state.rawValue,
                cause: transition.cause.rawValue, first_observation: transition.firstObservation,
                report: transition.report))
        // Encoding plain strings, numbers and JSONValue cannot fail.
        return Array((try? encoder.encode(body)) ?? Data("{}".utf8))
    }

    /// "2026-11-29T11:30:00.250Z".
    public static func iso8601(milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
