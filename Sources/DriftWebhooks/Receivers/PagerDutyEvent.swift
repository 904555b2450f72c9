import DriftCore
import Foundation

/// A PagerDuty Events API v2 event: `trigger` when a machine turns `drifted` or `unknown` (or its checks
/// start failing), `resolve` when it is `in_sync` again (or checks recover). The `dedup_key` is derived
/// from the machine id, so every alert about one machine is one PagerDuty incident. A reminder or a drift
/// change triggers that same incident again (PagerDuty dedups it: a refreshed summary, no new page); a
/// group (refused in the config for PagerDuty) is rendered defensively as one trigger keyed by its id.
struct PagerDutyEvent: Encodable {
    struct Payload: Encodable {
        var summary: String
        var source: String
        var severity: String
        var timestamp: String
        var component: String
        var group: String
        var custom_details: [String: String]
    }
    var routing_key: String
    var event_action: String
    var dedup_key: String
    var payload: Payload?

    init(_ event: StoredEvent, routingKey: String, action: WebhookFormat.Action? = nil) {
        routing_key = routingKey
        let resolves = event.kind == "check_recovered" || (["transition", "reminder"].contains(event.kind) && event.state == "in_sync")
        event_action = action?.rawValue ?? (resolves ? "resolve" : "trigger")
        // ≤ 255 characters, as PagerDuty requires; machine ids are at most 54, event ids 36.
        switch event.kind {
        case "test": dedup_key = "akua-driftd/test/" + event.data.event_id
        case "group": dedup_key = "akua-driftd/group/" + event.data.event_id
        case let kind where kind.hasPrefix("check_"): dedup_key = "akua-driftd/checks/" + event.machineID
        default: dedup_key = "akua-driftd/drift/" + event.machineID
        }
        var details = ["event_id": event.data.event_id, "type": event.type]
        if event.kind != "test" && event.kind != "group" { details["machine_id"] = event.machineID }
        if let name = event.data.machine_name { details["machine_name"] = name }
        if let previous = event.data.previous_state { details["previous_state"] = previous }
        if let state = event.data.state { details["state"] = state }
        if let cause = event.data.cause { details["cause"] = cause }
        if let error = event.data.last_error { details["last_error"] = StoredEvent.clip(error, 1_000) }
        let differences = event.differences
        if !differences.isEmpty {
            details["differing_attributes"] = StoredEvent.clip(differences.map(\.name).joined(separator: ", "), 2_000)
        }
        if let reminder = event.data.reminder { details["reminder"] = String(reminder) }
        if let since = event.data.since { details["since"] = since }
        if let transition = event.data.transition_event_id { details["transition_event_id"] = transition }
        if event.kind == "changed" {
            let change = event.attributeChange
            details["attributes_added"] = StoredEvent.clip(change.added.joined(separator: ", "), 2_000)
            details["attributes_removed"] = StoredEvent.clip(change.removed.joined(separator: ", "), 2_000)
        }
        var severity = event.kind == "test" ? "info" : event.state == "drifted" ? "warning" : "error"
        var source = event.kind == "test" ? "akua-driftd" : event.machineID
        if event.kind == "group" {
            let machines = event.groupMachines
            let (lines, more) = event.groupLines(count: 50, characters: 8_000)
            details["machines"] = (lines + (more > 0 ? [StoredEvent.more(more)] : [])).joined(separator: "\n")
            details["count"] = String(event.data.count ?? event.members.count)
            severity = machines.contains { $0.state == "unknown" } ? "error" : machines.contains { $0.state == "drifted" } ? "warning" : "info"
            source = "akua-driftd"
        }
        payload = Payload(
            summary: StoredEvent.clip(event.headline, 1_024), source: source, severity: severity, timestamp: event.timestamp,
            component: source, group: "akua-driftd", custom_details: details)
    }
}
