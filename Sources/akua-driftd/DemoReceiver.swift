import DriftWebhooks
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The demo's local webhook receiver: verifies each Standard Webhooks signature and prints the event.
final class DemoReceiver: Sendable {
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    private init(port: Int, group: ServiceGroup, task: Task<Void, Never>) {
        self.port = port
        self.group = group
        self.task = task
    }

    static func start(signer: WebhookSigner, logger: Logger, print emit: @escaping @Sendable (String) -> Void) async throws -> DemoReceiver {
        let router = Router()
        router.post("/hooks/akua-drift") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            let bytes = Array(body.readableBytesView)
            let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
            let timestamp = Int64(request.headers[HTTPField.Name("webhook-timestamp")!] ?? "") ?? 0
            let signature = request.headers[HTTPField.Name("webhook-signature")!] ?? ""
            guard signer.verify(id: id, timestamp: timestamp, body: bytes, header: signature) else {
                emit("webhook  ✗ rejected \(id): bad signature")
                return .unauthorized
            }
            emit("webhook  ✓ \(Self.summary(of: bytes, id: id))")
            return .noContent
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            try? await group.run()
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "demo webhook receiver did not start"])
        }
        return DemoReceiver(port: port, group: group, task: task)
    }

    func shutdown() async {
        await group.triggerGracefulShutdown()
        await task.value
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
