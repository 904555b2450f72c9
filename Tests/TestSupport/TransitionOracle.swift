import DriftCore
import Foundation

/// What the README promises about one transition, field by field, in the journal and in the webhook body.
/// The expected values come from the transition log (the state file) and the README's own constants
/// (MESSAGE_IDs, priorities, the payload's field names), never from the code that writes them.
public enum TransitionOracle {
    /// README, "Query the journal": the catalogued MESSAGE_ID of each new state.
    public static let messageIDs: [DriftState: String] = [
        .drifted: "dc7614e992424aadb1f508c0d9b24d0e",
        .inSync: "f2820db539934d1892130bf0c79eee4b",
        .unknown: "1377544151bc43caa53d7384358c33ad",
    ]

    /// Every way the journal entry `entry` (one `journalctl -o json` object) differs from what the README
    /// promises for `transition`: the fields `DRIFT_MACHINE_ID`, `DRIFT_MACHINE_NAME`, `DRIFT_STATE`,
    /// `DRIFT_PREVIOUS_STATE`, `DRIFT_REPORT_ID`, `DRIFT_EVENT_ID`, `DRIFT_EXPIRES_AT` (unix seconds),
    /// `DRIFT_ATTRIBUTES` (of a drift), `DRIFT_CAUSE`, the state's `MESSAGE_ID`, `PRIORITY` (warning for
    /// drifted and unknown, notice for in_sync), `SYSLOG_IDENTIFIER=akua-driftd` and `CODE_FILE/LINE/FUNC`.
    public static func journalProblems(_ entry: [String: String], _ transition: Transition) -> [String] {
        var expected: [String: String] = [
            "SYSLOG_IDENTIFIER": "akua-driftd",
            "DRIFT_MACHINE_ID": transition.machineID,
            "DRIFT_MACHINE_NAME": transition.machineName ?? transition.machineID,
            "DRIFT_STATE": transition.state.rawValue,
            "DRIFT_PREVIOUS_STATE": transition.previous.rawValue,
            "DRIFT_REPORT_ID": transition.report?.id ?? "",
            "DRIFT_EVENT_ID": transition.eventID,
            "DRIFT_CAUSE": transition.cause.rawValue,
            "MESSAGE_ID": messageIDs[transition.state]!,
            "PRIORITY": transition.state == .inSync ? "5" : "4",
        ]
        if let report = transition.report {
            expected["DRIFT_EXPIRES_AT"] = String(report.expiresAt)
            if transition.state == .drifted {
                expected["DRIFT_ATTRIBUTES"] = (report.delta ?? [:]).keys.sorted().joined(separator: ",")
            }
        }
        var problems: [String] = []
        for (field, value) in expected.sorted(by: { $0.key < $1.key }) where entry[field] != value {
            problems.append("\(field) is \(entry[field].map { "\"\($0)\"" } ?? "missing"), expected \"\(value)\"")
        }
        for field in ["CODE_FILE", "CODE_LINE", "CODE_FUNC", "MESSAGE"] where (entry[field] ?? "").isEmpty {
            problems.append("\(field) is missing")
        }
        if entry["MESSAGE"]?.contains(transition.machineID) != true && entry["MESSAGE"]?.contains(transition.machineName ?? "\u{0}") != true {
            problems.append("MESSAGE does not name the machine: \(entry["MESSAGE"] ?? "")")
        }
        return problems.map { "\(transition.eventID) (\(transition.machineID) \(transition.previous.rawValue)>\(transition.state.rawValue)): \($0)" }
    }

    /// When the change happened according to recorded data (so replicas send identical bodies): the
    /// transition's `occurredAtMs` if recorded; else its report's `created_at` (a new report) or `expires_at`
    /// (an expiry), in ms; the local instant only when there is no report.
    public static func occurredAtMs(_ transition: Transition) -> Int64 {
        if let occurred = transition.occurredAtMs { return occurred }
        guard let report = transition.report else { return transition.at }
        return (transition.cause == .expired ? report.expiresAt : report.createdAt) * 1000
    }

    /// Every way the webhook body differs from what the README promises for `transition`: `type`,
    /// `timestamp` (when the change happened, `occurredAtMs`), and every `data` field (`event_id`, `machine_id`,
    /// `machine_name`, `previous_state`, `state`, `cause`, `first_observation`, `report` with its id, state,
    /// timestamps and `delta`). The body's shape is validated separately against the JSON Schema.
    public static func payloadProblems(_ body: [UInt8], _ transition: Transition) -> [String] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return ["\(transition.eventID): the body is not a JSON object"]
        }
        var problems: [String] = []
        func check(_ name: String, _ actual: Any?, _ expected: Any?) {
            let same: Bool
            switch (actual, expected) {
            case (nil, nil), (is NSNull, nil): same = true
            case (let a as String, let e as String): same = a == e
            // JSON types (boolean vs integer) are the schema's job (IndependentWebhookCheck); values are checked here.
            case (let a as NSNumber, let e as Bool): same = a.boolValue == e
            case (let a as Bool, let e as Bool): same = a == e
            case (let a as NSNumber, let e as Int64): same = a.int64Value == e
            case (let a as Int, let e as Int64): same = Int64(a) == e
            default: same = false
            }
            if !same { problems.append("\(name) is \(actual.map { "\($0)" } ?? "missing"), expected \(expected.map { "\($0)" } ?? "null")") }
        }
        check("type", object["type"], "machine.drift.transition")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let text = object["timestamp"] as? String, let date = formatter.date(from: text) {
            let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
            let expected = occurredAtMs(transition)
            if ms != expected { problems.append("timestamp \(text) is \(ms) ms, the change happened at \(expected) ms") }
            if !text.hasSuffix("Z") { problems.append("timestamp \(text) is not UTC") }
        } else {
            problems.append("timestamp is missing or not ISO 8601 with milliseconds: \(object["timestamp"] ?? "nil")")
        }
        let data = object["data"] as? [String: Any] ?? [:]
        check("data.event_id", data["event_id"], transition.eventID)
        check("data.machine_id", data["machine_id"], transition.machineID)
        check("data.machine_name", data["machine_name"], transition.machineName)
        check("data.previous_state", data["previous_state"], transition.previous.rawValue)
        check("data.state", data["state"], transition.state.rawValue)
        check("data.cause", data["cause"], transition.cause.rawValue)
        check("data.first_observation", data["first_observation"], transition.firstObservation)
        if let report = transition.report {
            let sent = data["report"] as? [String: Any] ?? [:]
            check("data.report.id", sent["id"], report.id)
            check("data.report.machine_id", sent["machine_id"], report.machineID)
            check("data.report.state", sent["state"], report.state.rawValue)
            check("data.report.etag", sent["etag"], report.etag)
            check("data.report.created_at", sent["created_at"], report.createdAt)
            check("data.report.started_at", sent["started_at"], report.startedAt)
            check("data.report.expires_at", sent["expires_at"], report.expiresAt)
            let attributes = ((sent["delta"] as? [String: Any]) ?? [:]).keys.sorted()
            if attributes != (report.delta ?? [:]).keys.sorted() {
                problems.append("data.report.delta names \(attributes), the report \((report.delta ?? [:]).keys.sorted())")
            }
        } else if !(data["report"] is NSNull) {
            problems.append("data.report is \(data["report"] ?? "missing"), expected null")
        }
        return problems.map { "\(transition.eventID) (\(transition.machineID) \(transition.previous.rawValue)>\(transition.state.rawValue)) body: \($0)" }
    }

}
