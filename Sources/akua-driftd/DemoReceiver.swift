import DriftWebhooks
import Foundation
import WebhookReceiver

/// The demo's local webhook receiver: verifies each Standard Webhooks signature and prints the event.
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

    /// "verified evt_… web-2 (mch_demo_web2): in_sync → drifted [cpu, image]".
    static func summary(of body: [UInt8], id: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let data = object["data"] as? [String: Any] else { return "verified \(id) (unreadable body)" }
        let machine = data["machine_id"] as? String ?? "?"
        let name = data["machine_name"] as? String ?? machine
        let previous = data["previous_state"] as? String ?? "?"
        let state = data["state"] as? String ?? "?"
        var text = "verified \(id)  \(name) (\(machine)): \(previous) → \(state)"
        if state == "drifted", let report = data["report"] as? [String: Any], let delta = report["delta"] as? [String: Any], !delta.isEmpty {
            text += " [\(delta.keys.sorted().joined(separator: ", "))]"
        }
        return text
    }
}
