import DriftWebhooks
import Foundation
import WebhookReceiver

/// The demo's local webhook receivers: one verifies each Standard Webhooks signature and prints the
/// event; one stands in for a Slack incoming webhook and prints the message's text and blocks.
enum DemoReceiver {
    static func start(signer: WebhookSigner, print emit: @escaping @Sendable (String) -> Void) async throws -> LoopbackWebhookServer {
        try await LoopbackWebhookServer.start(path: "/hooks/akua-drift") { request in
            let id = request.webhookID
            guard signer.verify(id: id, timestamp: request.webhookTimestamp, body: request.body, header: request.webhookSignature) else {
                emit("webhook  ✗ rejected \(id): bad signature")
                return .init(status: 401)
            }
            emit("webhook  ✓ \(summary(of: request.body, id: id))")
            return .init(status: 204)
        }
    }

    /// A stand-in Slack incoming webhook (`format = "slack"`): prints `text` and one line per block.
    static func startSlack(print emit: @escaping @Sendable (String) -> Void) async throws -> LoopbackWebhookServer {
        try await LoopbackWebhookServer.start(path: "/services/T0DEMO/B0DEMO/slack") { request in
            emit(slackSummary(of: request.body))
            return .init(status: 200)
        }
    }

    /// "verified evt_… web-2 (mch_demo_web2): in_sync → drifted [cpu, image]"; reminders, drift changes
    /// and groups in words of their own.
    static func summary(of body: [UInt8], id: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let data = object["data"] as? [String: Any] else { return "verified \(id) (unreadable body)" }
        let machine = data["machine_id"] as? String ?? "?"
        let name = data["machine_name"] as? String ?? machine
        let previous = data["previous_state"] as? String ?? "?"
        let state = data["state"] as? String ?? "?"
        switch object["type"] as? String {
        case WebhookPayload.reminderType:
            return "verified \(id)  reminder \(data["reminder"] as? Int ?? 0): \(name) (\(machine)) still \(state) since \(data["since"] as? String ?? "?")"
        case WebhookPayload.changedType:
            let attributes = (data["attributes"] as? [String] ?? []).joined(separator: ", ")
            return "verified \(id)  \(name) (\(machine)): drifted attributes changed, now [\(attributes)]"
        case WebhookPayload.groupType:
            return "verified \(id)  group of \(data["count"] as? Int ?? 0) events"
        default:
            break
        }
        var text = "verified \(id)  \(name) (\(machine)): \(previous) → \(state)"
        if state == "drifted", let report = data["report"] as? [String: Any], let delta = report["delta"] as? [String: Any], !delta.isEmpty {
            text += " [\(delta.keys.sorted().joined(separator: ", "))]"
        }
        return text
    }

    /// "slack    <text>" and, indented, one line per Block Kit block (its kind and its text, fields joined).
    static func slackSummary(of body: [UInt8]) -> String {
        guard let message = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return "slack    (unreadable message)" }
        var lines = ["slack    " + (message["text"] as? String ?? "(no text)")]
        for block in message["blocks"] as? [[String: Any]] ?? [] {
            let kind = block["type"] as? String ?? "?"
            var texts: [String] = []
            if let text = (block["text"] as? [String: Any])?["text"] as? String { texts.append(text) }
            for key in ["fields", "elements"] {
                texts += (block[key] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
            }
            // A section of lines (a group's machines, the differing attributes) line by line; fields on one line.
            let parts = texts.count == 1
                ? texts[0].split(separator: "\n").map(String.init) : [texts.joined(separator: " | ").replacingOccurrences(of: "\n", with: " ")]
            for (index, part) in parts.enumerated() {
                let line = part.count > 140 ? String(part.prefix(139)) + "…" : part
                lines.append((index == 0 ? "           [\(kind)] " : "             ") + line)
            }
        }
        return lines.joined(separator: "\n")
    }
}
