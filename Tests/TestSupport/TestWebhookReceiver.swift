import DriftWebhooks
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP webhook receiver on loopback that records every delivery, checks its Standard Webhooks
/// signature, and answers with a status the test chooses (to simulate outages).
public final class TestWebhookReceiver: Sendable {
    public struct Delivery: Sendable {
        public var id: String
        public var timestamp: Int64
        public var signatureValid: Bool
        public var body: [UInt8]
        public var eventID: String
        public var machineID: String
        public var previous: String
        public var state: String
    }

    /// What the handler shares with the test.
    final class Shared: Sendable {
        let store = Mutex<[Delivery]>([])
        let answer = Mutex(204)
    }

    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Never>
    private let shared: Shared

    public var url: String { "http://127.0.0.1:\(port)/hook" }
    public var deliveries: [Delivery] { shared.store.withLock { $0 } }
    public func respond(with status: Int) { shared.answer.withLock { $0 = status } }

    private init(port: Int, group: ServiceGroup, task: Task<Void, Never>, shared: Shared) {
        self.port = port
        self.group = group
        self.task = task
        self.shared = shared
    }

    public static func start(secret: String) async throws -> TestWebhookReceiver {
        let signer = try WebhookSigner(secret: secret)
        let shared = Shared()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = Array(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            let status = shared.answer.withLock { $0 }
            if (200..<300).contains(status) {
                let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
                let timestamp = Int64(request.headers[HTTPField.Name("webhook-timestamp")!] ?? "") ?? 0
                let signature = request.headers[HTTPField.Name("webhook-signature")!] ?? ""
                let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
                let data = object?["data"] as? [String: Any] ?? [:]
                let delivery = Delivery(
                    id: id, timestamp: timestamp, signatureValid: signer.verify(id: id, timestamp: timestamp, body: body, header: signature),
                    body: body, eventID: data["event_id"] as? String ?? "", machineID: data["machine_id"] as? String ?? "",
                    previous: data["previous_state"] as? String ?? "", state: data["state"] as? String ?? "")
                shared.store.withLock { $0.append(delivery) }
            }
            return Response(status: .init(code: status))
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test-receiver")
        logger.logLevel = .error
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
        guard let port = await iterator.next(), port > 0 else { throw HarnessError("webhook receiver did not start") }
        return TestWebhookReceiver(port: port, group: group, task: task, shared: shared)
    }

    public func shutdown() async {
        await group.triggerGracefulShutdown()
        await task.value
    }
}
