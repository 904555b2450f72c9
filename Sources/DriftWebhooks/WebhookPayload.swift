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

    /// The body of `transition`'s event: a function of the transition alone (never of the local clock),
    /// so two replicas announcing the same change send byte-identical bodies under the same event id.
    public static func body(for transition: Transition) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = Body(
            type: eventType,
            timestamp: iso8601(milliseconds: timestampMs(of: transition)),
            data: DataPart(
                event_id: transition.eventID, machine_id: transition.machineID, machine_name: transition.machineName,
                previous_state: transition.previous.rawValue, state: transition.state.rawValue,
                cause: transition.cause.rawValue, first_observation: transition.firstObservation,
                report: transition.report))
        // Encoding plain strings, numbers and JSONValue cannot fail.
        return Array((try? encoder.encode(body)) ?? Data("{}".utf8))
    }

    /// The body of a "checks failing" or "checks recovered" notice:
    /// `{"type": "machine.drift.check_failing" | "machine.drift.check_recovered", "timestamp", "data":
    /// {event_id, machine_id, machine_name, state, consecutive_failures, last_error}}`.
    public static func body(for notice: CheckNotice) -> [UInt8] {
        struct NoticeData: Encodable {
            var event_id: String
            var machine_id: String
            var machine_name: String?
            var state: String
            var consecutive_failures: Int
            var last_error: String?
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(event_id, forKey: .event_id)
                try c.encode(machine_id, forKey: .machine_id)
                try c.encode(machine_name, forKey: .machine_name)
                try c.encode(state, forKey: .state)
                try c.encode(consecutive_failures, forKey: .consecutive_failures)
                try c.encode(last_error, forKey: .last_error)
            }
            enum CodingKeys: String, CodingKey { case event_id, machine_id, machine_name, state, consecutive_failures, last_error }
        }
        struct NoticeBody: Encodable {
            var type: String
            var timestamp: String
            var data: NoticeData
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = NoticeBody(
            type: "machine.drift." + notice.kind.rawValue, timestamp: iso8601(milliseconds: notice.at),
            data: NoticeData(
                event_id: notice.eventID, machine_id: notice.machineID, machine_name: notice.machineName,
                state: notice.state.rawValue, consecutive_failures: notice.consecutiveFailures, last_error: notice.lastError))
        return Array((try? encoder.encode(body)) ?? Data("{}".utf8))
    }

    /// The type of `webhook test`'s event.
    public static let testEventType = "machine.drift.test"

    /// The body of `akua-driftd webhook test`'s event: `{"type": "machine.drift.test", "timestamp",
    /// "data": {event_id, webhook, message}}`; it names no machine and is never stored.
    public static func testBody(webhook: String, eventID: String, atMs: Int64) -> [UInt8] {
        struct TestData: Encodable {
            var event_id: String
            var webhook: String
            var message: String
        }
        struct TestBody: Encodable {
            var type: String
            var timestamp: String
            var data: TestData
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = TestBody(
            type: testEventType, timestamp: iso8601(milliseconds: atMs),
            data: TestData(event_id: eventID, webhook: webhook, message: "akua-driftd test event: webhook \(webhook) reaches this receiver"))
        return Array((try? encoder.encode(body)) ?? Data("{}".utf8))
    }

    /// The body's `timestamp` (unix ms): when the change happened according to recorded data. The
    /// transition's `occurredAtMs` if set; else the report's `created_at` for a new report, its
    /// `expires_at` for an expiry; the local `at` only when there is no report at all.
    public static func timestampMs(of transition: Transition) -> Int64 {
        if let occurred = transition.occurredAtMs { return occurred }
        guard let report = transition.report else { return transition.at }
        let seconds = transition.cause == .expired ? report.expiresAt : report.createdAt
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? (seconds > 0 ? Int64.max : Int64.min) : ms
    }

    /// "2026-11-29T11:30:00.250Z"; clamped to 0000-01-01T00:00:00.000Z ... 9999-12-31T23:59:59.999Z.
    public static func iso8601(milliseconds: Int64) -> String {
        let lowest: Int64 = -62_167_219_200_000  // 0000-01-01T00:00:00Z
        let highest: Int64 = 253_402_300_799_999  // 9999-12-31T23:59:59.999Z
        let clamped = min(max(milliseconds, lowest), highest)
        let (seconds, millis) = floorDivide(clamped, 1000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
