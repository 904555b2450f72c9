import DriftWebhooks
import Foundation
import Synchronization
import WebhookReceiver

/// A real HTTP webhook receiver on loopback that records every delivery, checks its Standard Webhooks
/// signature, and answers with a status the test chooses (to simulate outages: error statuses, extra
/// headers such as `Retry-After` or `Location`, or not answering at all).
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

    /// A request that reached the handler, recorded once it is answered (whatever the answer).
    public struct Attempt: Sendable {
        public var webhookID: String
        public var body: [UInt8]
        /// Every request header (lowercased name, value), the signature included.
        public var headers: [(name: String, value: String)]
        /// The status answered.
        public var status: Int
        /// Unix ms when the request arrived.
        public var receivedAtMs: Int64
    }

    /// What the handler shares with the test.
    final class Shared: Sendable {
        let store = Mutex<[Delivery]>([])
        let attempts = Mutex<[Attempt]>([])
        let answer = Mutex(204)
        let answerHeaders = Mutex<[String: String]>([:])
        let hanging = Mutex(false)
        let closed = Mutex(false)
    }

    private let server: LoopbackWebhookServer
    private let shared: Shared

    public var port: Int { server.port }
    public var url: String { server.url }
    /// Verified deliveries that were answered with a 2xx.
    public var deliveries: [Delivery] { shared.store.withLock { $0 } }
    /// Every request answered so far, whatever the status.
    public var attempts: [Attempt] { shared.attempts.withLock { $0 } }
    public func respond(with status: Int) { shared.answer.withLock { $0 = status } }
    /// Answers `status` with these extra response headers (e.g. `Retry-After`, `Location`) from now on.
    public func respond(with status: Int, headers: [String: String]) {
        shared.answerHeaders.withLock { $0 = headers }
        shared.answer.withLock { $0 = status }
    }
    /// While true, requests are accepted and read but never answered (until this is reset or the receiver stops).
    public func hang(_ on: Bool) { shared.hanging.withLock { $0 = on } }

    private init(server: LoopbackWebhookServer, shared: Shared) {
        self.server = server
        self.shared = shared
    }

    /// Starts a receiver on `127.0.0.1:port` (0 picks a free port).
    public static func start(secret: String, port: Int = 0) async throws -> TestWebhookReceiver {
        let signer = try WebhookSigner(secret: secret)
        let shared = Shared()
        let server = try await LoopbackWebhookServer.start(path: "/hook", port: port) { request in
            let id = request.webhookID
            let arrived = request.receivedAtUs / 1000
            while shared.hanging.withLock({ $0 }) && !shared.closed.withLock({ $0 }) {
                try? await Task.sleep(for: .milliseconds(20))
            }
            let status = shared.answer.withLock { $0 }
            let extra = shared.answerHeaders.withLock { $0 }
            shared.attempts.withLock {
                $0.append(Attempt(webhookID: id, body: request.body, headers: request.headers, status: status, receivedAtMs: arrived))
            }
            if (200..<300).contains(status) {
                let timestamp = request.webhookTimestamp
                let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
                let data = object?["data"] as? [String: Any] ?? [:]
                let delivery = Delivery(
                    id: id, timestamp: timestamp,
                    signatureValid: signer.verify(id: id, timestamp: timestamp, body: request.body, header: request.webhookSignature),
                    body: request.body, eventID: data["event_id"] as? String ?? "", machineID: data["machine_id"] as? String ?? "",
                    previous: data["previous_state"] as? String ?? "", state: data["state"] as? String ?? "")
                shared.store.withLock { $0.append(delivery) }
            }
            return .init(status: status, headers: extra)
        }
        return TestWebhookReceiver(server: server, shared: shared)
    }

    public func shutdown() async {
        shared.closed.withLock { $0 = true }
        await server.shutdown()
    }
}
